//! Certificate pinning: a rustls verifier that accepts exactly the pinned end-entity
//! certificates, and the helpers that recognise a TLS refusal in an error chain.
//!
//! A BMC's certificate is usually self-signed, names neither the address it is reached at nor
//! a CA anyone trusts, and is often expired. Pinning it is the honest answer: the identity is
//! the certificate itself, so the name, the issuer and the validity dates are not checked. The
//! handshake signature is still verified against the pinned certificate's key, so a server
//! that merely replays the certificate without its private key is refused.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::Error;

/// The certificates of a pin, parsed from PEM. Every certificate in the PEM is an accepted
/// end-entity certificate (so a rotation can pin the old and the new one for a while).
pub(crate) fn parse_pinned_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::TlsConfig {
            reason: "the pinned certificate is not valid PEM",
            source: None,
        })?;
    if certs.is_empty() {
        return Err(Error::TlsConfig {
            reason: "the pinned PEM holds no certificate",
            source: None,
        });
    }
    Ok(certs)
}

/// A rustls client configuration that trusts only the pinned certificates.
pub(crate) fn pinned_client_config(pem: &str) -> Result<rustls::ClientConfig, Error> {
    let pinned = parse_pinned_pem(pem)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedLeafVerifier {
        pinned,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|_| Error::TlsConfig {
            reason: "the TLS provider supports no safe protocol version",
            source: None,
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // The same ALPN offer reqwest makes with its own configuration.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts a server iff its end-entity certificate is byte-for-byte one of the pinned ones.
#[derive(Debug)]
struct PinnedLeafVerifier {
    pinned: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// The error a pin mismatch is reported with, recognised by [`rejection_reason`].
#[derive(Debug, thiserror::Error)]
#[error("the BMC's certificate is not the pinned certificate")]
pub(crate) struct PinMismatch;

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
        if self
            .pinned
            .iter()
            .any(|pin| pin.as_ref() == end_entity.as_ref())
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch)),
            )))
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

/// When `err` (or anything in its source chain) is a rustls refusal, says why in a few words.
///
/// An io error hides its payload from `source()` (it returns the payload's source), and the
/// TLS stack nests io errors, so an io error is followed into its payload instead.
pub(crate) fn rejection_reason(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
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

fn describe(err: &rustls::Error) -> String {
    if let rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) = err
        && inner.downcast_ref::<PinMismatch>().is_some()
    {
        return PinMismatch.to_string();
    }
    err.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_without_certificates_is_refused() {
        let err = parse_pinned_pem("not a pem").unwrap_err();
        assert!(matches!(err, Error::TlsConfig { .. }), "{err}");
        let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let err = parse_pinned_pem(key_only).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
    }

    #[test]
    fn only_the_pinned_leaf_is_verified() {
        let pinned = CertificateDer::from(vec![1_u8, 2, 3]);
        let verifier = PinnedLeafVerifier {
            pinned: vec![pinned.clone()],
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
