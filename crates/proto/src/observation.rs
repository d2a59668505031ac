//! `TicketObservation` and its parts ⇄ protobuf. Decoding re-parses every field through the domain
//! constructors, so a malformed event on the stream is refused here rather than applied.

use lockstep_domain::{ObservedFields, TicketObservation, TicketRef, Vendor, VendorVersion};

use crate::{ConversionError, from_timestamp, to_timestamp, v1};

fn invalid(message: &'static str, field: &'static str, problem: impl ToString) -> ConversionError {
    ConversionError {
        message,
        field,
        problem: problem.to_string(),
    }
}

fn non_empty(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

impl From<&TicketRef> for v1::TicketRef {
    fn from(r: &TicketRef) -> Self {
        Self {
            vendor: r.vendor().as_str().to_owned(),
            table_or_project: r.target().container().to_owned(),
            external_id: r.external_id().as_str().to_owned(),
            key: r.key().as_str().to_owned(),
        }
    }
}

impl TryFrom<&v1::TicketRef> for TicketRef {
    type Error = ConversionError;

    fn try_from(r: &v1::TicketRef) -> Result<Self, Self::Error> {
        let vendor: Vendor = r
            .vendor
            .parse()
            .map_err(|e| invalid("TicketRef", "vendor", e))?;
        TicketRef::parse(vendor, &r.table_or_project, &r.external_id, &r.key)
            .map_err(|e| invalid("TicketRef", "ticket", e))
    }
}

impl From<&VendorVersion> for v1::VendorVersion {
    fn from(v: &VendorVersion) -> Self {
        Self {
            updated_at: Some(to_timestamp(v.updated_at())),
            sequence: v.sequence(),
        }
    }
}

impl TryFrom<&v1::VendorVersion> for VendorVersion {
    type Error = ConversionError;

    fn try_from(v: &v1::VendorVersion) -> Result<Self, Self::Error> {
        let updated_at = v
            .updated_at
            .as_ref()
            .and_then(from_timestamp)
            .ok_or_else(|| invalid("VendorVersion", "updated_at", "missing or out of range"))?;
        Ok(VendorVersion::new(updated_at, v.sequence))
    }
}

impl From<&ObservedFields> for v1::ObservedFields {
    fn from(f: &ObservedFields) -> Self {
        Self {
            assignment_group: f.assignment_group.clone().unwrap_or_default(),
            assignee: f.assignee.clone().unwrap_or_default(),
            priority: f.priority.clone().unwrap_or_default(),
            sla_due: f.sla_due.map(to_timestamp),
            sla_breached: f.sla_breached,
        }
    }
}

impl From<&v1::ObservedFields> for ObservedFields {
    fn from(f: &v1::ObservedFields) -> Self {
        Self {
            assignment_group: non_empty(&f.assignment_group),
            assignee: non_empty(&f.assignee),
            priority: non_empty(&f.priority),
            sla_due: f.sla_due.as_ref().and_then(from_timestamp),
            sla_breached: f.sla_breached,
        }
    }
}

impl From<&TicketObservation> for v1::TicketObservation {
    fn from(o: &TicketObservation) -> Self {
        Self {
            ticket: Some((&o.ticket).into()),
            vendor_state: o.vendor_state.clone(),
            vendor_state_label: o.vendor_state_label.clone().unwrap_or_default(),
            vendor_state_category: o.vendor_state_category.clone().unwrap_or_default(),
            resolution: o.resolution.clone().unwrap_or_default(),
            version: Some((&o.version).into()),
            actor: o.actor.clone().unwrap_or_default(),
            observed_at: Some(to_timestamp(o.observed_at)),
            fields: Some((&o.fields).into()),
        }
    }
}

impl TryFrom<&v1::TicketObservation> for TicketObservation {
    type Error = ConversionError;

    fn try_from(o: &v1::TicketObservation) -> Result<Self, Self::Error> {
        const MSG: &str = "TicketObservation";
        let ticket = o
            .ticket
            .as_ref()
            .ok_or_else(|| invalid(MSG, "ticket", "missing"))?
            .try_into()?;
        let version = o
            .version
            .as_ref()
            .ok_or_else(|| invalid(MSG, "version", "missing"))?
            .try_into()?;
        let observed_at = o
            .observed_at
            .as_ref()
            .and_then(from_timestamp)
            .ok_or_else(|| invalid(MSG, "observed_at", "missing or out of range"))?;
        if o.vendor_state.trim().is_empty() {
            return Err(invalid(MSG, "vendor_state", "empty"));
        }
        Ok(TicketObservation {
            ticket,
            vendor_state: o.vendor_state.clone(),
            vendor_state_label: non_empty(&o.vendor_state_label),
            vendor_state_category: non_empty(&o.vendor_state_category),
            resolution: non_empty(&o.resolution),
            version,
            actor: non_empty(&o.actor),
            observed_at,
            fields: o.fields.as_ref().map(Into::into).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn observation() -> TicketObservation {
        TicketObservation {
            ticket: TicketRef::parse(
                Vendor::ServiceNow,
                "incident",
                "9d385017c611228701d22104cc95c371",
                "INC0010001",
            )
            .unwrap(),
            vendor_state: "6".into(),
            vendor_state_label: Some("Resolved".into()),
            vendor_state_category: None,
            resolution: Some("Solution provided".into()),
            version: VendorVersion::servicenow("2026-11-23 06:42:36", "4").unwrap(),
            actor: Some("beth.anglin".into()),
            observed_at: datetime!(2026-11-23 06:42:40.5 UTC),
            fields: ObservedFields {
                assignment_group: Some("Security Ops".into()),
                assignee: None,
                priority: Some("2".into()),
                sla_due: Some(datetime!(2026-11-24 06:42:36 UTC)),
                sla_breached: Some(false),
            },
        }
    }

    #[test]
    fn observation_round_trips_through_protobuf() {
        let domain = observation();
        let wire: v1::TicketObservation = (&domain).into();
        let bytes = prost::Message::encode_to_vec(&wire);
        let decoded = <v1::TicketObservation as prost::Message>::decode(bytes.as_slice()).unwrap();
        assert_eq!(TicketObservation::try_from(&decoded).unwrap(), domain);
    }

    #[test]
    fn a_missing_version_or_bad_ticket_is_refused() {
        let mut wire: v1::TicketObservation = (&observation()).into();
        wire.version = None;
        let err = TicketObservation::try_from(&wire).unwrap_err();
        assert_eq!(err.field, "version");

        let mut wire: v1::TicketObservation = (&observation()).into();
        wire.ticket.as_mut().unwrap().vendor = "remedy".into();
        assert_eq!(
            TicketObservation::try_from(&wire).unwrap_err().field,
            "vendor"
        );
    }
}
