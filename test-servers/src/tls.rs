//! TLS for the local servers: a self-signed certificate made per run.

use std::sync::Arc;

/// A self-signed certificate for 127.0.0.1 and localhost, made for this
/// run, and the TLS server configuration that presents it.
///
/// # Panics
/// When the certificate cannot be made (a bug, not an environment issue).
pub(crate) fn self_signed() -> (String, Arc<tokio_rustls::rustls::ServerConfig>) {
    use tokio_rustls::rustls;
    #[allow(clippy::expect_used)]
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("a self-signed certificate");
    let cert_pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    #[allow(clippy::expect_used)]
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("a server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (cert_pem, Arc::new(config))
}
