//! One ticket read from its vendor now and published as an observation: the one path shared by
//! webhook notices ([`crate::notice`], channel `webhook`) and the re-sync of one ticket
//! ([`crate::resync_ticket`], channel `resync`). The observation goes to
//! `observed.<tenant>.<integration>` under the id a poll of the same ticket version gets
//! ([`event_id`]), so a version is applied once whichever path reads it first.

use lockstep_bus::{BusError, Published};
use lockstep_connectors::ConnectorError;
use lockstep_domain::{SyncChannel, TicketObservation, TicketRef};
use lockstep_proto::v1;
use lockstep_service_kit::vendor;
use lockstep_store::IntegrationRecord;

use crate::Poller;
use crate::poll::event_id;

impl Poller {
    /// `ticket` as the vendor of `integration` has it now.
    pub(crate) async fn read_one(
        &self,
        integration: &IntegrationRecord,
        ticket: &TicketRef,
    ) -> Result<TicketObservation, ConnectorError> {
        let client = self
            .inner
            .connectors
            .connector(&vendor::access(integration))?;
        client.read_ticket(ticket).await
    }

    /// Publishes `observation` of `integration`'s ticket, as brought by `channel`, and waits for
    /// JetStream's acknowledgement. Returns the event id with the acknowledgement.
    pub(crate) async fn publish_reading(
        &self,
        integration: &IntegrationRecord,
        observation: &TicketObservation,
        channel: SyncChannel,
    ) -> Result<(String, Published), BusError> {
        let (tenant, id) = (integration.tenant_id, integration.id);
        let event = v1::TicketObserved {
            event_id: event_id(id, observation),
            tenant_id: tenant.to_string(),
            integration_id: id.to_string(),
            observation: Some(observation.into()),
            channel: channel.as_str().to_owned(),
        };
        let subject = self.inner.bus.subjects().observed(tenant, id);
        let published = self.inner.bus.publish(&subject, &event).await?;
        Ok((event.event_id, published))
    }
}
