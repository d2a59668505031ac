-- Security findings imported from scanners.

CREATE TABLE findings (
    id            uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    -- The scanner's stable identity of the finding (lockstep_domain::ScannerKey: one line, at most
    -- 255 characters); a re-import with the same key updates the row.
    scanner_key   text        NOT NULL CONSTRAINT findings_scanner_key_check CHECK (length(scanner_key) BETWEEN 1 AND 255),
    title         text        NOT NULL CONSTRAINT findings_title_check CHECK (length(btrim(title)) BETWEEN 1 AND 1000),
    description   text        NOT NULL DEFAULT '',
    severity      text        NOT NULL CONSTRAINT findings_severity_check
                              CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    status        text        NOT NULL DEFAULT 'open' CONSTRAINT findings_status_check
                              CHECK (status IN ('open', 'in_progress', 're_test', 'closed', 'risk_accepted', 'false_positive')),
    -- The status Lockstep's own side (import, analyst, API) last set, and when. The vendor moves
    -- `status` but never these; lockstep_domain::transition decides from them (LocalStatus).
    local_status    text        NOT NULL DEFAULT 'open' CONSTRAINT findings_local_status_check
                                CHECK (local_status IN ('open', 'in_progress', 're_test', 'closed', 'risk_accepted', 'false_positive')),
    local_status_at timestamptz NOT NULL DEFAULT now(),
    asset         text        NULL,
    cve           text        NULL,
    cwe           text        NULL,
    scanner       text        NOT NULL DEFAULT '',
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT findings_scanner_key_key UNIQUE (tenant_id, scanner_key),
    -- Target of the composite foreign keys of ticket_links and activity.
    CONSTRAINT findings_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT findings_seen_order_check CHECK (first_seen_at <= last_seen_at)
);

-- Keyset pagination of the workbench: newest first within a tenant.
CREATE INDEX findings_tenant_created_idx ON findings (tenant_id, created_at DESC, id DESC);
CREATE INDEX findings_tenant_status_idx ON findings (tenant_id, status);
