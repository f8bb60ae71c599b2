//! The sandbox's TLS mode: a certificate authority and a serving certificate generated at
//! start (rcgen), and the rustls server configuration that presents them. In-cluster clients
//! speak https only, so this is what lets a daemon configured from a service account talk to
//! a sandbox.
//!
//! Owns the key material and its PEM forms; it does not accept connections (the server's
//! `tls` listener does) nor write files (the handle does). The crypto provider is ring, the
//! one kube's client already brings, so no second provider is compiled in.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names the serving certificate is valid for: loopback by address and by name, and the
/// name pods use for the API server.
pub const SERVER_NAMES: &[&str] = &["127.0.0.1", "localhost", "kubernetes.default.svc"];

/// Errors generating the certificates or the server configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen could not make a key or a certificate.
    #[error("sandbox tls: cannot generate the certificates")]
    Generate(#[source] rcgen::Error),
    /// rustls refused the configuration.
    #[error("sandbox tls: cannot build the server configuration")]
    Config(#[source] tokio_rustls::rustls::Error),
}

/// A generated CA and the server configuration presenting a certificate it signed.
#[derive(Clone)]
pub struct Tls {
    ca_pem: String,
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The server configuration holds the private key: leave it out.
        f.debug_struct("Tls").field("ca_pem", &self.ca_pem).finish_non_exhaustive()
    }
}

impl Tls {
    /// A fresh CA (ECDSA P-256) and a serving certificate for [`SERVER_NAMES`] signed by it.
    pub fn generate() -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate().map_err(TlsError::Generate)?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name.push(DnType::CommonName, ca_name());
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).map_err(TlsError::Generate)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().map_err(TlsError::Generate)?;
        let names: Vec<String> = SERVER_NAMES.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).map_err(TlsError::Generate)?;
        params.distinguished_name.push(DnType::CommonName, "cetus-sandbox");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer).map_err(TlsError::Generate)?;

        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], private)
            .map_err(TlsError::Config)?;
        // The server speaks HTTP/1.1 only, as over plain HTTP; say so, so that clients
        // offering h2 (kubectl) settle on it in the handshake.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { ca_pem: ca.pem(), config: Arc::new(config) })
    }

    /// The CA certificate, PEM-encoded: what clients trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// An acceptor for the server side of connections.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

/// A name of its own for each CA (as k3s's `k3s-server-ca@<time>`): a client trusting another
/// sandbox's CA is told the issuer is unknown, not that a signature does not match.
fn ca_name() -> String {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    format!("cetus-sandbox-ca@{}", since.map_or(0, |d| d.as_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_one_pem_certificate_and_each_start_makes_a_new_one() {
        let first = Tls::generate().unwrap();
        let second = Tls::generate().unwrap();
        let pem = first.ca_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
        assert!(pem.trim_end().ends_with("-----END CERTIFICATE-----"), "{pem}");
        assert_eq!(pem.matches("BEGIN").count(), 1);
        assert_ne!(first.ca_pem(), second.ca_pem());
    }
}
