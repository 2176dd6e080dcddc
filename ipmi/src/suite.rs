//! The cipher suites this client implements and the hashes behind them: plain values with no
//! cryptography, so that [`crate::Error`] can name a suite without importing the code that
//! uses it. Parsing a suite ID ([`CipherSuite::from_id`]) lives in [`crate::crypto`], above the
//! error type it returns.

use crate::wire::AlgorithmTriple;

/// An RMCP+ cipher suite this client implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherSuite {
    /// Suite 17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128. Tried first.
    Suite17,
    /// Suite 3: RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128. The fallback.
    Suite3,
    /// Suite 0: no authentication, no integrity, no confidentiality. Any password works on a BMC
    /// that allows it (CVE-2013-4782); only used when named explicitly.
    Suite0Insecure,
}

impl CipherSuite {
    /// The suite ID (Table 22-19).
    pub fn id(self) -> u8 {
        match self {
            CipherSuite::Suite17 => 17,
            CipherSuite::Suite3 => 3,
            CipherSuite::Suite0Insecure => 0,
        }
    }

    /// The algorithm numbers proposed in Open Session.
    pub fn algorithms(self) -> AlgorithmTriple {
        match self {
            CipherSuite::Suite17 => AlgorithmTriple {
                auth: 0x03,
                integrity: 0x04,
                confidentiality: 0x01,
            },
            CipherSuite::Suite3 => AlgorithmTriple {
                auth: 0x01,
                integrity: 0x01,
                confidentiality: 0x01,
            },
            CipherSuite::Suite0Insecure => AlgorithmTriple {
                auth: 0x00,
                integrity: 0x00,
                confidentiality: 0x00,
            },
        }
    }

    /// The RAKP authentication hash.
    pub fn auth_hash(self) -> Option<HashAlgorithm> {
        match self {
            CipherSuite::Suite17 => Some(HashAlgorithm::Sha256),
            CipherSuite::Suite3 => Some(HashAlgorithm::Sha1),
            CipherSuite::Suite0Insecure => None,
        }
    }

    /// The per-packet integrity algorithm: hash and auth code length.
    pub fn integrity(self) -> Option<(HashAlgorithm, usize)> {
        match self {
            CipherSuite::Suite17 => Some((HashAlgorithm::Sha256, 16)),
            CipherSuite::Suite3 => Some((HashAlgorithm::Sha1, 12)),
            CipherSuite::Suite0Insecure => None,
        }
    }

    /// Whether payloads are AES-CBC-128 encrypted.
    pub fn encrypts(self) -> bool {
        !matches!(self, CipherSuite::Suite0Insecure)
    }

    /// Length of the per-packet auth code (0 without integrity).
    pub fn auth_code_len(self) -> usize {
        self.integrity().map_or(0, |(_, len)| len)
    }

    /// Length of the RAKP 4 integrity check value.
    pub fn rakp4_icv_len(self) -> usize {
        match self {
            CipherSuite::Suite17 => 16,
            CipherSuite::Suite3 => 12,
            CipherSuite::Suite0Insecure => 0,
        }
    }
}

impl std::fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.id())
    }
}

/// The hash behind an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-1 (20-byte digest).
    Sha1,
    /// SHA-256 (32-byte digest).
    Sha256,
}

impl HashAlgorithm {
    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha256 => 32,
        }
    }
}
