-- The append-only activity feed of each finding.

CREATE TABLE activity (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    finding_id  uuid        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    channel     text        NOT NULL CONSTRAINT activity_channel_check
                            CHECK (channel IN ('webhook', 'poll', 'manual', 'api')),
    -- Who did it: the vendor user for inbound changes, the API token name for ours.
    actor       text        NOT NULL,
    -- A machine-readable slug such as status_changed or ticket_created.
    kind        text        NOT NULL CONSTRAINT activity_kind_check CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    from_status text        NULL CONSTRAINT activity_from_status_check
                            CHECK (from_status IN ('open', 'in_progress', 're_test', 'closed', 'risk_accepted', 'false_positive')),
    to_status   text        NULL CONSTRAINT activity_to_status_check
                            CHECK (to_status IN ('open', 'in_progress', 're_test', 'closed', 'risk_accepted', 'false_positive')),
    message     text        NOT NULL DEFAULT '',
    details     jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT activity_finding_fkey
        FOREIGN KEY (tenant_id, finding_id) REFERENCES findings (tenant_id, id)
);

CREATE INDEX activity_finding_at_idx ON activity (tenant_id, finding_id, at DESC, id DESC);

-- Append-only means history cannot be rewritten: refuse every UPDATE. (DELETE stays possible for
-- retention and tenant off-boarding, which remove whole feeds rather than edit them.)
CREATE FUNCTION activity_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'activity rows are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER activity_append_only BEFORE UPDATE ON activity
    FOR EACH ROW EXECUTE FUNCTION activity_refuse_update();
