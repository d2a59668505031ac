//! A link frozen by a vendor version from the future (issue 14, defect 1): the poll publishes
//! the vendor's current record of its ticket so the applier can repair it, and an admin can reset
//! the link's version through `SyncService.ResetVendorVersion`.

use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{ActivityKind, SyncChannel, VendorVersion};
use lockstep_proto::v1 as pb;
use lockstep_store::{PageRequest, Role, TicketLinkRecord};
use time::macros::datetime;
use tonic::Code;

use crate::support::{Env, Sim};
use crate::sync_service::{authed, start, token};

/// Gives `link` a version from 2099, as one stored before such versions were refused.
async fn freeze(env: &Env, link: &TicketLinkRecord) {
    let snapshot = VendorSnapshot {
        version: VendorVersion::new(datetime!(2099-01-01 00:00 UTC), 9),
        state: "1".into(),
    };
    assert!(
        env.store()
            .links()
            .apply_vendor_state(env.tenant, link.id, &snapshot, SyncChannel::Webhook)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_poll_publishes_the_current_record_of_a_ticket_whose_link_holds_a_future_version() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 3600).await;
    let frozen = env.linked_ticket(&sim, &integration, "CVE-1").await;
    env.linked_ticket(&sim, &integration, "CVE-2").await;
    freeze(&env, &frozen).await;
    let mut app = start(&env, &sim).await;
    let admin = token(&env, env.tenant, "ops", Role::Admin).await;
    let result = app
        .client
        .resync(authed(
            pb::ResyncRequest {
                integration_id: integration.id.to_string(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    // Nothing changed at the vendor, but the frozen ticket's reading goes out for the repair.
    assert_eq!(result.tickets_changed, 1, "{result:?}");
    let observed = env.observed().await;
    assert_eq!(observed.len(), 1);
    let reading = observed[0].2.observation.as_ref().unwrap();
    assert_eq!(
        reading.ticket.as_ref().unwrap().key,
        frozen.ticket_key.as_ref().unwrap().as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn an_admin_resets_the_vendor_version_of_a_link_by_finding_or_link_id() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 3600).await;
    let frozen = env.linked_ticket(&sim, &integration, "CVE-1").await;
    let other = env.linked_ticket(&sim, &integration, "CVE-2").await;
    freeze(&env, &frozen).await;
    let mut app = start(&env, &sim).await;
    let request = |id: String| pb::ResetVendorVersionRequest { id };

    let analyst = token(&env, env.tenant, "ops", Role::Analyst).await;
    let denied = app
        .client
        .reset_vendor_version(authed(request(frozen.finding_id.to_string()), &analyst))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let admin = token(&env, env.tenant, "admin", Role::Admin).await;
    let reset = app
        .client
        .reset_vendor_version(authed(request(frozen.finding_id.to_string()), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reset.links.len(), 1);
    assert_eq!(reset.links[0].link_id, frozen.id.to_string());
    assert_eq!(reset.links[0].previous_version, "2099-01-01T00:00:00Z#9");
    let after = env
        .store()
        .links()
        .get(env.tenant, frozen.id)
        .await
        .unwrap();
    assert_eq!(after.vendor_snapshot, None);
    let feed = env
        .store()
        .activity()
        .list_for_finding(env.tenant, frozen.finding_id, PageRequest::first(5))
        .await
        .unwrap()
        .items;
    assert_eq!(feed[0].kind, ActivityKind::VendorVersionReset);
    assert_eq!(feed[0].actor, "admin");
    assert!(
        feed[0].message.contains("2099-01-01"),
        "{}",
        feed[0].message
    );

    // By link id: that link only.
    let by_link = app
        .client
        .reset_vendor_version(authed(request(other.id.to_string()), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_link.links.len(), 1);
    assert_eq!(by_link.links[0].finding_id, other.finding_id.to_string());
    assert!(!by_link.links[0].previous_version.is_empty());

    // Ids of another tenant, or of nothing, are NOT_FOUND; a malformed id INVALID_ARGUMENT.
    let globex = env.store().tenants().create("Globex").await.unwrap().id;
    let outsider = token(&env, globex, "globex", Role::Admin).await;
    let hidden = app
        .client
        .reset_vendor_version(authed(request(frozen.id.to_string()), &outsider))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let malformed = app
        .client
        .reset_vendor_version(authed(request("INC0010001".into()), &admin))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    app.stop().await;
}
