-- The Tickets workbench's filtered pages must cost what the page and its matching rows cost, not
-- what the tenant's total rows cost. Before this, a page filtered on severity (a finding column),
-- free text (finding and link columns) and SLA breach planned as sequential scans of both tables:
-- 46.6 ms p99 at 100,000 links and growing with the total (crates/api/benches/tickets_page.rs).
--
-- What a filter needs to be walked through an index is on the link row itself:
--
-- * `severity`: a copy of the finding's. Severity changes only when a re-import changes it, never
--   on inbound sync, so indexing it costs the sync applier nothing (its updates stay HOT).
-- * `search`: the finding's title, scanner key, asset and CVE and the link's ticket key and
--   external id, joined by U+001F. A pattern without U+001F matches the joined text exactly when
--   it matches one of the six columns (a match cannot span a separator it does not contain), so
--   one trigram index answers the six-column ILIKE. lockstep_store::workbench falls back to the
--   six columns for a search text containing U+001F.
--
-- Finding status is not copied: every inbound transition changes it, and an index on it would
-- make those updates non-HOT (see 20261123000108_hot_updates.sql). It stays a filter on the rows
-- the other conditions find.
--
-- Both copies are kept exact by triggers in the statement that changes their source, so no writer
-- (import upsert, link write-back, a bulk SQL load) can leave them stale. The sync applier writes
-- neither source column set (link vendor state and SLA; finding status), so none of these triggers
-- fire on its path.

-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE ticket_links ADD COLUMN severity text, ADD COLUMN search text;

-- The searchable text of a link; NULL columns are left out (concat_ws), which cannot create a
-- match across columns either.
CREATE FUNCTION ticket_link_search_text(title text, scanner_key text, asset text, cve text,
                                        ticket_key text, external_id text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN concat_ws(chr(31), title, scanner_key, asset, cve, ticket_key, external_id);

-- A new link, or one whose finding, ticket key or external id is written, takes its copies from
-- its finding. Whatever a statement writes into the copies themselves is replaced.
CREATE FUNCTION ticket_links_copy_finding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT f.severity,
           ticket_link_search_text(f.title, f.scanner_key, f.asset, f.cve, NEW.ticket_key, NEW.external_id)
      INTO NEW.severity, NEW.search
      FROM findings f
     WHERE f.tenant_id = NEW.tenant_id AND f.id = NEW.finding_id;
    IF NOT FOUND THEN
        -- The same error the composite foreign key would raise a moment later.
        RAISE EXCEPTION 'finding % of tenant % does not exist', NEW.finding_id, NEW.tenant_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ticket_links_finding_fkey',
                  TABLE = 'ticket_links';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ticket_links_copy_finding
    BEFORE INSERT OR UPDATE OF finding_id, ticket_key, external_id, severity, search ON ticket_links
    FOR EACH ROW EXECUTE FUNCTION ticket_links_copy_finding();

-- A finding whose severity or searchable text changes rewrites its links' copies in the same
-- statement. The WHEN clause keeps a re-import that changes nothing from touching the links.
CREATE FUNCTION findings_copy_to_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Setting `search` fires ticket_links_copy_finding, which recomputes both copies from the
    -- finding as this statement left it (an AFTER trigger sees the statement's changes).
    UPDATE ticket_links SET search = NULL
     WHERE tenant_id = NEW.tenant_id AND finding_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER findings_copy_to_links
    AFTER UPDATE OF severity, title, scanner_key, asset, cve ON findings
    FOR EACH ROW
    WHEN ((OLD.severity, OLD.title, OLD.scanner_key, OLD.asset, OLD.cve)
          IS DISTINCT FROM (NEW.severity, NEW.title, NEW.scanner_key, NEW.asset, NEW.cve))
    EXECUTE FUNCTION findings_copy_to_links();

-- Existing links: setting `search` fires the trigger above, which fills both copies.
UPDATE ticket_links SET search = NULL;
ALTER TABLE ticket_links ALTER COLUMN severity SET NOT NULL, ALTER COLUMN search SET NOT NULL;

-- Each index walks one filter in page order (newest link first), so a page filtered on it reads
-- about its 201 rows plus the rows the other filters drop, whatever the tenant's total. A link's
-- severity changes only on re-import and its breach flag at most once per SLA, so none of these
-- columns is written by the applier's per-event update.
CREATE INDEX ticket_links_workbench_severity_idx
    ON ticket_links (tenant_id, severity, created_at DESC, id DESC) WHERE state = 'live';
CREATE INDEX ticket_links_workbench_breached_idx
    ON ticket_links (tenant_id, created_at DESC, id DESC) WHERE state = 'live' AND sla_breached;
CREATE INDEX ticket_links_workbench_breached_severity_idx
    ON ticket_links (tenant_id, severity, created_at DESC, id DESC)
    WHERE state = 'live' AND sla_breached;
-- Free text: the rows containing the pattern's trigrams, then a sort of those (not of the tenant).
CREATE INDEX ticket_links_workbench_search_idx
    ON ticket_links USING gin (search gin_trgm_ops) WHERE state = 'live';
