-- Links between findings and external tickets.
--
-- Life of a link: `pending` is written BEFORE the vendor create call, so a crash between the call and
-- the write-back leaves a row that a repair job resolves by looking the ticket up by its correlation
-- id (`lockstep:<finding id>`); `live` once the ticket exists and is written back; `failed` when the
-- vendor refused the create; `unlinked` when the link was ended on purpose.

CREATE TABLE ticket_links (
    id                uuid        PRIMARY KEY,
    tenant_id         uuid        NOT NULL,
    finding_id        uuid        NOT NULL,
    integration_id    uuid        NOT NULL,
    vendor            text        NOT NULL CONSTRAINT ticket_links_vendor_check
                                  CHECK (vendor IN ('servicenow', 'jira', 'manageengine')),
    -- lockstep_domain::TicketTarget::container(): incident | change_request, a Jira project key,
    -- or request (ServiceDesk Plus).
    table_or_project  text        NOT NULL CONSTRAINT ticket_links_table_or_project_check
                                  CHECK (length(btrim(table_or_project)) BETWEEN 1 AND 200),
    external_id       text        NULL,   -- sys_id, Jira issue id, SDP request id
    ticket_key        text        NULL,   -- INC0010001, SEC-42, ...
    url               text        NULL,
    state             text        NOT NULL DEFAULT 'pending' CONSTRAINT ticket_links_state_check
                                  CHECK (state IN ('pending', 'live', 'failed', 'unlinked')),
    failure_reason    text        NULL,
    vendor_state      text        NULL,
    -- lockstep_domain::VendorVersion of the newest observation applied: newer means
    -- (vendor_updated_at, vendor_sequence) is greater. Both NULL until the first one.
    vendor_updated_at timestamptz NULL,
    vendor_sequence   bigint      NULL,
    sla_due_at        timestamptz NULL,
    sla_breached      boolean     NOT NULL DEFAULT false,
    last_sync_channel text        NULL CONSTRAINT ticket_links_last_sync_channel_check
                                  CHECK (last_sync_channel IN ('webhook', 'poll', 'manual', 'api')),
    last_synced_at    timestamptz NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ticket_links_finding_fkey
        FOREIGN KEY (tenant_id, finding_id) REFERENCES findings (tenant_id, id),
    CONSTRAINT ticket_links_integration_fkey
        FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id),
    CONSTRAINT ticket_links_live_has_ticket_check
        CHECK (state <> 'live' OR (external_id IS NOT NULL AND ticket_key IS NOT NULL)),
    -- A vendor snapshot (lockstep_domain::transition::VendorSnapshot) is all three or none.
    CONSTRAINT ticket_links_version_check CHECK (
        (vendor_updated_at IS NULL) = (vendor_sequence IS NULL)
        AND (vendor_updated_at IS NULL) = (vendor_state IS NULL))
);

-- At most one pending-or-live link per (finding, integration): the database, not a pre-flight read,
-- is what stops a finding from being ticketed twice.
CREATE UNIQUE INDEX ticket_links_one_active_key
    ON ticket_links (finding_id, integration_id) WHERE state IN ('pending', 'live');
-- One active link per external ticket, so an inbound observation resolves to exactly one finding.
-- Ended links (failed, unlinked) keep their ticket ids as history without blocking a re-link.
CREATE UNIQUE INDEX ticket_links_external_key
    ON ticket_links (tenant_id, integration_id, external_id)
    WHERE external_id IS NOT NULL AND state IN ('pending', 'live');
CREATE INDEX ticket_links_finding_idx ON ticket_links (tenant_id, finding_id);
CREATE INDEX ticket_links_integration_idx ON ticket_links (tenant_id, integration_id);
CREATE INDEX ticket_links_pending_idx ON ticket_links (tenant_id, created_at) WHERE state = 'pending';
