-- The vendor's id of the webhook Lockstep registered for an integration (Jira: the admin
-- webhook's id), kept so deleting the integration can remove it. A column of its own, not a
-- settings field: UpdateIntegration replaces the settings JSON as a whole, which would forget it.
-- NULL when nothing was registered (set up by hand, or a vendor without the capability).
ALTER TABLE integrations ADD COLUMN vendor_webhook_id text;
