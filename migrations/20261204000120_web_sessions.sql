-- Browser sessions of the HTTP API: an API token (later an OIDC sign-in) exchanged for a
-- short-lived secret carried in an HttpOnly cookie. Only the SHA-256 of the secret is stored.
-- The session takes its tenant, name and role from its token at every use, so revoking the token
-- (or changing its role) ends or changes its sessions at once.
CREATE TABLE web_sessions (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    token_id     uuid        NOT NULL REFERENCES api_tokens (id),
    secret_hash  bytea       NOT NULL CONSTRAINT web_sessions_secret_hash_check CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CONSTRAINT web_sessions_secret_hash_key UNIQUE (secret_hash)
);

CREATE INDEX web_sessions_token_idx ON web_sessions (token_id);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
