-- Integrations may authenticate with an OAuth 2.0 refresh token from an admin's consent (Jira Cloud
-- 3LO, Zoho for ServiceDesk Plus Cloud). The check keeps the stored kinds to the ones the code knows.
ALTER TABLE integrations DROP CONSTRAINT integrations_auth_kind_check;
ALTER TABLE integrations ADD CONSTRAINT integrations_auth_kind_check
    CHECK (auth_kind IN ('basic', 'oauth2_client_credentials', 'oauth2_password', 'api_key',
                         'oauth2_refresh_token'));
