use std::io::Write as _;
use std::time::Duration;

use serde::Deserialize;

use super::*;

/// What a service's embedded defaults look like.
const DEFAULTS: &str = r#"
# Run mode: production | development
mode = "production"
tables = ["incident"]
verify_signatures = false

[telemetry]
format = "json"
filter = "info"
service_name = "ingest-webhook"

[http]
listen = "0.0.0.0:8080"

[database]
# url has no default: set LOCKSTEP_DATABASE__URL
max_connections = 10
acquire_timeout = "5s"
"#;

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ServiceConfig {
    mode: Mode,
    tables: Vec<String>,
    telemetry: TelemetryConfig,
    http: HttpConfig,
    database: DatabaseConfig,
    #[serde(default)]
    nats: NatsConfig,
    #[serde(default)]
    verify_signatures: bool,
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_env(pairs: &[(&str, &str)]) -> Result<ServiceConfig, Error> {
    load_with_env(DEFAULTS, None, env(pairs))
}

fn problems(err: Error) -> Vec<String> {
    match err {
        Error::Config { problems } => problems,
        other => panic!("expected a config error, got {other}"),
    }
}

fn toml_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn defaults_and_section_defaults_apply() {
    let cfg = load_env(&[("LOCKSTEP_DATABASE__URL", "postgres://u:pw@db/lockstep")]).unwrap();
    assert_eq!(cfg.mode, Mode::Production);
    assert_eq!(cfg.telemetry.service_name, "ingest-webhook");
    assert_eq!(cfg.http.listen.port(), 8080);
    assert_eq!(cfg.database.url.expose(), "postgres://u:pw@db/lockstep");
    assert_eq!(cfg.database.max_connections.get(), 10);
    assert_eq!(cfg.database.acquire_timeout, Duration::from_secs(5));
    assert_eq!(cfg.nats, NatsConfig::default());
    assert_eq!(cfg.nats.subject_prefix, "lockstep");
}

#[test]
fn env_overrides_file_overrides_defaults() {
    let file = toml_file(
        "mode = \"development\"\n[database]\nurl = \"postgres://file\"\nmax_connections = 3\n\
         [nats]\nsubject_prefix = \"from-file\"\n",
    );
    let cfg: ServiceConfig = load_with_env(
        DEFAULTS,
        Some(file.path()),
        env(&[
            ("LOCKSTEP_DATABASE__MAX_CONNECTIONS", "20"),
            ("LOCKSTEP_DATABASE__ACQUIRE_TIMEOUT", "250ms"),
            ("LOCKSTEP_TELEMETRY__FORMAT", "pretty"),
            ("LOCKSTEP_HTTP__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_VERIFY_SIGNATURES", "on"),
            ("LOCKSTEP_TABLES", "[incident, change_request]"),
            ("UNRELATED", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(cfg.mode, Mode::Development, "file beats defaults");
    assert_eq!(cfg.database.url.expose(), "postgres://file");
    assert_eq!(cfg.nats.subject_prefix, "from-file");
    assert_eq!(cfg.database.max_connections.get(), 20, "env beats file");
    assert_eq!(cfg.database.acquire_timeout, Duration::from_millis(250));
    assert_eq!(cfg.telemetry.format, LogFormat::Pretty);
    assert_eq!(
        cfg.telemetry.filter, "info",
        "siblings of an env override keep their values"
    );
    assert_eq!(cfg.http.listen.port(), 0);
    assert!(cfg.verify_signatures);
    assert_eq!(cfg.tables, ["incident", "change_request"]);
}

#[test]
fn config_file_can_come_from_lockstep_config() {
    let file = toml_file("[database]\nurl = \"postgres://via-env-path\"\n");
    let path = file.path().display().to_string();
    let cfg = load_env(&[("LOCKSTEP_CONFIG", &path)]).unwrap();
    assert_eq!(cfg.database.url.expose(), "postgres://via-env-path");
}

#[test]
fn a_named_but_missing_file_is_an_error() {
    let err =
        load_with_env::<ServiceConfig>(DEFAULTS, Some(Path::new("/nope/lockstep.toml")), env(&[]))
            .unwrap_err();
    assert!(
        matches!(&err, Error::ConfigFileNotFound { path } if path == Path::new("/nope/lockstep.toml"))
    );
    assert!(err.to_string().contains("/nope/lockstep.toml"));
}

#[test]
fn bad_env_value_names_key_origin_and_variable_without_echoing_the_value() {
    let err = load_env(&[
        ("LOCKSTEP_DATABASE__URL", "postgres://x"),
        ("LOCKSTEP_DATABASE__MAX_CONNECTIONS", "s3cr3t-many"),
    ])
    .unwrap_err();
    let problems = problems(err);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let msg = &problems[0];
    assert!(
        msg.starts_with("config key `database.max_connections`: invalid type"),
        "{msg}"
    );
    assert!(
        msg.contains("value from environment variable LOCKSTEP_DATABASE__MAX_CONNECTIONS"),
        "{msg}"
    );
    assert!(
        msg.contains("set it in the config file or as LOCKSTEP_DATABASE__MAX_CONNECTIONS"),
        "{msg}"
    );
    assert!(!msg.contains("s3cr3t-many"), "{msg}");
}

#[test]
fn bad_file_value_names_the_file() {
    let file = toml_file("[database]\nurl = \"postgres://x\"\nmax_connections = 0\n");
    let err = load_with_env::<ServiceConfig>(DEFAULTS, Some(file.path()), env(&[])).unwrap_err();
    let msg = problems(err).remove(0);
    assert!(
        msg.starts_with("config key `database.max_connections`"),
        "{msg}"
    );
    assert!(msg.contains("config file "), "{msg}");
    assert!(
        msg.contains(
            &file
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        ),
        "{msg}"
    );
}

#[test]
fn missing_required_key_and_unknown_key_are_named() {
    let msg = problems(load_env(&[]).unwrap_err()).remove(0);
    assert_eq!(
        msg,
        "config key `database.url`: missing; it has no default; set it in the config file or as \
         LOCKSTEP_DATABASE__URL"
    );

    let err = load_env(&[
        ("LOCKSTEP_DATABASE__URL", "x"),
        ("LOCKSTEP_DATABSE__URL", "typo"),
    ])
    .unwrap_err();
    let msg = problems(err).remove(0);
    assert!(
        msg.starts_with("config key `databse`: unknown field"),
        "{msg}"
    );
}

#[test]
fn bad_duration_and_enum_values_say_what_is_accepted() {
    let err = load_env(&[
        ("LOCKSTEP_DATABASE__URL", "x"),
        ("LOCKSTEP_DATABASE__ACQUIRE_TIMEOUT", "5 parsecs"),
    ])
    .unwrap_err();
    let msg = problems(err).remove(0);
    assert!(
        msg.contains("database.acquire_timeout") && msg.contains("250ms, 5s, 2m or 1h"),
        "{msg}"
    );

    let err = load_env(&[
        ("LOCKSTEP_DATABASE__URL", "x"),
        ("LOCKSTEP_MODE", "staging"),
    ])
    .unwrap_err();
    let msg = problems(err).remove(0);
    assert!(
        msg.contains("`mode`") && msg.contains("production") && msg.contains("development"),
        "{msg}"
    );
}

#[test]
fn reserved_empty_and_numeric_values() {
    let cfg = load_env(&[
        ("LOCKSTEP_DATABASE__URL", "12345"),
        ("LOCKSTEP_MASTER_KEYS", "k1:AAAA"),
        ("LOCKSTEP_MASTER_KEYS_FILE", "/run/keys"),
        ("LOCKSTEP_NATS__CREDENTIALS_FILE", ""),
        ("lockstep_nats__url", "nats://lower-case-prefix:4222"),
    ])
    .unwrap();
    assert_eq!(
        cfg.database.url.expose(),
        "12345",
        "numeric env text stays text"
    );
    assert_eq!(
        cfg.nats.credentials_file, None,
        "empty variables count as unset"
    );
    assert_eq!(cfg.nats.url.expose(), "nats://lower-case-prefix:4222");
}

#[test]
fn secrets_never_print() {
    let cfg = load_env(&[("LOCKSTEP_DATABASE__URL", "postgres://u:hunter2@db")]).unwrap();
    let debug = format!("{cfg:?}");
    assert!(
        !debug.contains("hunter2") && debug.contains("[redacted]"),
        "{debug}"
    );
    let json = serde_json::to_string(&cfg.database).unwrap();
    assert!(
        !json.contains("hunter2") && json.contains("[redacted]"),
        "{json}"
    );
    assert!(json.contains("\"acquire_timeout\":\"5s\""), "{json}");
}

#[test]
fn env_var_names_follow_the_nesting_convention() {
    assert_eq!(
        env_var_for(&["database", "max_connections"]),
        "LOCKSTEP_DATABASE__MAX_CONNECTIONS"
    );
    assert_eq!(env_var_for(&["mode"]), "LOCKSTEP_MODE");
}

/// The same struct without `deny_unknown_fields`: what the services' configs look like.
#[derive(Debug, Deserialize, serde::Serialize)]
struct LenientConfig {
    mode: Mode,
    tables: Vec<String>,
    telemetry: TelemetryConfig,
    http: HttpConfig,
    database: DatabaseConfig,
    #[serde(default)]
    nats: NatsConfig,
    #[serde(default)]
    verify_signatures: bool,
}

#[test]
fn a_mistyped_key_is_refused_naming_it_and_where_it_came_from() {
    let file = toml_file("[database]\nurl = \"postgres://x\"\nmax_conections = 3\n");
    let err = load_with_env::<LenientConfig>(
        DEFAULTS,
        Some(file.path()),
        env(&[
            ("LOCKSTEP_NATS__SUBJECT_PERFIX", "p"),
            ("LOCKSTEP_TELEMETRI__FORMAT", "pretty"),
        ]),
    )
    .unwrap_err();
    let problems = problems(err);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems.iter().any(
            |p| p.starts_with("config key `database.max_conections`: unknown key")
                && p.contains("config file")
        ),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("`nats.subject_perfix`")
            && p.contains("environment variable LOCKSTEP_NATS__SUBJECT_PERFIX")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`telemetri`") && p.contains("starting with LOCKSTEP_TELEMETRI")),
        "{problems:?}"
    );
}

#[test]
fn single_level_variables_of_other_programs_are_not_configuration() {
    let cfg: LenientConfig = load_with_env(
        DEFAULTS,
        None,
        env(&[
            ("LOCKSTEP_DATABASE__URL", "x"),
            ("LOCKSTEP_TOKEN", "lst_abc"),
            ("LOCKSTEP_API_URL", "http://127.0.0.1:50051"),
            ("LOCKSTEP_MODE", "development"),
        ]),
    )
    .unwrap();
    assert_eq!(cfg.mode, Mode::Development, "a known top-level key is read");
}

#[test]
fn shared_loading_reports_unknown_keys_instead_of_refusing() {
    let shared = load_shared_with_env::<LenientConfig>(
        DEFAULTS,
        None,
        env(&[
            ("LOCKSTEP_DATABASE__URL", "x"),
            ("LOCKSTEP_WRITER__PUSH_ENABLED", "false"),
        ]),
    )
    .unwrap();
    let paths: Vec<&str> = shared.unknown.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, ["writer"]);
}

#[test]
fn nats_credentials_in_the_url_never_print() {
    let cfg = load_env(&[
        ("LOCKSTEP_DATABASE__URL", "x"),
        (
            "LOCKSTEP_NATS__URL",
            "nats://svc:hunter2@nats-1:4222,tls://s3cr3ttoken@nats-2:4222",
        ),
    ])
    .unwrap();
    let url = &cfg.nats.url;
    assert_eq!(
        url.masked(),
        "nats://svc:***@nats-1:4222,tls://***@nats-2:4222"
    );
    for shown in [
        url.to_string(),
        format!("{url:?}"),
        format!("{cfg:?}"),
        serde_json::to_string(&cfg.nats).unwrap(),
    ] {
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3ttoken"),
            "{shown}"
        );
    }
    assert!(
        url.expose().contains("hunter2"),
        "the connection still gets it"
    );
    assert_eq!(
        NatsUrl::new("nats://127.0.0.1:4222").masked(),
        "nats://127.0.0.1:4222"
    );
}
