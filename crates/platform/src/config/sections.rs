//! Configuration sections shared by every service. A service's config struct embeds the ones it
//! uses (`telemetry`, `http`, `database`, `nats`, `mode`) next to its own keys, so the same key
//! means the same thing in every service and in the Helm chart.
//!
//! Every field except `database.url` has a default, so a section may be omitted or partial.
//! The types derive `Serialize` for `config print`; secrets serialize as `[redacted]`.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::serde_duration;

/// Whether the process runs for real or on a developer machine. Production is the default so a
/// forgotten setting fails safe (for example, unsigned webhooks are refused in production).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Production,
    Development,
}

impl Mode {
    pub fn is_production(self) -> bool {
        self == Mode::Production
    }
}

/// Log line format: JSON lines for collectors, human-readable text for terminals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

/// `[telemetry]`: logging and tracing. OpenTelemetry export itself is configured with the
/// standard `OTEL_*` variables so platform teams can reuse what they set for every other service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    /// `tracing` filter directives; `RUST_LOG`, when set, takes precedence.
    pub filter: String,
    /// `service.name` of exported spans unless `OTEL_SERVICE_NAME` says otherwise.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            filter: "info".to_owned(),
            service_name: "lockstep".to_owned(),
        }
    }
}

/// `[http]` (or any other listener section): where a server listens. Port 0 picks a free port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080)),
        }
    }
}

/// `[database]`: PostgreSQL. The URL usually carries a password, hence [`ConfigSecret`].
///
/// TLS: `ssl_mode` and the certificate files override what the URL says (`?sslmode=...` in the
/// URL works too); `verify-full` with `ssl_root_cert` is what a production database wants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:5432/lockstep`; no default, so a missing URL is reported.
    pub url: ConfigSecret,
    #[serde(default = "DatabaseConfig::default_max_connections")]
    pub max_connections: NonZeroU32,
    /// How long a request waits for a pooled connection before failing.
    #[serde(
        default = "DatabaseConfig::default_acquire_timeout",
        with = "serde_duration"
    )]
    pub acquire_timeout: Duration,
    /// `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`; unset: the URL's
    /// `sslmode`, else `prefer`.
    #[serde(default)]
    pub ssl_mode: Option<SslMode>,
    /// PEM file of the CA that signed the server's certificate (needed by `verify-ca`/`-full`
    /// unless the system roots cover it).
    #[serde(default)]
    pub ssl_root_cert: Option<PathBuf>,
    /// Client certificate and key (PEM) for servers that authenticate clients by certificate.
    #[serde(default)]
    pub ssl_client_cert: Option<PathBuf>,
    #[serde(default)]
    pub ssl_client_key: Option<PathBuf>,
}

/// PostgreSQL's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl DatabaseConfig {
    /// A configuration for `url` with every other key at its default (tools and tests).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: ConfigSecret::new(url),
            max_connections: Self::default_max_connections(),
            acquire_timeout: Self::default_acquire_timeout(),
            ssl_mode: None,
            ssl_root_cert: None,
            ssl_client_cert: None,
            ssl_client_key: None,
        }
    }

    fn default_max_connections() -> NonZeroU32 {
        NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN)
    }

    fn default_acquire_timeout() -> Duration {
        Duration::from_secs(5)
    }
}

/// `[nats]`: the JetStream connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NatsConfig {
    /// `nats://host:4222` (or several, comma-separated). May carry `user:password@` or a token,
    /// which every message and log line masks.
    pub url: NatsUrl,
    /// First token of every subject and base of the stream name (`lockstep.>`, stream
    /// `LOCKSTEP`). Tests use a unique prefix each so they can share one server.
    pub subject_prefix: String,
    /// A `.creds` file (user JWT + NKey seed, as `nsc` writes it) for servers in operator mode.
    pub credentials_file: Option<PathBuf>,
    /// A file holding an NKey seed (`SU...`) for servers that list NKey users.
    pub nkey_file: Option<PathBuf>,
    /// TLS to the server.
    pub tls: NatsTlsConfig,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: NatsUrl::new("nats://127.0.0.1:4222"),
            subject_prefix: "lockstep".to_owned(),
            credentials_file: None,
            nkey_file: None,
            tls: NatsTlsConfig::default(),
        }
    }
}

/// `[nats.tls]`. TLS is used whenever the server asks for it or `required` is set; the system
/// roots are trusted unless `ca_file` names a private CA.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NatsTlsConfig {
    /// Refuse to talk to a server without TLS.
    pub required: bool,
    /// PEM file of the CA that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for servers that verify clients (`verify: true`).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// A NATS server URL (or comma-separated list) whose `Display`, `Debug` and `Serialize` mask
/// any password or token in it, so no error message or log line can print one.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct NatsUrl(String);

impl NatsUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its credentials, for the one call that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with credentials replaced: `nats://user:***@host`, `nats://***@host` (a token).
    pub fn masked(&self) -> String {
        self.0
            .split(',')
            .map(mask_userinfo)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn mask_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let masked = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{scheme}{masked}{}{tail}", &authority[at..])
        }
        None => url.to_owned(),
    }
}

impl fmt::Display for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NatsUrl({})", self.masked())
    }
}

impl Serialize for NatsUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

/// A secret text from configuration (database URL, client secret). Platform depends on no other
/// Lockstep crate, so this is its own small type rather than `lockstep_crypto::SecretString`:
/// `Debug`, `Display` and `Serialize` print `[redacted]`; the memory is zeroed on drop.
///
/// Deserializes from any scalar, because an environment value like `12345` arrives as a number.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ConfigSecret(String);

impl ConfigSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConfigSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfigSecret([redacted])")
    }
}

impl fmt::Display for ConfigSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for ConfigSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for ConfigSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl Visitor<'_> for SecretVisitor {
            type Value = ConfigSecret;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(v.to_string()))
            }
        }

        deserializer.deserialize_any(SecretVisitor)
    }
}
