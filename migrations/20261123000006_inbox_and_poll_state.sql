-- Idempotency of event consumers, and the poller's per-integration schedule.

-- Event ids a consumer has applied. The row is inserted in the same transaction as the event's
-- effect, so a redelivered event finds its id and is acknowledged without being applied twice.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Pruning by age (rows older than the longest vendor retry horizon).
CREATE INDEX inbox_processed_at_idx ON inbox (processed_at);

-- One row per integration, created with the integration.
CREATE TABLE poll_state (
    integration_id       uuid        PRIMARY KEY,
    tenant_id            uuid        NOT NULL,
    -- Vendor-side "updated since" of the last completed poll; only ever moves forward.
    watermark            timestamptz NULL,
    -- Which poller replica holds the integration, until when.
    lease_owner          text        NULL,
    lease_expires_at     timestamptz NULL,
    next_due_at          timestamptz NOT NULL DEFAULT now(),
    last_success_at      timestamptz NULL,
    last_error           text        NULL,
    consecutive_failures integer     NOT NULL DEFAULT 0 CONSTRAINT poll_state_failures_check CHECK (consecutive_failures >= 0),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT poll_state_integration_fkey
        FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id),
    CONSTRAINT poll_state_lease_check CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);

CREATE INDEX poll_state_next_due_idx ON poll_state (next_due_at);
