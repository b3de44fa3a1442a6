-- virtuald schema, version 2: a generation number that every change of
-- the domains table moves on, whoever makes it (vhostctl, the sqlite3
-- shell, any program). vhostctl keeps a lookup index beside the database
-- (doc/design.md "The lookup index"); the generation tells it whether the
-- index still reflects the table, so that no change made behind its back
-- can leave an index that claims to be current.
CREATE TABLE vh_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO vh_meta (key, value) VALUES ('generation', 1);

CREATE TRIGGER domains_gen_insert AFTER INSERT ON domains
BEGIN UPDATE vh_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER domains_gen_update AFTER UPDATE ON domains
BEGIN UPDATE vh_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER domains_gen_delete AFTER DELETE ON domains
BEGIN UPDATE vh_meta SET value = value + 1 WHERE key = 'generation'; END;

PRAGMA user_version = 2;
