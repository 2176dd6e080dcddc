//! Configuration of one IPMI server: users, BMC key, cipher suites, timeouts, faults.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox};

use crate::error::MockBmcError;

/// An IPMI privilege level (IPMI v2.0 §6.8), ordered from lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    /// 1: callback.
    Callback,
    /// 2: user (read-only commands).
    User,
    /// 3: operator (chassis control, boot options).
    Operator,
    /// 4: administrator.
    Administrator,
    /// 5: OEM proprietary.
    Oem,
}

impl Privilege {
    /// Decodes the low nibble of a privilege byte; 0 and reserved values give `None`.
    pub fn from_level(level: u8) -> Option<Self> {
        match level & 0x0F {
            1 => Some(Self::Callback),
            2 => Some(Self::User),
            3 => Some(Self::Operator),
            4 => Some(Self::Administrator),
            5 => Some(Self::Oem),
            _ => None,
        }
    }

    /// The level as it goes on the wire (1–5).
    pub fn level(self) -> u8 {
        match self {
            Self::Callback => 1,
            Self::User => 2,
            Self::Operator => 3,
            Self::Administrator => 4,
            Self::Oem => 5,
        }
    }
}

/// A cipher suite the server can accept (Table 22-19). Suite 0 (no authentication) has no
/// variant on purpose: it is an authentication bypass (CVE-2013-4782) and is always refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherSuite {
    /// Suite 3: RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128.
    Suite3,
    /// Suite 17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128.
    Suite17,
}

impl CipherSuite {
    /// The suite ID (3 or 17).
    pub fn id(self) -> u8 {
        match self {
            Self::Suite3 => 3,
            Self::Suite17 => 17,
        }
    }

    /// The (authentication, integrity, confidentiality) algorithm numbers (§13.28).
    pub fn algorithms(self) -> (u8, u8, u8) {
        match self {
            Self::Suite3 => (0x01, 0x01, 0x01),
            Self::Suite17 => (0x03, 0x04, 0x01),
        }
    }
}

/// A password or BMC key (Kg): a 20-byte field, zero-padded as IPMI stores it.
///
/// Kept in a [`secrecy`] box (zeroed on drop); its `Debug` never shows the bytes.
pub struct IpmiKey {
    padded: SecretBox<[u8; 20]>,
}

impl Clone for IpmiKey {
    fn clone(&self) -> Self {
        Self {
            padded: SecretBox::new(Box::new(*self.padded.expose_secret())),
        }
    }
}

impl PartialEq for IpmiKey {
    fn eq(&self, other: &Self) -> bool {
        super::compare::constant_time_eq(self.padded.expose_secret(), other.padded.expose_secret())
    }
}

impl Eq for IpmiKey {}

impl IpmiKey {
    /// A key from raw bytes (up to 20; e.g. what `ipmitool -y HEX` gives).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MockBmcError> {
        Self::named("key", bytes)
    }

    /// A key from ASCII text (up to 20 bytes; e.g. what `ipmitool -k TEXT` gives).
    pub fn from_text(text: &str) -> Result<Self, MockBmcError> {
        Self::named("key", text.as_bytes())
    }

    fn named(what: &'static str, bytes: &[u8]) -> Result<Self, MockBmcError> {
        let mut padded = SecretBox::new(Box::new([0; 20]));
        padded
            .expose_secret_mut()
            .get_mut(..bytes.len())
            .ok_or(MockBmcError::KeyTooLong {
                what,
                length: bytes.len(),
            })?
            .copy_from_slice(bytes);
        Ok(Self { padded })
    }

    /// The 20-byte zero-padded field, which is what keys every HMAC.
    pub(crate) fn padded(&self) -> &[u8; 20] {
        self.padded.expose_secret()
    }
}

impl fmt::Debug for IpmiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IpmiKey([redacted])")
    }
}

/// One user account of the mock BMC.
#[derive(Debug, Clone)]
pub struct IpmiUser {
    name: String,
    password: IpmiKey,
    max_privilege: Privilege,
}

impl IpmiUser {
    /// A user with a name (1–16 bytes, no NUL), a password (up to 20 bytes) and the highest
    /// privilege it may obtain.
    pub fn new(name: &str, password: &str, max_privilege: Privilege) -> Result<Self, MockBmcError> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > 16 || bytes.contains(&0) {
            return Err(MockBmcError::InvalidUserName {
                length: bytes.len(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            password: IpmiKey::named("password", password.as_bytes())?,
            max_privilege,
        })
    }

    /// The user name bytes.
    pub fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }

    /// The highest privilege this user may obtain.
    pub fn max_privilege(&self) -> Privilege {
        self.max_privilege
    }

    pub(crate) fn password(&self) -> &IpmiKey {
        &self.password
    }
}

/// Faults to inject; settable at runtime through [`IpmiServerHandle::set_faults`].
///
/// [`IpmiServerHandle::set_faults`]: super::IpmiServerHandle::set_faults
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpmiFaults {
    /// Drop every Nth reply (counted over all replies of this server); 0 or 1 drop every
    /// reply, `None` drops none.
    pub drop_every_nth_reply: Option<u32>,
    /// Wait this long before sending each reply.
    pub reply_delay: Duration,
    /// Suites still listed by Get Channel Cipher Suites but refused in Open Session (status
    /// 11h), like BMCs that advertise suite 17 and then fail it.
    pub refused_suites: Vec<CipherSuite>,
}

/// Deviations of real BMC firmware the server can imitate, so clients can be tested against
/// them. All off by default (a spec-shaped BMC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IpmiQuirks {
    /// Stay silent on Get Channel Authentication Capabilities sent with the "IPMI v2.0
    /// extended data" bit (8Eh) and answer only the IPMI 1.5 form (0Eh), like the BMCs that
    /// made ipmitool retry without the bit (pitfall P12).
    pub ignore_extended_auth_capabilities: bool,
    /// Refuse Set Session Privilege Level above this level with 81h (exceeds the limit), even
    /// though RAKP granted more: BMCs whose channel limit is lower than the user's.
    pub session_privilege_ceiling: Option<Privilege>,
    /// Answer Set and Get System Boot Options for parameter 3 (boot flag valid bit clearing)
    /// with 80h (parameter not supported), as some BMCs do.
    pub boot_parameter_3_unsupported: bool,
}

/// Configuration of one IPMI server (one node). Start from [`IpmiConfig::new`] and change
/// the fields you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IpmiConfig {
    /// The accounts; looked up by name in RAKP 1.
    pub users: Vec<IpmiUser>,
    /// The BMC key Kg; when set, the session integrity key is keyed with it (§13.31).
    pub bmc_key: Option<IpmiKey>,
    /// The suites listed and accepted, in the order they are listed.
    pub cipher_suites: Vec<CipherSuite>,
    /// A session with no valid packet for this long is closed.
    pub idle_timeout: Duration,
    /// How many sessions (including half-open ones) may exist at once.
    pub max_sessions: usize,
    /// The 16-byte system GUID sent in RAKP 2 and Get System GUID.
    pub guid: [u8; 16],
    /// The LAN channel number reported instead of 0Eh ("this channel").
    pub channel: u8,
    /// Faults to inject from the start.
    pub faults: IpmiFaults,
    /// Firmware deviations to imitate.
    pub quirks: IpmiQuirks,
}

impl IpmiConfig {
    /// A configuration with these users, suites 17 and 3, no Kg, a 60 s idle timeout, room for
    /// 16 sessions and no faults.
    pub fn new(users: Vec<IpmiUser>) -> Self {
        Self {
            users,
            bmc_key: None,
            cipher_suites: vec![CipherSuite::Suite17, CipherSuite::Suite3],
            idle_timeout: Duration::from_secs(60),
            max_sessions: 16,
            guid: *b"ferrofish-mock\x00\x01",
            channel: 1,
            faults: IpmiFaults::default(),
            quirks: IpmiQuirks::default(),
        }
    }

    /// The highest privilege any configured user may obtain (what Open Session reports when
    /// asked for "highest").
    pub(crate) fn highest_privilege(&self) -> Privilege {
        self.users
            .iter()
            .map(IpmiUser::max_privilege)
            .max()
            .unwrap_or(Privilege::User)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_debug_or_errors() {
        let mut config = IpmiConfig::new(vec![
            IpmiUser::new("admin", "s3cr3t-passw0rd", Privilege::Administrator).unwrap(),
        ]);
        config.bmc_key = Some(IpmiKey::from_text("kg-very-secret").unwrap());
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
        // Padded bytes must not leak either, e.g. as a byte list.
        assert!(!shown.contains("115, 51"), "{shown}");
        assert!(shown.contains("admin"));

        let too_long = IpmiUser::new("admin", "twenty-one-characters", Privilege::User);
        let message = too_long.unwrap_err().to_string();
        assert_eq!(message, "password is 21 bytes long; IPMI allows at most 20");
    }

    #[test]
    fn keys_are_zero_padded_to_twenty_bytes() {
        let key = IpmiKey::from_text("password").unwrap();
        assert_eq!(&key.padded()[..8], b"password");
        assert_eq!(&key.padded()[8..], &[0; 12]);
        assert!(IpmiKey::from_bytes(&[0xAB; 20]).is_ok());
        assert!(IpmiKey::from_bytes(&[0xAB; 21]).is_err());
    }

    #[test]
    fn user_names_are_validated() {
        assert!(IpmiUser::new("", "x", Privilege::User).is_err());
        assert!(IpmiUser::new("seventeen-chars!!", "x", Privilege::User).is_err());
        assert!(IpmiUser::new("a\0b", "x", Privilege::User).is_err());
        assert!(IpmiUser::new("sixteen-chars!!!", "x", Privilege::User).is_ok());
    }
}
