//! TLS for the HTTP client: the backend this build has, the trust settings applied to it,
//! certificate pinning, and the helpers that recognise a TLS refusal in an error chain.
//!
//! Two backends, chosen by cargo features: `rustls` (the default) and `native-tls` (the
//! platform's library, preferred when both are on, since asking for it is deliberate). Pinning
//! needs rustls: native-tls offers no custom verifier, and checking the certificate after the
//! handshake would be too late, the credentials being already sent.
//!
//! A BMC's certificate is usually self-signed, names neither the address it is reached at nor
//! a CA anyone trusts, and is often expired. Pinning it is the honest answer: the identity is
//! the certificate itself, so the name, the issuer and the validity dates are not checked. The
//! handshake signature is still verified against the pinned certificate's key, so a server
//! that merely replays the certificate without its private key is refused.
//!
//! This module reports its own [`TlsSetupError`] rather than the crate's `Error`, so it imports
//! nothing from the crate (`error.rs` asks it for rejection reasons).

#[cfg(feature = "rustls")]
pub(crate) use pinning::pinned_client_config;

/// A rustls configuration that trusts only the certificates with one of these fingerprints
/// (see [`parse_sha256_pins`]).
#[cfg(feature = "rustls")]
pub(crate) fn pinned_sha256_client_config(
    fingerprints: &str,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    pinning::client_config(pinning::Pins::Sha256(parse_sha256_pins(fingerprints)?))
}
use reqwest::ClientBuilder;

/// A SHA-256 digest: what a fingerprint pin names.
pub(crate) type Sha256 = [u8; 32];

/// Parses the text of a fingerprint pin: one or more SHA-256 fingerprints separated by commas
/// or white space, each 64 hex digits, colons between the bytes allowed, `sha256:` prefix
/// optional (`sha256:AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints it without its
/// `SHA256 Fingerprint=` label). Several fingerprints are each accepted, for a rotation.
pub(crate) fn parse_sha256_pins(text: &str) -> Result<Vec<Sha256>, TlsSetupError> {
    let refused = || {
        TlsSetupError::new(
            "the pinned fingerprint is not a SHA-256 fingerprint (64 hex digits, colons \
             allowed, optional sha256: prefix)",
        )
    };
    let mut pins = Vec::new();
    for word in text.split([',', ' ', '\t', '\n']).filter(|w| !w.is_empty()) {
        let hex = match word.split_once(':') {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("sha256") => rest,
            _ => word,
        };
        let digits: Vec<u8> = hex.bytes().filter(|b| *b != b':').collect();
        if digits.len() != 64 {
            return Err(refused());
        }
        let mut digest = [0_u8; 32];
        for (byte, pair) in digest.iter_mut().zip(digits.chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| refused())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| refused())?;
        }
        pins.push(digest);
    }
    if pins.is_empty() {
        return Err(refused());
    }
    Ok(pins)
}

/// A fingerprint as people compare them: `sha256:AB:CD:…` (upper-case hex, colon-separated).
// Only the rustls verifier reports a mismatch with fingerprints.
#[cfg_attr(not(feature = "rustls"), allow(dead_code))]
pub(crate) fn format_sha256(digest: &Sha256) -> String {
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("sha256:{}", hex.join(":"))
}

/// Why TLS settings could not be applied; the client builder reports it as
/// `Error::TlsConfig`.
#[derive(Debug)]
pub(crate) struct TlsSetupError {
    /// What was wrong.
    pub(crate) reason: &'static str,
    /// The parser's error, when there is one.
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TlsSetupError {
    pub(crate) fn new(reason: &'static str) -> Self {
        Self {
            reason,
            source: None,
        }
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
const NO_BACKEND: &str =
    "this build has no TLS backend: enable ferrofish's `rustls` or `native-tls` feature";

/// Selects the backend of this build explicitly, so having both compiled in is not left to
/// reqwest's own preference.
fn with_backend(http: ClientBuilder) -> ClientBuilder {
    #[cfg(feature = "native-tls")]
    let http = http.tls_backend_native();
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    let http = http.tls_backend_rustls();
    http
}

/// The platform's (native-tls) or Mozilla's (rustls) roots. Without a backend, only a plain
/// `http://` endpoint can be served.
#[allow(
    clippy::unnecessary_wraps,
    reason = "an error only in builds without a TLS backend"
)]
pub(crate) fn system_roots(
    http: ClientBuilder,
    https: bool,
) -> Result<ClientBuilder, TlsSetupError> {
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    if https {
        return Err(TlsSetupError::new(NO_BACKEND));
    }
    let _ = https;
    Ok(with_backend(http))
}

/// Trusts only the CA certificates of `pem`.
#[allow(
    clippy::needless_pass_by_value,
    reason = "unused only in builds without a TLS backend"
)]
pub(crate) fn ca_bundle(http: ClientBuilder, pem: &str) -> Result<ClientBuilder, TlsSetupError> {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    {
        let certs =
            reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| TlsSetupError {
                reason: "the CA bundle is not valid PEM",
                source: Some(Box::new(e)),
            })?;
        if certs.is_empty() {
            return Err(TlsSetupError::new("the CA bundle holds no certificate"));
        }
        Ok(with_backend(http).tls_certs_only(certs))
    }
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    {
        let _ = (http, pem);
        Err(TlsSetupError::new(NO_BACKEND))
    }
}

/// Accepts exactly the certificates of `pem` as the BMC's (see the module docs). Needs rustls.
#[allow(
    clippy::needless_pass_by_value,
    reason = "unused only in builds without rustls"
)]
pub(crate) fn pinned(http: ClientBuilder, pem: &str) -> Result<ClientBuilder, TlsSetupError> {
    #[cfg(feature = "rustls")]
    {
        Ok(http.tls_backend_preconfigured(pinned_client_config(pem)?))
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = (http, pem);
        Err(TlsSetupError::new(
            "certificate pinning needs the rustls TLS backend: enable ferrofish's `rustls` \
             feature, or trust the certificate as a CA bundle",
        ))
    }
}

/// Accepts exactly the certificates whose SHA-256 fingerprint is one of `fingerprints` (see
/// [`parse_sha256_pins`] for the text). Needs rustls, as the PEM pin does.
#[allow(
    clippy::needless_pass_by_value,
    reason = "unused only in builds without rustls"
)]
pub(crate) fn pinned_sha256(
    http: ClientBuilder,
    fingerprints: &str,
) -> Result<ClientBuilder, TlsSetupError> {
    let pins = parse_sha256_pins(fingerprints)?;
    #[cfg(feature = "rustls")]
    {
        Ok(http.tls_backend_preconfigured(pinning::client_config(pinning::Pins::Sha256(pins))?))
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = (http, pins);
        Err(TlsSetupError::new(
            "certificate pinning needs the rustls TLS backend: enable ferrofish's `rustls` \
             feature, or trust the certificate as a CA bundle",
        ))
    }
}

/// Turns certificate verification off (the caller logs the warning).
#[allow(
    clippy::unnecessary_wraps,
    clippy::needless_pass_by_value,
    reason = "an error only in builds without a TLS backend"
)]
pub(crate) fn accept_invalid_certs(http: ClientBuilder) -> Result<ClientBuilder, TlsSetupError> {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    {
        Ok(with_backend(http).tls_danger_accept_invalid_certs(true))
    }
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    {
        let _ = http;
        Err(TlsSetupError::new(NO_BACKEND))
    }
}

/// When `err` (or anything in its source chain) is a refusal by the TLS backend, says why in a
/// few words.
///
/// An io error hides its payload from `source()` (it returns the payload's source), and the
/// TLS stack nests io errors, so an io error is followed into its payload instead.
pub(crate) fn rejection_reason(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(current) = next {
        #[cfg(feature = "rustls")]
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(pinning::describe(tls));
        }
        #[cfg(feature = "native-tls")]
        if let Some(tls) = current.downcast_ref::<native_tls::Error>() {
            return Some(tls.to_string());
        }
        next = match current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(payload) => Some(payload as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

#[cfg(test)]
mod backend_tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_the_forms_people_copy_them() {
        let digest: Sha256 = std::array::from_fn(|i| u8::try_from(i * 7).unwrap());
        let shown = format_sha256(&digest);
        assert!(shown.starts_with("sha256:00:07:0E:"), "{shown}");
        let bare_hex = shown
            .trim_start_matches("sha256:")
            .replace(':', "")
            .to_ascii_lowercase();
        let openssl_style = shown.trim_start_matches("sha256:").to_owned();
        for text in [
            shown.clone(),
            bare_hex.clone(),
            openssl_style,
            format!("SHA256:{bare_hex}"),
        ] {
            assert_eq!(parse_sha256_pins(&text).unwrap(), vec![digest], "{text}");
        }
        let other = [0xAB_u8; 32];
        let two = format!("{shown}, {}", format_sha256(&other));
        assert_eq!(parse_sha256_pins(&two).unwrap(), vec![digest, other]);
    }

    #[test]
    fn text_that_is_not_a_fingerprint_is_refused() {
        for bad in [
            "",
            " , ",
            "bmc.pem",
            &"ab".repeat(31),
            &"ab".repeat(33),
            &"zz".repeat(32),
            &format!("sha1:{}", "ab".repeat(32)),
            &format!("{}é", "a".repeat(63)),
        ] {
            let err = parse_sha256_pins(bad).unwrap_err();
            assert!(
                err.reason.contains("not a SHA-256 fingerprint"),
                "{bad:?}: {}",
                err.reason
            );
        }
    }

    #[cfg(not(feature = "rustls"))]
    #[test]
    fn pinning_without_rustls_is_a_typed_error() {
        let cert = rcgen::generate_simple_self_signed(vec!["bmc.example".to_owned()]).unwrap();
        let err = pinned(ClientBuilder::new(), &cert.cert.pem()).unwrap_err();
        assert!(
            err.reason.contains("needs the rustls TLS backend"),
            "{}",
            err.reason
        );
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    #[test]
    fn without_a_backend_only_plain_http_is_served() {
        assert!(system_roots(ClientBuilder::new(), false).is_ok());
        let refused = [
            system_roots(ClientBuilder::new(), true),
            ca_bundle(ClientBuilder::new(), "pem"),
            accept_invalid_certs(ClientBuilder::new()),
        ];
        for result in refused {
            assert_eq!(result.unwrap_err().reason, NO_BACKEND);
        }
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[test]
    fn a_ca_bundle_builds_a_client_and_garbage_is_refused() {
        let cert = rcgen::generate_simple_self_signed(vec!["bmc.example".to_owned()]).unwrap();
        let http = ca_bundle(ClientBuilder::new(), &cert.cert.pem()).unwrap();
        assert!(http.build().is_ok());
        let err = ca_bundle(ClientBuilder::new(), "no pem here").unwrap_err();
        assert_eq!(err.reason, "the CA bundle holds no certificate");
    }
}

#[cfg(feature = "rustls")]
mod pinning {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::WebPkiSupportedAlgorithms;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

    use super::{Sha256, TlsSetupError, format_sha256};

    /// The certificates of a pin, parsed from PEM. Every certificate in the PEM is an accepted
    /// end-entity certificate (so a rotation can pin the old and the new one for a while).
    pub(crate) fn parse_pinned_pem(
        pem: &str,
    ) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TlsSetupError::new("the pinned certificate is not valid PEM"))?;
        if certs.is_empty() {
            return Err(TlsSetupError::new("the pinned PEM holds no certificate"));
        }
        Ok(certs)
    }

    /// What a pin accepts as the BMC's end-entity certificate.
    #[derive(Debug)]
    pub(crate) enum Pins {
        /// Exactly these certificates, byte for byte.
        Certificates(Vec<CertificateDer<'static>>),
        /// A certificate whose DER has one of these SHA-256 digests.
        Sha256(Vec<Sha256>),
    }

    impl Pins {
        /// Whether `leaf` is pinned; when not, the error says why (for a fingerprint pin,
        /// naming both fingerprints).
        fn check(&self, leaf: &CertificateDer<'_>) -> Result<(), PinMismatch> {
            match self {
                Pins::Certificates(pinned) => {
                    if pinned.iter().any(|pin| pin.as_ref() == leaf.as_ref()) {
                        Ok(())
                    } else {
                        Err(PinMismatch::Certificate)
                    }
                }
                Pins::Sha256(pinned) => {
                    let presented = sha256(leaf.as_ref());
                    if pinned.contains(&presented) {
                        Ok(())
                    } else {
                        Err(PinMismatch::Fingerprint {
                            presented: format_sha256(&presented),
                            pinned: pinned
                                .iter()
                                .map(format_sha256)
                                .collect::<Vec<_>>()
                                .join(", "),
                        })
                    }
                }
            }
        }
    }

    /// The SHA-256 digest of a certificate's DER, from the provider rustls already uses.
    fn sha256(der: &[u8]) -> Sha256 {
        let suite = rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
        let Some(tls13) = suite.tls13() else {
            unreachable!("TLS13_AES_128_GCM_SHA256 is a TLS 1.3 suite")
        };
        let mut digest = [0_u8; 32];
        digest.copy_from_slice(tls13.common.hash_provider.hash(der).as_ref());
        digest
    }

    /// A rustls client configuration that trusts only the pinned certificates.
    pub(crate) fn pinned_client_config(pem: &str) -> Result<rustls::ClientConfig, TlsSetupError> {
        client_config(Pins::Certificates(parse_pinned_pem(pem)?))
    }

    /// A rustls client configuration that trusts only what `pins` accepts.
    pub(crate) fn client_config(pins: Pins) -> Result<rustls::ClientConfig, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = PinnedLeafVerifier {
            pins,
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|_| TlsSetupError::new("the TLS provider supports no safe protocol version"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        // The same ALPN offer reqwest makes with its own configuration.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// Accepts a server iff its end-entity certificate is one the pins accept.
    #[derive(Debug)]
    struct PinnedLeafVerifier {
        pins: Pins,
        algorithms: WebPkiSupportedAlgorithms,
    }

    /// The error a pin mismatch is reported with, recognised by [`rejection_reason`].
    #[derive(Debug, thiserror::Error)]
    pub(crate) enum PinMismatch {
        /// A PEM pin: the leaf is none of the pinned certificates.
        #[error("the BMC's certificate is not the pinned certificate")]
        Certificate,
        /// A fingerprint pin: both fingerprints, so the operator can tell a rotation from an
        /// attack.
        #[error(
            "the BMC's certificate has SHA-256 fingerprint {presented}, not the pinned {pinned}"
        )]
        Fingerprint {
            /// The fingerprint of the certificate the BMC presented.
            presented: String,
            /// The pinned fingerprint(s), comma-separated.
            pinned: String,
        },
    }

    impl ServerCertVerifier for PinnedLeafVerifier {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            // Only the leaf counts: a pinned CA must not vouch for certificates it signed.
            match self.pins.check(end_entity) {
                Ok(()) => Ok(ServerCertVerified::assertion()),
                Err(mismatch) => Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    OtherError(Arc::new(mismatch)),
                ))),
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    }

    pub(super) fn describe(err: &rustls::Error) -> String {
        if let rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) = err
            && let Some(mismatch) = inner.downcast_ref::<PinMismatch>()
        {
            return mismatch.to_string();
        }
        err.to_string()
    }

    #[cfg(test)]
    mod tests {
        use super::super::rejection_reason;
        use super::*;

        #[test]
        fn a_pem_without_certificates_is_refused() {
            let err = parse_pinned_pem("not a pem").unwrap_err();
            assert_eq!(err.reason, "the pinned PEM holds no certificate");
            let broken = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
            let err = parse_pinned_pem(broken).unwrap_err();
            assert_eq!(err.reason, "the pinned certificate is not valid PEM");
            let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
            let err = parse_pinned_pem(key_only).unwrap_err();
            assert_eq!(err.reason, "the pinned PEM holds no certificate");
        }

        #[test]
        fn only_the_pinned_leaf_is_verified() {
            let pinned = CertificateDer::from(vec![1_u8, 2, 3]);
            let verifier = PinnedLeafVerifier {
                pins: Pins::Certificates(vec![pinned.clone()]),
                algorithms: rustls::crypto::aws_lc_rs::default_provider()
                    .signature_verification_algorithms,
            };
            let name = ServerName::try_from("bmc.example").unwrap();
            let now = UnixTime::now();
            assert!(
                verifier
                    .verify_server_cert(&pinned, &[], &name, &[], now)
                    .is_ok()
            );
            // The pinned certificate as an intermediate does not make another leaf acceptable.
            let other = CertificateDer::from(vec![9_u8]);
            let err = verifier
                .verify_server_cert(&other, &[pinned], &name, &[], now)
                .unwrap_err();
            assert_eq!(
                rejection_reason(&err).as_deref(),
                Some("the BMC's certificate is not the pinned certificate")
            );
        }

        #[test]
        fn a_fingerprint_pin_accepts_its_leaf_and_names_both_on_a_mismatch() {
            let leaf = CertificateDer::from(vec![1_u8, 2, 3]);
            let verifier = PinnedLeafVerifier {
                pins: Pins::Sha256(vec![sha256(leaf.as_ref())]),
                algorithms: rustls::crypto::aws_lc_rs::default_provider()
                    .signature_verification_algorithms,
            };
            let name = ServerName::try_from("bmc.example").unwrap();
            let now = UnixTime::now();
            assert!(
                verifier
                    .verify_server_cert(&leaf, &[], &name, &[], now)
                    .is_ok()
            );
            // The pinned certificate as an intermediate does not make another leaf acceptable.
            let other = CertificateDer::from(vec![9_u8]);
            let err = verifier
                .verify_server_cert(&other, std::slice::from_ref(&leaf), &name, &[], now)
                .unwrap_err();
            let reason = rejection_reason(&err).unwrap();
            assert_eq!(
                reason,
                format!(
                    "the BMC's certificate has SHA-256 fingerprint {}, not the pinned {}",
                    format_sha256(&sha256(&[9])),
                    format_sha256(&sha256(&[1, 2, 3]))
                )
            );
        }

        #[test]
        fn the_digest_is_sha256() {
            // FIPS 180-2's "abc" test vector.
            assert_eq!(
                format_sha256(&sha256(b"abc")),
                "sha256:BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:\
                 B4:10:FF:61:F2:00:15:AD"
            );
        }

        #[test]
        fn rejection_is_found_inside_io_errors() {
            let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
            // As tokio-rustls and hyper-util nest it: an io error inside an io error.
            let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
            let io = std::io::Error::other(inner);
            assert!(rejection_reason(&io).is_some_and(|r| r.contains("UnknownIssuer")));
            let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
            assert_eq!(rejection_reason(&plain), None);
        }
    }
}
