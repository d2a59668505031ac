-- The sync channel `resync`: a person asked for one ticket to be read from the vendor now
-- (SyncService.ResyncTicket), recorded on the activity row and the link like any channel.
-- Widened as NOT VALID then validated, so the scan of existing rows does not block writes.

ALTER TABLE activity DROP CONSTRAINT activity_channel_check;
ALTER TABLE activity ADD CONSTRAINT activity_channel_check
    CHECK (channel IN ('webhook', 'poll', 'manual', 'api', 'resync')) NOT VALID;
ALTER TABLE activity VALIDATE CONSTRAINT activity_channel_check;

ALTER TABLE ticket_links DROP CONSTRAINT ticket_links_last_sync_channel_check;
ALTER TABLE ticket_links ADD CONSTRAINT ticket_links_last_sync_channel_check
    CHECK (last_sync_channel IN ('webhook', 'poll', 'manual', 'api', 'resync')) NOT VALID;
ALTER TABLE ticket_links VALIDATE CONSTRAINT ticket_links_last_sync_channel_check;
