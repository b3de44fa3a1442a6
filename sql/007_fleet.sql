-- virtuald schema, version 7: a fleet of hosts sharing one configuration
-- (issue 18; ../shared/design/fleet.md 5.3; doc/design.md "A fleet").
--
-- The fleet's tables are domains and proxy_sources (and prefix_lengths,
-- which their triggers keep): a master changes them, a replica receives
-- them only by `vhostctl sync` of a master's snapshot. Everything else
-- (history, accepted findings, settings, jail manifests) belongs to the
-- host. One row says which role this database plays.
CREATE TABLE fleet (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    -- standalone: no fleet (every database before this version);
    -- master: the fleet's one writer, counting a generation per change;
    -- replica: written only by sync.
    role       TEXT NOT NULL DEFAULT 'standalone'
               CHECK (role IN ('standalone', 'master', 'replica')),
    -- the fleet's name, the same on every host of it; '' when standalone
    fleet_id   TEXT NOT NULL DEFAULT ''
               CHECK (length(fleet_id) <= 64 AND fleet_id NOT GLOB '*[^A-Za-z0-9._-]*'),
    -- master: a random id (32 hex digits) drawn when it became master;
    -- replica: the id of the master whose snapshot it applied last.
    -- Generations count within one master: a snapshot of another
    -- master (two masters with one fleet id, a master rebuilt) is
    -- refused unless sync --force.
    master_id  TEXT NOT NULL DEFAULT ''
               CHECK (master_id = '' OR (length(master_id) = 32 AND master_id NOT GLOB '*[^0-9a-f]*')),
    -- master: one more with each change of the fleet's tables;
    -- replica: the generation of the snapshot last applied
    generation INTEGER NOT NULL DEFAULT 0
               CHECK (typeof(generation) = 'integer' AND generation >= 0),
    changed    TEXT NOT NULL DEFAULT '',   -- when that generation was made, on the master (UTC)
    -- replica: the last sync (UTC), what it applied, and why it failed
    -- ('' after a good one)
    synced_at  TEXT NOT NULL DEFAULT '',
    sync_file  TEXT NOT NULL DEFAULT '',
    sync_error TEXT NOT NULL DEFAULT ''
);
INSERT INTO fleet (id) VALUES (1);

PRAGMA user_version = 7;
