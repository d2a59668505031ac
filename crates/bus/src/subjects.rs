//! The subject space. In production the prefix is `lockstep`, giving the subjects of the architecture
//! (`lockstep.webhook.<tenant>.<integration>`, ...) on the stream `LOCKSTEP`.

use lockstep_domain::{IntegrationId, TenantId};

use crate::BusError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    pub fn new(prefix: &str) -> Result<Self, BusError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= 64
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(BusError::InvalidPrefix(prefix.to_owned()));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The stream holding every subject under the prefix: `LOCKSTEP` for the prefix `lockstep`.
    pub fn stream_name(&self) -> String {
        self.prefix.to_ascii_uppercase()
    }

    /// Every subject of the stream.
    pub fn all(&self) -> String {
        format!("{}.>", self.prefix)
    }

    pub fn webhook(&self, tenant: TenantId, integration: IntegrationId) -> String {
        format!("{}.webhook.{tenant}.{integration}", self.prefix)
    }

    pub fn all_webhooks(&self) -> String {
        format!("{}.webhook.>", self.prefix)
    }

    /// Webhook deliveries that only name the changed tickets (the vendor spec's
    /// `webhook_payload_is_notice`): the poller re-reads those tickets and publishes them on
    /// [`Subjects::observed`].
    pub fn notice(&self, tenant: TenantId, integration: IntegrationId) -> String {
        format!("{}.notice.{tenant}.{integration}", self.prefix)
    }

    pub fn all_notices(&self) -> String {
        format!("{}.notice.>", self.prefix)
    }

    pub fn observed(&self, tenant: TenantId, integration: IntegrationId) -> String {
        format!("{}.observed.{tenant}.{integration}", self.prefix)
    }

    pub fn all_observed(&self) -> String {
        format!("{}.observed.>", self.prefix)
    }

    pub fn finding_changed(&self, tenant: TenantId) -> String {
        format!("{}.finding.changed.{tenant}", self.prefix)
    }

    pub fn all_finding_changes(&self) -> String {
        format!("{}.finding.changed.>", self.prefix)
    }

    pub fn ticket_created(&self, tenant: TenantId) -> String {
        format!("{}.ticket.created.{tenant}", self.prefix)
    }

    /// Where a consumer parks events it can never apply, so they never block the stream.
    pub fn dead_letter(&self, consumer: &str) -> String {
        format!("{}.deadletter.{consumer}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_prefix_gives_the_architecture_subjects() {
        let s = Subjects::new("lockstep").unwrap();
        let t = TenantId::new();
        let i = IntegrationId::new();
        assert_eq!(s.stream_name(), "LOCKSTEP");
        assert_eq!(s.all(), "lockstep.>");
        assert_eq!(s.webhook(t, i), format!("lockstep.webhook.{t}.{i}"));
        assert_eq!(
            s.finding_changed(t),
            format!("lockstep.finding.changed.{t}")
        );
    }

    #[test]
    fn prefixes_that_would_break_subjects_are_refused() {
        for bad in ["", "a.b", "a b", "a>", "*"] {
            assert!(Subjects::new(bad).is_err(), "{bad:?} accepted");
        }
    }
}
