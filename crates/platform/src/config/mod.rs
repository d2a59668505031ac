//! Layered configuration: embedded defaults → optional TOML file → `LOCKSTEP_` environment.
//!
//! Each service ships a commented `defaults.toml` (`include_str!`) that documents every key, so
//! the file a platform team mounts only has to hold what differs. Environment variables override
//! both, with `__` separating nesting levels: `LOCKSTEP_DATABASE__MAX_CONNECTIONS=20` sets
//! `database.max_connections`. Errors name the key, where the bad value came from, and the
//! environment variable that would set it, because that is what an operator needs at 3 a.m.
//!
//! Environment values are taken as text and converted to the field's type (`"20"` → 20,
//! `"true"`/`"on"` → true); values starting with `[` or `{` are parsed as arrays or tables. An
//! empty variable counts as unset, so a Helm chart may template `""` for "use the default".

mod duration;
mod sections;
mod unknown;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use duration::serde_duration;
pub use sections::{
    ConfigSecret, DatabaseConfig, HttpConfig, LogFormat, Mode, NatsConfig, NatsTlsConfig, NatsUrl,
    SslMode, TelemetryConfig,
};

use crate::Error;

/// Prefix of every configuration environment variable.
pub const ENV_PREFIX: &str = "LOCKSTEP_";
/// Separator of nesting levels in environment variable names.
pub const ENV_SEPARATOR: &str = "__";
/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_FILE_ENV: &str = "LOCKSTEP_CONFIG";

/// `LOCKSTEP_` variables that are read directly by the code that needs them and are not keys of
/// the configuration tree (so a struct with `deny_unknown_fields` does not trip over them).
const RESERVED_ENV_KEYS: &[&str] = &["config", "master_keys", "master_keys_file"];

const DEFAULTS_NAME: &str = "built-in defaults";
const ENV_NAME: &str = "environment";

/// Loads a service's configuration from the process environment.
///
/// `defaults` is the service's embedded `defaults.toml`; `file` is the `--config` argument,
/// falling back to `LOCKSTEP_CONFIG`. A file that is named but missing is an error, and so is a
/// key that no field reads (a mistyped key would otherwise leave its default in force silently).
///
/// Which `LOCKSTEP_` variables are configuration: every nested one (`LOCKSTEP_DATABASE__URL`),
/// and a single-level one only when the defaults have that top-level key (`LOCKSTEP_MODE`).
/// Others (`LOCKSTEP_TOKEN`, `LOCKSTEP_API_URL` of the CLI) belong to other programs sharing the
/// environment and are left alone.
pub fn load<T: DeserializeOwned + Serialize>(
    defaults: &str,
    file: Option<&Path>,
) -> Result<T, Error> {
    let env = std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        )
    });
    load_with_env(defaults, file, env)
}

/// [`load`] with the environment given explicitly, so tests can run in parallel without
/// touching the process environment.
pub fn load_with_env<T: DeserializeOwned + Serialize>(
    defaults: &str,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, Error> {
    let shared = load_shared_with_env(defaults, file, env)?;
    if shared.unknown.is_empty() {
        Ok(shared.value)
    } else {
        Err(Error::Config {
            problems: shared.unknown.into_iter().map(|u| u.message).collect(),
        })
    }
}

/// A configuration loaded from layers that other services share (`lockstep up` gives one
/// environment to five services), with the keys this service does not read. Such a key is an
/// error only when no service reads it, which only the caller can tell.
#[derive(Debug)]
pub struct Shared<T> {
    pub value: T,
    pub unknown: Vec<UnknownKey>,
}

/// A supplied key that no field of the loaded configuration reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// Dotted path, e.g. `database.max_conections`.
    pub path: String,
    /// What to tell the operator: the key, where it came from, what to do.
    pub message: String,
}

/// [`load_with_env`] that returns unknown keys instead of refusing them.
pub fn load_shared_with_env<T: DeserializeOwned + Serialize>(
    defaults: &str,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Shared<T>, Error> {
    let figment = layers(defaults, file, env)?;
    let value: T = figment.extract_lossy().map_err(config_error)?;
    let unknown = unknown::unknown_keys(&figment, &value)?
        .into_iter()
        .map(|path| {
            let parts: Vec<&str> = path.split('.').collect();
            let table = matches!(figment.find_value(&path), Ok(Value::Dict(..)));
            let from = figment
                .find_metadata(&path)
                .and_then(|md| origin(md, &parts, table));
            let message = format!(
                "config key `{path}`: unknown key{}; remove it or correct the spelling",
                from.map(|o| format!(" (value from {o})"))
                    .unwrap_or_default()
            );
            UnknownKey { path, message }
        })
        .collect();
    Ok(Shared { value, unknown })
}

/// The merged layers without extracting a type, for commands such as `config print` that want
/// to show the effective values or extract one section.
pub fn layers(
    defaults: &str,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Figment, Error> {
    let env = EnvLayer::new(env, &top_level_keys(defaults));
    let file = file
        .map(Path::to_path_buf)
        .or_else(|| env.config_file.clone());
    let mut figment = Figment::new().merge(Defaults(Toml::string(defaults)));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(Error::ConfigFileNotFound { path });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    Ok(figment.merge(env))
}

/// The top-level keys of a TOML document (a service's defaults): its sections and top-level
/// values.
pub fn top_level_keys(defaults: &str) -> BTreeSet<String> {
    Toml::string(defaults)
        .data()
        .ok()
        .and_then(|mut data| data.remove(&Profile::Default))
        .map(|dict| dict.into_keys().collect())
        .unwrap_or_default()
}

/// The environment variable that sets a key path such as `["database", "max_connections"]`.
pub fn env_var_for(path: &[impl AsRef<str>]) -> String {
    let keys: Vec<String> = path
        .iter()
        .map(|k| k.as_ref().to_ascii_uppercase())
        .collect();
    format!("{ENV_PREFIX}{}", keys.join(ENV_SEPARATOR))
}

/// The embedded defaults under a recognisable name for error messages.
struct Defaults(figment::providers::Data<Toml>);

impl Provider for Defaults {
    fn metadata(&self) -> Metadata {
        Metadata::named(DEFAULTS_NAME)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.0.data()
    }
}

/// A snapshot of the `LOCKSTEP_` variables as a figment provider.
struct EnvLayer {
    /// (key path joined with '.', raw value)
    entries: Vec<(String, String)>,
    config_file: Option<PathBuf>,
}

impl EnvLayer {
    /// `known_top`: the defaults' top-level keys, which decide whether a single-level variable
    /// is configuration (see [`load`]).
    fn new(vars: impl IntoIterator<Item = (String, String)>, known_top: &BTreeSet<String>) -> Self {
        let mut entries = Vec::new();
        let mut config_file = None;
        for (name, value) in vars {
            let Some(rest) = strip_prefix_ignore_case(name.trim(), ENV_PREFIX) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let key = rest.to_ascii_lowercase();
            if key == "config" {
                config_file = Some(PathBuf::from(value));
                continue;
            }
            if RESERVED_ENV_KEYS.contains(&key.as_str()) {
                continue;
            }
            let parts: Vec<&str> = key.split(ENV_SEPARATOR).collect();
            if parts.iter().any(|p| p.is_empty() || p.contains('.')) {
                continue;
            }
            if parts.len() == 1 && !known_top.contains(parts[0]) {
                continue;
            }
            entries.push((parts.join("."), value));
        }
        Self {
            entries,
            config_file,
        }
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_NAME).interpolater(|_: &Profile, keys: &[&str]| env_var_for(keys))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (key, raw) in &self.entries {
            let trimmed = raw.trim_start();
            let value = if trimmed.starts_with('[') || trimmed.starts_with('{') {
                raw.parse::<Value>()
                    .unwrap_or_else(|_| Value::from(raw.clone()))
            } else {
                Value::from(raw.clone())
            };
            let nested = figment::util::nest(key, value)
                .into_dict()
                .unwrap_or_default();
            dict = merge_dicts(dict, nested);
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn merge_dicts(base: Dict, over: Dict) -> Dict {
    let mut out = base;
    for (key, value) in over {
        let merged = match (out.remove(&key), value) {
            (Some(Value::Dict(_, a)), Value::Dict(tag, b)) => Value::Dict(tag, merge_dicts(a, b)),
            (_, value) => value,
        };
        out.insert(key, merged);
    }
    out
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Where a value came from, for messages: the file, the variable, or the defaults. `prefix`:
/// the key holds a table, so name the variables that start with its name.
fn origin(md: &Metadata, path: &[impl AsRef<str>], prefix: bool) -> Option<String> {
    match (&md.source, md.name.as_ref()) {
        (Some(figment::Source::File(file)), _) => Some(format!("config file {}", file.display())),
        (_, ENV_NAME) if prefix => Some(format!(
            "environment variable(s) starting with {}",
            env_var_for(path)
        )),
        (_, ENV_NAME) => Some(format!("environment variable {}", env_var_for(path))),
        (_, DEFAULTS_NAME) => Some(DEFAULTS_NAME.to_owned()),
        _ => None,
    }
}

/// Turns figment's errors into one message per bad key.
fn config_error(error: figment::Error) -> Error {
    Error::Config {
        problems: error.into_iter().map(describe).collect(),
    }
}

fn describe(error: figment::Error) -> String {
    use figment::error::{Actual, Kind};

    let mut path = error.path.clone();
    // For a missing field the path stops at the parent table; name the field itself.
    if let Kind::MissingField(field) = &error.kind
        && path.last().map(String::as_str) != Some(field.as_ref())
    {
        path.push(field.to_string());
    }
    let key = if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.join(".")
    };
    // Never echo string values: a misplaced secret must not end up in a log line.
    let problem = match &error.kind {
        Kind::InvalidType(Actual::Str(_), expected) => {
            format!("invalid type: found a string, expected {expected}")
        }
        Kind::InvalidValue(Actual::Str(_), expected) => {
            format!("invalid value: found a string, expected {expected}")
        }
        Kind::MissingField(_) => "missing; it has no default".to_owned(),
        kind => kind.to_string(),
    };
    let unknown = matches!(error.kind, Kind::UnknownField(..));
    let missing = matches!(error.kind, Kind::MissingField(_));
    // A missing value has no origin; figment reports the provider of the parent table.
    let metadata = if missing {
        None
    } else {
        error.metadata.as_ref()
    };
    let origin = metadata
        .and_then(|md| origin(md, &path, unknown))
        .map(|o| format!(" (value from {o})"))
        .unwrap_or_default();
    let hint = if unknown {
        "; remove it or correct the spelling".to_owned()
    } else if path.is_empty() {
        String::new()
    } else {
        format!("; set it in the config file or as {}", env_var_for(&path))
    };
    format!("config key `{key}`: {problem}{origin}{hint}")
}

#[cfg(test)]
mod tests;
