//! Protocol values the session-setup messages carry: privilege levels and RMCP+ status codes.
//! Plain values (no I/O, no keys), kept with the codec so that the error type, the commands and
//! the session machine can all name them without importing each other.

/// IPMI privilege levels (§6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    /// Callback.
    Callback = 1,
    /// User: read-only commands.
    User = 2,
    /// Operator: chassis control, boot options.
    Operator = 3,
    /// Administrator.
    Administrator = 4,
    /// OEM proprietary.
    Oem = 5,
}

impl Privilege {
    /// Decode a privilege nibble.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v & 0x0F {
            1 => Some(Privilege::Callback),
            2 => Some(Privilege::User),
            3 => Some(Privilege::Operator),
            4 => Some(Privilege::Administrator),
            5 => Some(Privilege::Oem),
            _ => None,
        }
    }
}

/// An RMCP+ status code (Table 13-15), as returned in Open Session and RAKP replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RmcpPlusStatus(pub u8);

impl RmcpPlusStatus {
    /// Status 0Dh: unauthorized name (unknown user).
    pub const UNAUTHORIZED_NAME: RmcpPlusStatus = RmcpPlusStatus(0x0D);
    /// Status 09h: invalid role.
    pub const INVALID_ROLE: RmcpPlusStatus = RmcpPlusStatus(0x09);
    /// Status 0Ah: unauthorized role or privilege level requested.
    pub const UNAUTHORIZED_ROLE: RmcpPlusStatus = RmcpPlusStatus(0x0A);

    /// What the status means.
    pub fn meaning(self) -> &'static str {
        match self.0 {
            0x00 => "no errors",
            0x01 => "insufficient resources to create a session",
            0x02 => "invalid session id",
            0x03 => "invalid payload type",
            0x04 => "invalid authentication algorithm",
            0x05 => "invalid integrity algorithm",
            0x06 => "no matching authentication payload",
            0x07 => "no matching integrity payload",
            0x08 => "inactive session id",
            0x09 => "invalid role",
            0x0A => "unauthorized role or privilege level requested",
            0x0B => "insufficient resources to create a session at the requested role",
            0x0C => "invalid name length",
            0x0D => "unauthorized name",
            0x0E => "unauthorized guid",
            0x0F => "invalid integrity check value",
            0x10 => "invalid confidentiality algorithm",
            0x11 => "no cipher suite match with proposed security algorithms",
            0x12 => "illegal or unrecognized parameter",
            _ => "reserved status code",
        }
    }

    /// Whether the status refuses the credentials or the role: invalid or unauthorized role
    /// (09h, 0Ah), invalid name length (0Ch), unknown name (0Dh), unauthorized GUID (0Eh), or
    /// a failed integrity check of the console's key exchange code (0Fh).
    pub fn is_auth_refusal(self) -> bool {
        matches!(self.0, 0x09 | 0x0A | 0x0C..=0x0F)
    }

    /// Whether the BMC has no session slot free (01h, or 0Bh at the requested role): trying
    /// again after another session closes may succeed.
    pub fn is_out_of_resources(self) -> bool {
        matches!(self.0, 0x01 | 0x0B)
    }

    /// Whether the BMC refused the requested role (the client may retry at a lower one).
    pub fn is_role_refusal(self) -> bool {
        self == Self::INVALID_ROLE || self == Self::UNAUTHORIZED_ROLE
    }
}

impl std::fmt::Display for RmcpPlusStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {:#04x} ({})", self.0, self.meaning())
    }
}
