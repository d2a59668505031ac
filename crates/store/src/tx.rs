//! Transactions. A [`Tx`] offers the same area handles as the store, so a multi-step write reads
//! like the single-step one: the sync-applier's inbox insert, link update, finding status change
//! and activity append become one atomic unit by writing `tx.` instead of `store.`.

use sqlx::{Postgres, Transaction};

use crate::activity::Activity;
use crate::apply_batch::InboundBatch;
use crate::conn::Conn;
use crate::error::StoreResult;
use crate::findings::Findings;
use crate::inbox::Inbox;
use crate::integrations::Integrations;
use crate::links::TicketLinks;
use crate::mapping::MappingRulesStore;
use crate::poll_state::PollState;
use crate::presets::Presets;
use crate::tenants::{ApiTokens, Tenants};

/// An open transaction. Dropping it without [`Tx::commit`] rolls it back.
pub struct Tx {
    inner: Transaction<'static, Postgres>,
}

impl Tx {
    pub(crate) fn new(inner: Transaction<'static, Postgres>) -> Self {
        Tx { inner }
    }

    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.inner.commit().await?)
    }

    pub async fn rollback(self) -> StoreResult<()> {
        Ok(self.inner.rollback().await?)
    }

    fn conn(&mut self) -> Conn<'_> {
        Conn::Tx(&mut self.inner)
    }

    pub fn tenants(&mut self) -> Tenants<'_> {
        Tenants::new(self.conn())
    }

    pub fn api_tokens(&mut self) -> ApiTokens<'_> {
        ApiTokens::new(self.conn())
    }

    pub fn findings(&mut self) -> Findings<'_> {
        Findings::new(self.conn())
    }

    pub fn integrations(&mut self) -> Integrations<'_> {
        Integrations::new(self.conn())
    }

    pub fn mapping_rules(&mut self) -> MappingRulesStore<'_> {
        MappingRulesStore::new(self.conn())
    }

    pub fn presets(&mut self) -> Presets<'_> {
        Presets::new(self.conn())
    }

    pub fn links(&mut self) -> TicketLinks<'_> {
        TicketLinks::new(self.conn())
    }

    pub fn activity(&mut self) -> Activity<'_> {
        Activity::new(self.conn())
    }

    pub fn inbox(&mut self) -> Inbox<'_> {
        Inbox::new(self.conn())
    }

    pub fn poll_state(&mut self) -> PollState<'_> {
        PollState::new(self.conn())
    }

    /// The sync-applier's set-based batch statements (only in a transaction).
    pub fn inbound_batch(&mut self) -> InboundBatch<'_> {
        InboundBatch::new(self.conn())
    }
}
