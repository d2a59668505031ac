-- Webhook secrets replaced by a rotation, still accepted until an admin retires them: the vendor
-- can switch to the new secret at its own pace while deliveries signed with either one pass.
-- `integrations.sealed_webhook_secret` stays the current (newest) secret.
CREATE TABLE previous_webhook_secrets (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    integration_id uuid        NOT NULL,
    -- lockstep_crypto::Sealed::to_bytes(), sealed with the integration's webhook-secret AAD.
    sealed_secret  bytea       NOT NULL,
    replaced_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
);

CREATE INDEX previous_webhook_secrets_integration_idx
    ON previous_webhook_secrets (integration_id, replaced_at DESC);
