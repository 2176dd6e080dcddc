//! Cipher suites and the RMCP+ cryptography: RAKP key exchange codes, session keys (SIK, K1,
//! K2), per-packet integrity and AES-CBC-128 confidentiality. Pure functions over byte slices.
//!
//! Keys live in [`secrecy`] types; [`SessionKeys`] prints as redacted.

use aes::Aes128;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha1::Sha1;
use sha2::Sha256;

use crate::error::Error;
pub use crate::suite::{CipherSuite, HashAlgorithm};
use crate::wire::DecodeError;

/// Parsing a suite ID lives here rather than beside the enum in `suite.rs`: it returns
/// [`Error`], and the error type names [`CipherSuite`], so the enum sits below the error and
/// this constructor above it.
impl CipherSuite {
    /// Parse a suite ID. Suite 0 is refused here: it can only be chosen by naming
    /// [`CipherSuite::Suite0Insecure`].
    pub fn from_id(id: u8) -> Result<Self, Error> {
        match id {
            17 => Ok(CipherSuite::Suite17),
            3 => Ok(CipherSuite::Suite3),
            0 => Err(Error::CipherSuiteZeroRefused),
            other => Err(Error::UnsupportedCipherSuite(other)),
        }
    }
}

/// HMAC of the concatenation of `parts`, keyed by `key` (full digest).
pub fn hmac(alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
            return Vec::new();
        };
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        HashAlgorithm::Sha1 => run::<Hmac<Sha1>>(key, parts),
        HashAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, parts),
    }
}

/// Constant-time check that `expected` is a prefix of HMAC(`key`, `parts`) (the whole digest
/// when `expected` has the digest length). An empty `expected` never verifies.
pub fn hmac_verify(alg: HashAlgorithm, key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
        let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
            return false;
        };
        for p in parts {
            mac.update(p);
        }
        mac.verify_truncated_left(expected).is_ok()
    }
    if expected.is_empty() || expected.len() > alg.digest_len() {
        return false;
    }
    match alg {
        HashAlgorithm::Sha1 => run::<Hmac<Sha1>>(key, parts, expected),
        HashAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, parts, expected),
    }
}

/// Everything both sides hash during RAKP, exactly as it was on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RakpTranscript {
    /// Console session ID (`SIDm`).
    pub console_session_id: u32,
    /// BMC session ID (`SIDc`).
    pub bmc_session_id: u32,
    /// Console random Rm.
    pub console_random: [u8; 16],
    /// BMC random Rc.
    pub bmc_random: [u8; 16],
    /// BMC GUID as sent in RAKP 2.
    pub bmc_guid: [u8; 16],
    /// RAKP 1 role byte as sent (privilege | name-only bit).
    pub role: u8,
    /// User name as sent.
    pub username: Vec<u8>,
}

impl RakpTranscript {
    fn user_len(&self) -> [u8; 1] {
        [self.username.len() as u8]
    }

    /// Verify the RAKP 2 key exchange code, keyed by the password (Kuid).
    pub fn verify_rakp2(&self, alg: HashAlgorithm, kuid: &[u8], code: &[u8]) -> bool {
        code.len() == alg.digest_len()
            && hmac_verify(
                alg,
                kuid,
                &[
                    &self.console_session_id.to_le_bytes(),
                    &self.bmc_session_id.to_le_bytes(),
                    &self.console_random,
                    &self.bmc_random,
                    &self.bmc_guid,
                    &[self.role],
                    &self.user_len(),
                    &self.username,
                ],
                code,
            )
    }

    /// Compute the RAKP 2 key exchange code (what a BMC sends).
    pub fn rakp2_code(&self, alg: HashAlgorithm, kuid: &[u8]) -> Vec<u8> {
        hmac(
            alg,
            kuid,
            &[
                &self.console_session_id.to_le_bytes(),
                &self.bmc_session_id.to_le_bytes(),
                &self.console_random,
                &self.bmc_random,
                &self.bmc_guid,
                &[self.role],
                &self.user_len(),
                &self.username,
            ],
        )
    }

    /// Compute the RAKP 3 key exchange code, keyed by the password (Kuid).
    pub fn rakp3_code(&self, alg: HashAlgorithm, kuid: &[u8]) -> Vec<u8> {
        hmac(
            alg,
            kuid,
            &[
                &self.bmc_random,
                &self.console_session_id.to_le_bytes(),
                &[self.role],
                &self.user_len(),
                &self.username,
            ],
        )
    }

    /// Derive the session keys; `kg` is the BMC key, or the password when the BMC has none.
    pub fn session_keys(&self, alg: HashAlgorithm, kg: &[u8]) -> SessionKeys {
        let sik = hmac(
            alg,
            kg,
            &[
                &self.console_random,
                &self.bmc_random,
                &[self.role],
                &self.user_len(),
                &self.username,
            ],
        );
        let k1 = hmac(alg, &sik, &[&[0x01; 20]]);
        let k2 = hmac(alg, &sik, &[&[0x02; 20]]);
        SessionKeys {
            sik: sik.into(),
            k1: k1.into(),
            k2: k2.into(),
        }
    }

    /// Verify the RAKP 4 integrity check value: HMAC keyed by SIK over `Rm ‖ SIDc ‖ GUIDc`,
    /// truncated to `icv_len`.
    pub fn verify_rakp4(
        &self,
        alg: HashAlgorithm,
        keys: &SessionKeys,
        icv_len: usize,
        icv: &[u8],
    ) -> bool {
        icv.len() == icv_len
            && hmac_verify(
                alg,
                keys.sik.expose_secret(),
                &[
                    &self.console_random,
                    &self.bmc_session_id.to_le_bytes(),
                    &self.bmc_guid,
                ],
                icv,
            )
    }
}

/// Session keys derived from RAKP. `Debug` prints no key material.
#[derive(Clone)]
pub struct SessionKeys {
    /// Session integrity key.
    pub sik: SecretSlice<u8>,
    /// K1: the per-packet integrity key.
    pub k1: SecretSlice<u8>,
    /// K2: the first 16 bytes are the AES key.
    pub k2: SecretSlice<u8>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys([REDACTED])")
    }
}

impl SessionKeys {
    /// The per-packet auth code over `signed` (auth type through Next Header), truncated.
    pub fn auth_code(&self, alg: HashAlgorithm, len: usize, signed: &[u8]) -> Vec<u8> {
        let mut code = hmac(alg, self.k1.expose_secret(), &[signed]);
        code.truncate(len);
        code
    }

    /// Constant-time check of a received auth code.
    pub fn verify_auth_code(
        &self,
        alg: HashAlgorithm,
        len: usize,
        signed: &[u8],
        code: &[u8],
    ) -> bool {
        code.len() == len && hmac_verify(alg, self.k1.expose_secret(), &[signed], code)
    }

    fn aes_key(&self) -> [u8; 16] {
        let mut key = [0u8; 16];
        let k2 = self.k2.expose_secret();
        let n = k2.len().min(16);
        key[..n].copy_from_slice(&k2[..n]);
        key
    }

    /// Encrypt an IPMI payload: returns IV ‖ AES-CBC-128(K2[0..16], IV, data ‖ pad ‖ pad length).
    pub fn encrypt(&self, iv: [u8; 16], data: &[u8]) -> Vec<u8> {
        let mut buf = crate::wire::confidentiality_pad(data);
        let len = buf.len();
        let key = self.aes_key();
        let enc = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into());
        // The padded length is a multiple of 16, so NoPadding cannot fail.
        let ok = enc.encrypt_padded::<NoPadding>(&mut buf, len).is_ok();
        debug_assert!(ok);
        let mut out = Vec::with_capacity(16 + len);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypt an encrypted payload (IV ‖ ciphertext) and strip the confidentiality pad.
    pub fn decrypt(&self, payload: &[u8]) -> Result<Vec<u8>, DecodeError> {
        DecodeError::need("aes-cbc-128 payload", 32, payload.len())?;
        let (iv, ct) = payload.split_at(16);
        if ct.len() % 16 != 0 {
            return Err(DecodeError::LengthMismatch {
                what: "aes-cbc-128 ciphertext (multiple of 16)",
                declared: ct.len().next_multiple_of(16),
                actual: ct.len(),
            });
        }
        let mut iv_arr = [0u8; 16];
        iv_arr.copy_from_slice(iv);
        let key = self.aes_key();
        let mut buf = ct.to_vec();
        let dec = cbc::Decryptor::<Aes128>::new(&key.into(), &iv_arr.into());
        let plain =
            dec.decrypt_padded::<NoPadding>(&mut buf)
                .map_err(|_| DecodeError::InvalidValue {
                    what: "aes-cbc-128 ciphertext",
                    value: 0,
                })?;
        Ok(crate::wire::confidentiality_unpad(plain)?.to_vec())
    }
}
