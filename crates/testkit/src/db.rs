//! A fresh, migrated PostgreSQL database per test, in tens of milliseconds.
//!
//! Running the migrations for every test would dominate test time, so they run ONCE into a template
//! database named after a hash of the migrations (`lockstep_tpl_<hash>`); each test then gets
//! `CREATE DATABASE lockstep_t_<uuid v7> TEMPLATE lockstep_tpl_<hash>`, a file-level copy.
//! Building the template is serialized across every test process on the server by an advisory
//! lock, and a template left half-built by a killed process is detected and rebuilt (a template is
//! only marked `datistemplate` once fully migrated). Changing a migration changes the hash, so a
//! stale template is never used. The test database is dropped when the `TestDb` is.

use std::time::Duration;

use anyhow::Context as _;
use lockstep_store::{MIGRATOR, Store};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::env;

const TEST_DB_PREFIX: &str = "lockstep_t_";
const TEMPLATE_PREFIX: &str = "lockstep_tpl_";
/// Advisory lock key for template building ("lockstep" in ASCII).
const TEMPLATE_LOCK_KEY: i64 = 0x6c6f_636b_7374_6570;
/// Test databases older than this are leftovers of killed runs.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The template of this build's migrations, once per test process.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A migrated database of its own for one test. Dropped (with `WITH (FORCE)`) on drop, unless
/// `LOCKSTEP_KEEP_TEST_DB` is set, for looking at it after a failure.
pub struct TestDb {
    store: Store,
    url: String,
    name: String,
    admin_url: String,
}

impl TestDb {
    /// Creates the database, panicking with the reason when PostgreSQL is not available.
    pub async fn new() -> Self {
        match Self::try_new().await {
            Ok(db) => db,
            Err(err) => panic!("cannot create a test database: {err:#}"),
        }
    }

    pub async fn try_new() -> anyhow::Result<Self> {
        crate::init_tracing();
        let admin_url = env::database_url()?;
        let template = TEMPLATE
            .get_or_try_init(|| prepare_template(&admin_url))
            .await?
            .clone();

        let name = format!("{TEST_DB_PREFIX}{}", Uuid::now_v7().simple());
        let mut admin = connect_admin(&admin_url).await?;
        sqlx::query(&format!(
            r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
        ))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating test database {name} from {template}"))?;
        admin.close().await.ok();

        let url = database_url_for(&admin_url, &name)?;
        let pool = match PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&url)
            .await
        {
            Ok(pool) => pool,
            Err(err) => {
                // Not wrapped in a TestDb yet, so nothing else would drop it.
                if let Ok(mut admin) = connect_admin(&admin_url).await {
                    let _ = drop_database(&mut admin, &name).await;
                }
                return Err(err).with_context(|| format!("connecting to test database {name}"));
            }
        };
        tracing::debug!(database = %name, "test database ready");
        Ok(TestDb {
            store: Store::from_pool(pool),
            url,
            name,
            admin_url,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    /// A connection URL for this database (for services spawned by the test).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var_os("LOCKSTEP_KEEP_TEST_DB").is_some() {
            eprintln!("keeping test database {} ({})", self.name, self.url);
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which must not be blocked on from within; a
        // short-lived thread with its own runtime does the async work. Errors are ignored: the
        // stale-database sweep catches anything left behind.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = connect_admin(&admin_url).await {
                    let _ = drop_database(&mut admin, &name).await;
                    admin.close().await.ok();
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Drops test databases of earlier runs that are older than an hour (the creation time is in
/// the UUID v7 of the name), as left behind by killed test processes. Returns the names dropped.
/// Runs automatically once per test process; callable by hand or from a script.
pub async fn cleanup_stale_test_databases() -> anyhow::Result<Vec<String>> {
    let admin_url = env::database_url()?;
    let mut admin = connect_admin(&admin_url).await?;
    let dropped = drop_stale(&mut admin, STALE_AFTER).await;
    admin.close().await.ok();
    dropped
}

async fn prepare_template(admin_url: &str) -> anyhow::Result<String> {
    let template = format!("{TEMPLATE_PREFIX}{:016x}", migrations_hash());
    let mut admin = connect_admin(admin_url).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .await?;
    let built = build_template_if_missing(&mut admin, admin_url, &template).await;
    let swept = match &built {
        Ok(()) => drop_stale(&mut admin, STALE_AFTER).await.map(|_| ()),
        Err(_) => Ok(()),
    };
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .await;
    admin.close().await.ok();
    built?;
    if let Err(err) = swept {
        tracing::warn!(error = %format!("{err:#}"), "sweeping stale test databases failed");
    }
    Ok(template)
}

/// Under the advisory lock: nothing to do if a complete template exists; otherwise (re)build it.
async fn build_template_if_missing(
    admin: &mut PgConnection,
    admin_url: &str,
    template: &str,
) -> anyhow::Result<()> {
    let complete: Option<bool> =
        sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind(template)
            .fetch_optional(&mut *admin)
            .await?;
    match complete {
        Some(true) => return Ok(()),
        Some(false) => {
            tracing::warn!(%template, "rebuilding a template database left half-built");
            drop_database(admin, template).await?;
        }
        None => {}
    }
    match sqlx::query(&format!(r#"CREATE DATABASE "{template}""#))
        .execute(&mut *admin)
        .await
    {
        Ok(_) => {}
        // Only a process that bypassed the lock could have created it; the migration below
        // then either finds it complete or fails loudly.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {}
        Err(err) => {
            return Err(err).with_context(|| format!("creating template database {template}"));
        }
    }

    let mut conn = PgConnection::connect(&database_url_for(admin_url, template)?).await?;
    MIGRATOR
        .run(&mut conn)
        .await
        .with_context(|| format!("migrating template database {template}"))?;
    conn.close().await?;

    // Only now is it a template; refusing connections keeps CREATE DATABASE … TEMPLATE from
    // failing because something is connected to it.
    sqlx::query(&format!(
        r#"ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"#
    ))
    .execute(&mut *admin)
    .await?;
    tracing::info!(%template, "built the test template database");
    Ok(())
}

async fn drop_stale(admin: &mut PgConnection, older_than: Duration) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'lockstep\\_t\\_%'")
            .fetch_all(&mut *admin)
            .await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut dropped = Vec::new();
    for name in names {
        let Some(created) = created_at(&name) else {
            continue;
        };
        if now.saturating_sub(created) > older_than {
            drop_database(admin, &name).await?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// The creation time encoded in a test database's name (`lockstep_t_<uuid v7>`).
fn created_at(name: &str) -> Option<Duration> {
    let uuid = Uuid::parse_str(name.strip_prefix(TEST_DB_PREFIX)?).ok()?;
    let (secs, nanos) = uuid.get_timestamp()?.to_unix();
    Some(Duration::new(secs, nanos))
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut *admin)
        .await
        .with_context(|| format!("dropping database {name}"))?;
    Ok(())
}

async fn connect_admin(admin_url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", redact(admin_url)))
}

/// The server URL with its database path replaced by `database`.
fn database_url_for(admin_url: &str, database: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin_url)
        .with_context(|| format!("DATABASE_URL {} is not a URL", redact(admin_url)))?;
    url.set_path(&format!("/{database}"));
    Ok(url.into())
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.into()
        }
        Err(_) => "(unparseable URL)".to_owned(),
    }
}

/// FNV-1a over every migration's version and checksum: stable across builds and toolchains
/// (unlike `DefaultHasher`), so parallel test processes of one build agree on the template name.
fn migrations_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for migration in MIGRATOR.iter() {
        feed(&migration.version.to_le_bytes());
        feed(&migration.checksum);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_database_names_carry_their_creation_time() {
        let name = format!("{TEST_DB_PREFIX}{}", Uuid::now_v7().simple());
        assert!(
            name.len() <= 63,
            "PostgreSQL truncates identifiers at 63 bytes"
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let created = created_at(&name).unwrap();
        assert!(now.saturating_sub(created) < Duration::from_secs(5));
        assert_eq!(created_at("lockstep_t_not-a-uuid"), None);
        assert_eq!(created_at("postgres"), None);
    }

    #[test]
    fn urls_swap_the_database_and_hide_passwords() {
        assert_eq!(
            database_url_for("postgres://u:pw@h:5432/postgres?sslmode=disable", "x").unwrap(),
            "postgres://u:pw@h:5432/x?sslmode=disable"
        );
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert!(migrations_hash() != 0);
    }
}
