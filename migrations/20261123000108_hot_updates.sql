-- Inbound sync rewrites a link's vendor snapshot and its finding's status on every ticket change.
-- Those updates are cheap only as HOT updates (no index entries written), which needs two things:
--
-- 1. Free room on the row's own page: a fill factor of 70 keeps 30 % of each page for new row
--    versions. (It applies to pages written from now on; existing pages get it as they are
--    rewritten by VACUUM FULL or pg_repack.)
-- 2. No index on a column the update changes. `findings_tenant_status_idx` indexed the status,
--    which every transition changes, so every status change wrote a new entry into each of the
--    table's five indexes: ~4x the cost of the update itself (measured on 256-row batches). The
--    finding list filters on status while it walks `findings_tenant_created_idx` in page order,
--    so it does not need that index.
ALTER TABLE ticket_links SET (fillfactor = 70);
ALTER TABLE findings SET (fillfactor = 70);
DROP INDEX findings_tenant_status_idx;
