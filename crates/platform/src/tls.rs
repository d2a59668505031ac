//! The process-wide rustls crypto provider.
//!
//! reqwest is built with `rustls-no-provider` and sqlx/async-nats use rustls too; with more than
//! one provider compiled in (or none selected), rustls panics at the first TLS handshake unless a
//! default is installed. Every binary calls this once at start-up; calling it again is harmless.

/// Installs rustls' ring provider as the process default, unless a default is already set.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing the same default is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn installs_once_and_stays_installed() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
