-- Re-sync-all cooldowns: when each caller (an API token, named by its id) last started a re-sync of
-- every integration it sees. The server enforces the cooldown with one conditional upsert, so it
-- holds across poller replicas.
CREATE TABLE resync_cooldowns (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    caller     text        NOT NULL CONSTRAINT resync_cooldowns_caller_check
                           CHECK (length(caller) BETWEEN 1 AND 200),
    started_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, caller)
);
