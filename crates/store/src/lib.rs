//! Every SQL statement of Lockstep, behind a typed, tenant-scoped API.
//!
//! ```text
//! let store = Store::connect(&url, 10).await?;
//! store.migrate().await?;
//! let page = store.findings().list(tenant, FindingFilter::default(), PageRequest::first(50)).await?;
//!
//! let mut tx = store.begin().await?;                 // or store.in_tx(async |tx| { ... })
//! if tx.inbox().insert_if_absent(tenant, "sync-applier", &event_id).await? {
//!     if tx.links().apply_vendor_state(tenant, link, &snapshot, SyncChannel::Webhook).await? {
//!         tx.findings().set_status_from_vendor(tenant, finding, to, Some(from)).await?;
//!         tx.activity().append(tenant, &entry).await?;
//!     }
//! }
//! tx.commit().await?;
//! ```
//!
//! Rules this crate keeps:
//! * every method that touches customer rows takes the caller's [`TenantId`] and filters on it;
//!   rows of other tenants behave exactly like rows that do not exist. The schema backs this with
//!   composite `(tenant_id, parent_id)` foreign keys. The exceptions, each named for what it is:
//!   [`PollState::list_due_integrations_across_tenants`] and
//!   [`PollState::claim_due_across_tenants`] (the poll scheduler; integration rows and schedules
//!   only), [`PollState::count_failing_across_tenants`] (a number for a metric),
//!   [`Integrations::find_for_webhook_delivery`] (ingest-webhook: a delivery URL names no tenant),
//!   [`ApiTokens::find_by_hash`] (authentication, which is how the tenant becomes known) and
//!   [`Inbox::prune_processed_before`] (retention, reads nothing);
//! * queries are checked at run time (`sqlx::query*` with hand-written `FromRow`), so building
//!   needs no database; the integration tests in `tests/store/` run every statement;
//! * the migrations in the workspace's `migrations/` folder are embedded in [`MIGRATOR`].
//!
//! [`TenantId`]: lockstep_domain::TenantId

mod activity;
mod apply_batch;
mod conn;
mod error;
mod findings;
mod inbox;
mod integrations;
mod links;
mod mapping;
mod page;
mod poll_state;
mod presets;
mod resync;
mod row;
mod sessions;
mod tenants;
mod tx;
mod workbench;

use std::time::Duration;

use lockstep_platform::config::{DatabaseConfig, SslMode};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

pub use activity::{Activity, ActivityRecord, NewActivity};
pub use apply_batch::{
    BatchWrites, Claimed, InboundBatch, InboxClaim, LinkAdvance, LockedLink, TicketLookup,
    VendorStatusChange,
};
pub use error::{StoreError, StoreResult};
pub use findings::{
    FindingFilter, FindingRecord, Findings, ImportOutcome, ImportedFinding, NewFinding,
    StatusChange,
};
pub use inbox::Inbox;
pub use integrations::{
    AuthKind, IntegrationRecord, IntegrationSettings, Integrations, NewIntegration, WebhookTarget,
};
pub use links::{LinkSla, LiveTicket, LiveVersion, TicketLinkRecord, TicketLinkState, TicketLinks};
pub use mapping::{EffectiveRules, MappingRulesRecord, MappingRulesStore};
pub use page::{Cursor, MAX_PAGE_SIZE, Page, PageRequest};
pub use poll_state::{ClaimedPoll, PollState, PollStateRecord};
pub use presets::{PresetRecord, Presets};
pub use resync::ResyncCooldowns;
pub use sessions::{SessionRecord, WebSessions};
pub use tenants::{ApiTokenRecord, ApiTokens, Role, TenantRecord, Tenants, TokenIdentity};
pub use tx::Tx;
pub use workbench::{MAX_SEARCH_CHARS, Workbench, WorkbenchFilter, WorkbenchRow};

/// The schema migrations, embedded at build time (`build.rs` rebuilds when the folder changes).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

fn ssl_mode(mode: SslMode) -> PgSslMode {
    match mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Allow => PgSslMode::Allow,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require => PgSslMode::Require,
        SslMode::VerifyCa => PgSslMode::VerifyCa,
        SslMode::VerifyFull => PgSslMode::VerifyFull,
    }
}

/// A handle on the database; cheap to clone (it shares one connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connects a pool as `[database]` says: size, how long a request may wait for a pooled
    /// connection (`acquire_timeout`) and TLS (`ssl_mode` and certificate files over the URL's).
    pub async fn connect_with(config: &DatabaseConfig) -> StoreResult<Self> {
        let mut options: PgConnectOptions = config.url.expose().parse()?;
        if let Some(mode) = config.ssl_mode {
            options = options.ssl_mode(ssl_mode(mode));
        }
        if let Some(path) = &config.ssl_root_cert {
            options = options.ssl_root_cert(path);
        }
        if let Some(path) = &config.ssl_client_cert {
            options = options.ssl_client_cert(path);
        }
        if let Some(path) = &config.ssl_client_key {
            options = options.ssl_client_key(path);
        }
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.get())
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Store { pool })
    }

    /// Connects a pool of at most `max_connections` connections with the URL alone (tools and
    /// tests). Waiting for a free connection fails after 10 seconds rather than hanging forever.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Store { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Store { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies pending migrations. Safe to run from many replicas at once: sqlx serializes
    /// migrators with an advisory lock.
    pub async fn migrate(&self) -> StoreResult<()> {
        Ok(MIGRATOR.run(&self.pool).await?)
    }

    /// A cheap round trip, for readiness probes.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(Tx::new(self.pool.begin().await?))
    }

    /// Runs `work` in a transaction: commits if it returns `Ok`, rolls back if it returns `Err`
    /// (or panics, or is cancelled, since dropping an uncommitted transaction rolls it back).
    pub async fn in_tx<T, E>(&self, work: impl AsyncFnOnce(&mut Tx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut tx = self.begin().await?;
        match work(&mut tx).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a failed transaction failed");
                }
                Err(err)
            }
        }
    }

    fn conn(&self) -> conn::Conn<'_> {
        conn::Conn::Pool(&self.pool)
    }

    pub fn tenants(&self) -> Tenants<'_> {
        Tenants::new(self.conn())
    }

    pub fn api_tokens(&self) -> ApiTokens<'_> {
        ApiTokens::new(self.conn())
    }

    pub fn findings(&self) -> Findings<'_> {
        Findings::new(self.conn())
    }

    pub fn integrations(&self) -> Integrations<'_> {
        Integrations::new(self.conn())
    }

    pub fn mapping_rules(&self) -> MappingRulesStore<'_> {
        MappingRulesStore::new(self.conn())
    }

    pub fn presets(&self) -> Presets<'_> {
        Presets::new(self.conn())
    }

    pub fn links(&self) -> TicketLinks<'_> {
        TicketLinks::new(self.conn())
    }

    pub fn activity(&self) -> Activity<'_> {
        Activity::new(self.conn())
    }

    pub fn inbox(&self) -> Inbox<'_> {
        Inbox::new(self.conn())
    }

    pub fn poll_state(&self) -> PollState<'_> {
        PollState::new(self.conn())
    }

    pub fn resync_cooldowns(&self) -> ResyncCooldowns<'_> {
        ResyncCooldowns::new(self.conn())
    }

    pub fn workbench(&self) -> Workbench<'_> {
        Workbench::new(self.conn())
    }

    pub fn web_sessions(&self) -> WebSessions<'_> {
        WebSessions::new(self.conn())
    }
}
