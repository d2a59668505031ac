//! The configuration of `lockstep up`: every service's own, loaded from one shared environment,
//! plus the process's `[telemetry]` and the per-service listen addresses of `[up]`.
//!
//! One environment feeds five services, so a key one service does not read may belong to
//! another (`writer.push_enabled` means nothing to the api). A key is refused only when no
//! service and not `lockstep up` itself reads it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use lockstep_platform::config::{self, TelemetryConfig, UnknownKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const DEFAULTS: &str = include_str!("defaults.toml");

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What belongs to `lockstep up` itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpConfig {
    pub telemetry: TelemetryConfig,
    pub up: Listeners,
}

/// `[up.<service>]`: where each service listens inside the one process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listeners {
    pub api: ApiEndpoints,
    pub ticket_writer: Endpoints,
    pub poller: Endpoints,
    pub ingest_webhook: Endpoints,
    pub sync_applier: AdminEndpoint,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Endpoints {
    /// gRPC (api, ticket-writer, poller) or HTTP (ingest-webhook).
    pub listen: SocketAddr,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub admin: SocketAddr,
}

/// The api's addresses: gRPC, admin, and the HTTP JSON API.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ApiEndpoints {
    pub listen: SocketAddr,
    pub admin: SocketAddr,
    /// The HTTP JSON API (and the pages beside it).
    pub http: SocketAddr,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct AdminEndpoint {
    pub admin: SocketAddr,
}

/// Every service's configuration with `[up]`'s addresses applied.
pub struct Loaded {
    pub up: UpConfig,
    pub api: lockstep_api::Config,
    pub ticket_writer: lockstep_ticket_writer::Config,
    pub ingest_webhook: lockstep_ingest_webhook::Config,
    pub sync_applier: lockstep_sync_applier::Config,
    pub poller: lockstep_poller::Config,
}

/// The services' own listen keys: under `lockstep up` each would bind several services to one
/// address, so they are refused with the `[up]` keys to use instead.
const SHARED_LISTEN_VARS: &[(&str, &str)] = &[
    (
        "LOCKSTEP_GRPC__LISTEN",
        "LOCKSTEP_UP__API__LISTEN, LOCKSTEP_UP__TICKET_WRITER__LISTEN or LOCKSTEP_UP__POLLER__LISTEN",
    ),
    (
        "LOCKSTEP_HTTP__LISTEN",
        "LOCKSTEP_UP__INGEST_WEBHOOK__LISTEN or LOCKSTEP_UP__API__HTTP",
    ),
    ("LOCKSTEP_ADMIN__LISTEN", "LOCKSTEP_UP__<SERVICE>__ADMIN"),
];

pub fn load(env: &[(String, String)]) -> Result<Loaded, BoxError> {
    for (name, value) in env {
        if value.is_empty() {
            continue;
        }
        if let Some((var, instead)) = SHARED_LISTEN_VARS
            .iter()
            .find(|(var, _)| var.eq_ignore_ascii_case(name))
        {
            return Err(format!(
                "{var} would give every service under `lockstep up` the same address; set {instead} instead"
            )
            .into());
        }
    }
    let mut unknown = Vec::new();
    let up: UpConfig = shared(DEFAULTS, env, &mut unknown)?;
    let mut api: lockstep_api::Config = shared(lockstep_api::config::DEFAULTS, env, &mut unknown)?;
    let mut ticket_writer: lockstep_ticket_writer::Config =
        shared(lockstep_ticket_writer::config::DEFAULTS, env, &mut unknown)?;
    let mut ingest_webhook: lockstep_ingest_webhook::Config =
        shared(lockstep_ingest_webhook::config::DEFAULTS, env, &mut unknown)?;
    let mut sync_applier: lockstep_sync_applier::Config =
        shared(lockstep_sync_applier::config::DEFAULTS, env, &mut unknown)?;
    let mut poller: lockstep_poller::Config =
        shared(lockstep_poller::config::DEFAULTS, env, &mut unknown)?;
    let refused = unknown_to_all(&unknown);
    if !refused.is_empty() {
        return Err(lockstep_platform::Error::Config { problems: refused }.into());
    }
    let at = &up.up;
    (api.grpc.listen, api.admin.listen, api.http.listen) =
        (at.api.listen, at.api.admin, at.api.http);
    // The api reaches ticket-writer and the poller where `[up]` puts them (main.rs replaces these
    // with the addresses they actually bound when it starts them).
    api.upstream.ticket_writer = upstream_url(at.ticket_writer.listen);
    api.upstream.poller = upstream_url(at.poller.listen);
    (ticket_writer.grpc.listen, ticket_writer.admin.listen) =
        (at.ticket_writer.listen, at.ticket_writer.admin);
    (poller.grpc.listen, poller.admin.listen) = (at.poller.listen, at.poller.admin);
    (ingest_webhook.http.listen, ingest_webhook.admin.listen) =
        (at.ingest_webhook.listen, at.ingest_webhook.admin);
    sync_applier.admin.listen = at.sync_applier.admin;
    Ok(Loaded {
        up,
        api,
        ticket_writer,
        ingest_webhook,
        sync_applier,
        poller,
    })
}

/// The `http://` address that reaches a listener: a wildcard bind is reached on loopback.
pub fn upstream_url(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}")
}

fn shared<T: DeserializeOwned + Serialize>(
    defaults: &str,
    env: &[(String, String)],
    unknown: &mut Vec<Vec<UnknownKey>>,
) -> Result<T, BoxError> {
    let loaded = config::load_shared_with_env::<T>(defaults, None, env.iter().cloned())?;
    unknown.push(loaded.unknown);
    Ok(loaded.value)
}

/// The messages of keys that every loader found unknown. A loader that does not know a whole
/// section reports the section (`writer`); one that knows the section reports the key in it
/// (`writer.push_enable`). A key is unknown to a loader when it or a section above it is.
fn unknown_to_all(per_loader: &[Vec<UnknownKey>]) -> Vec<String> {
    let covers = |loader: &[UnknownKey], path: &str| {
        loader.iter().any(|u| {
            path == u.path
                || path
                    .strip_prefix(u.path.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let mut refused = BTreeMap::new();
    for key in per_loader.iter().flatten() {
        if per_loader.iter().all(|loader| covers(loader, &key.path)) {
            refused.insert(key.path.clone(), key.message.clone());
        }
    }
    // Report a section once, not each of its keys as well.
    let sections: Vec<String> = refused.keys().cloned().collect();
    refused.retain(|path, _| {
        !sections.iter().any(|s| {
            path.strip_prefix(s.as_str())
                .is_some_and(|r| r.starts_with('.'))
        })
    });
    refused.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const DB: (&str, &str) = ("LOCKSTEP_DATABASE__URL", "postgres://x@y/z");

    fn error(pairs: &[(&str, &str)]) -> String {
        match load(&env(pairs)) {
            Ok(_) => panic!("{pairs:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_service_gets_its_own_loopback_address_by_default() {
        let loaded = load(&env(&[DB])).unwrap();
        let addrs = [
            loaded.api.grpc.listen,
            loaded.ticket_writer.grpc.listen,
            loaded.poller.grpc.listen,
            loaded.ingest_webhook.http.listen,
            loaded.api.admin.listen,
            loaded.ticket_writer.admin.listen,
            loaded.poller.admin.listen,
            loaded.ingest_webhook.admin.listen,
            loaded.sync_applier.admin.listen,
            loaded.api.http.listen,
        ];
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        assert_eq!(loaded.api.upstream.ticket_writer, "http://127.0.0.1:50052");
        assert_eq!(loaded.api.upstream.poller, "http://127.0.0.1:50053");
        assert_eq!(
            upstream_url("0.0.0.0:7000".parse().unwrap()),
            "http://127.0.0.1:7000"
        );
        let mut ports: Vec<u16> = addrs.iter().map(|a| a.port()).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), addrs.len(), "one port each: {addrs:?}");
    }

    #[test]
    fn a_service_address_is_set_on_its_own() {
        let loaded = load(&env(&[
            DB,
            ("LOCKSTEP_UP__API__LISTEN", "0.0.0.0:6000"),
            ("LOCKSTEP_UP__SYNC_APPLIER__ADMIN", "127.0.0.1:0"),
        ]))
        .unwrap();
        assert_eq!(loaded.api.grpc.listen, "0.0.0.0:6000".parse().unwrap());
        assert_eq!(
            loaded.ticket_writer.grpc.listen,
            "127.0.0.1:50052".parse().unwrap()
        );
        assert_eq!(loaded.sync_applier.admin.listen.port(), 0);
    }

    #[test]
    fn a_shared_listen_variable_is_refused_with_the_keys_to_use() {
        let msg = error(&[DB, ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0")]);
        assert!(
            msg.contains("LOCKSTEP_GRPC__LISTEN") && msg.contains("LOCKSTEP_UP__API__LISTEN"),
            "{msg}"
        );
    }

    #[test]
    fn a_key_of_one_service_is_accepted_and_a_key_of_none_is_refused() {
        let loaded = load(&env(&[DB, ("LOCKSTEP_WRITER__PUSH_ENABLED", "false")])).unwrap();
        assert!(!loaded.ticket_writer.writer.push_enabled);

        let msg = error(&[DB, ("LOCKSTEP_WRITER__PUSH_ENABLE", "false")]);
        assert!(msg.contains("`writer.push_enable`: unknown key"), "{msg}");
        let msg = error(&[DB, ("LOCKSTEP_DATABASE__MAX_CONECTIONS", "3")]);
        assert!(msg.contains("`database.max_conections`"), "{msg}");
        let msg = error(&[DB, ("LOCKSTEP_WRITR__X", "1")]);
        assert!(msg.contains("`writr`") && !msg.contains("writr.x"), "{msg}");
    }
}
