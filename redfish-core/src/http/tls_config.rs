//! rustls configurations for the lean HTTP/1.1 path, one per trust setting, with the same
//! trust as reqwest gives the same setting: the platform's verifier for the system roots, a
//! web-PKI verifier over the bundle's CAs, the pins of `crate::tls`, or no verification.
//! ALPN offers only `http/1.1`: the lean path speaks nothing else.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::tls::TlsSetupError;

/// The process's default provider if one was installed, else aws-lc-rs (as reqwest does).
fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

fn http11_only(mut config: ClientConfig) -> ClientConfig {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

fn builder(
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsSetupError> {
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| TlsSetupError::new("the TLS provider supports no safe protocol version"))
}

/// The platform's trust store, through its verifier.
pub(crate) fn system_roots() -> Result<ClientConfig, TlsSetupError> {
    let provider = provider();
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(|e| {
        TlsSetupError {
            reason: "the platform's certificate verifier is unavailable",
            source: Some(Box::new(e)),
        }
    })?;
    Ok(http11_only(
        builder(provider)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
    ))
}

/// Only the CAs of `pem`, names and dates checked.
pub(crate) fn ca_bundle(pem: &str) -> Result<ClientConfig, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError {
            reason: "the CA bundle is not valid PEM",
            source: Some(Box::new(e)),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::new("the CA bundle holds no certificate"));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| TlsSetupError {
            reason: "the CA bundle is not valid PEM",
            source: Some(Box::new(e)),
        })?;
    }
    Ok(http11_only(
        builder(provider())?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// Exactly the certificates of `pem` (see `crate::tls`).
pub(crate) fn pinned(pem: &str) -> Result<ClientConfig, TlsSetupError> {
    crate::tls::pinned_client_config(pem).map(http11_only)
}

/// Exactly the certificates with one of these fingerprints (see `crate::tls`).
pub(crate) fn pinned_sha256(fingerprints: &str) -> Result<ClientConfig, TlsSetupError> {
    crate::tls::pinned_sha256_client_config(fingerprints).map(http11_only)
}

/// No verification at all (the client builder warns).
pub(crate) fn accept_invalid_certs() -> Result<ClientConfig, TlsSetupError> {
    Ok(http11_only(
        builder(provider())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything))
            .with_no_client_auth(),
    ))
}

/// Accepts any certificate and any handshake signature, as reqwest's
/// `danger_accept_invalid_certs` does (old BMCs sign with SHA-1, so those schemes are offered).
#[derive(Debug)]
struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        use SignatureScheme as S;
        vec![
            S::RSA_PKCS1_SHA1,
            S::ECDSA_SHA1_Legacy,
            S::RSA_PKCS1_SHA256,
            S::ECDSA_NISTP256_SHA256,
            S::RSA_PKCS1_SHA384,
            S::ECDSA_NISTP384_SHA384,
            S::RSA_PKCS1_SHA512,
            S::ECDSA_NISTP521_SHA512,
            S::RSA_PSS_SHA256,
            S::RSA_PSS_SHA384,
            S::RSA_PSS_SHA512,
            S::ED25519,
            S::ED448,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configuration_offers_only_http_1_1() {
        let cert = rcgen::generate_simple_self_signed(vec!["bmc.example".to_owned()]).unwrap();
        let pem = cert.cert.pem();
        let fingerprint = crate::tls::format_sha256(&[7_u8; 32]);
        for config in [
            ca_bundle(&pem).unwrap(),
            pinned(&pem).unwrap(),
            pinned_sha256(&fingerprint).unwrap(),
            accept_invalid_certs().unwrap(),
        ] {
            assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        }
    }

    #[test]
    fn a_bundle_without_certificates_is_refused_as_on_the_reqwest_path() {
        let err = ca_bundle("no pem here").unwrap_err();
        assert_eq!(err.reason, "the CA bundle holds no certificate");
        let broken = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(
            ca_bundle(broken).unwrap_err().reason,
            "the CA bundle is not valid PEM"
        );
    }
}
