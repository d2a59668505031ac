-- Integrations (one configured ITSM instance each), their mapping rules, and ticket presets.

CREATE TABLE integrations (
    id                     uuid        PRIMARY KEY,
    tenant_id              uuid        NOT NULL REFERENCES tenants (id),
    vendor                 text        NOT NULL CONSTRAINT integrations_vendor_check
                                       CHECK (vendor IN ('servicenow', 'jira', 'manageengine')),
    name                   text        NOT NULL CONSTRAINT integrations_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    base_url               text        NOT NULL CONSTRAINT integrations_base_url_check CHECK (base_url ~* '^https?://[^/]'),
    auth_kind              text        NOT NULL CONSTRAINT integrations_auth_kind_check
                                       CHECK (auth_kind IN ('basic', 'oauth2_client_credentials', 'oauth2_password', 'api_key')),
    -- lockstep_crypto::Sealed::to_bytes(); the AAD binds tenant + integration + purpose.
    sealed_credentials     bytea       NOT NULL,
    sealed_webhook_secret  bytea       NULL,
    settings               jsonb       NOT NULL DEFAULT '{}' CONSTRAINT integrations_settings_check
                                       CHECK (jsonb_typeof(settings) = 'object'),
    active                 boolean     NOT NULL DEFAULT true,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    -- When the current credentials were stored (creation or last rotation): the age of the secret.
    credentials_rotated_at timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: the row stays so ticket links and activity keep a real integration to point at,
    -- but it is invisible to every read, its secrets are wiped and its name is free again.
    deleted_at             timestamptz NULL,
    CONSTRAINT integrations_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT integrations_deleted_wiped_check CHECK (
        deleted_at IS NULL
        OR (NOT active AND sealed_webhook_secret IS NULL AND length(sealed_credentials) = 0)),
    CONSTRAINT integrations_credentials_check CHECK (deleted_at IS NOT NULL OR length(sealed_credentials) > 0)
);

CREATE UNIQUE INDEX integrations_name_key ON integrations (tenant_id, lower(name)) WHERE deleted_at IS NULL;

-- One document per integration: lockstep_domain::MappingRules in its serde form (severity →
-- priority fields, inbound and outbound status rules, for each kind of ticket of the vendor).
CREATE TABLE mapping_rules (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    integration_id uuid        NOT NULL,
    rules          jsonb       NOT NULL CONSTRAINT mapping_rules_rules_check CHECK (jsonb_typeof(rules) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mapping_rules_integration_key UNIQUE (integration_id),
    CONSTRAINT mapping_rules_integration_fkey
        FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
);

CREATE TABLE presets (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    name       text        NOT NULL CONSTRAINT presets_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    fields     jsonb       NOT NULL CONSTRAINT presets_fields_check CHECK (jsonb_typeof(fields) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX presets_name_key ON presets (tenant_id, lower(name));
