-- virtuald schema, version 3: an operator's day (issue 13). One
-- migration for three things the operator records; each section belongs
-- to one feature. Nothing here changes how an existing row is decided:
-- every new column has a default that keeps today's meaning.

-- 1. A jail that is no jail, on purpose (vhostctl add/import/
-- migrate-inetd --unjailed, set --unjailed on|off). A root of '/', or one
-- that holds the database or another domain's jail, is refused by every
-- command that writes rows unless the row says 1 here, and a root of '/'
-- by virtuald too: the operator chose to run that service on the host's
-- file system, as the legacy HOWTO's `default /` did. virtuald skips the
-- THREATS K7 exposure check for such a row and logs "unjailed=1" on
-- every such connection (doc/design.md, "Operator's day").
ALTER TABLE domains ADD COLUMN unjailed INTEGER NOT NULL DEFAULT 0
    CHECK (typeof(unjailed) = 'integer' AND unjailed IN (0, 1));
-- The marked rows, found without a scan of a million: every vhostctl change
-- that removes or moves rows re-judges them in its transaction (a mark
-- whose reason is gone - the jail it held removed - is taken off, so that
-- K7 applies again), and check reports a stale one.
CREATE INDEX domains_unjailed ON domains(root) WHERE unjailed = 1;

-- 2. The change history (vhostctl history): one row per change of a
-- domain row, written in the same transaction as the change; bulk
-- commands (import, migrate-inetd) write one summary row. before/after
-- are JSON objects of the row (NULL: it did not exist); command is the
-- vhostctl command line as run. Bounded by settings.history_max: the
-- oldest rows go first.
CREATE TABLE history (
    id       INTEGER PRIMARY KEY,                 -- increasing
    time     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    uid      INTEGER NOT NULL,                    -- vhostctl's real uid
    login    TEXT NOT NULL DEFAULT '',            -- its login name (SUDO_USER, the tty's owner)
    command  TEXT NOT NULL,                       -- e.g. 'set http 127.0.0.2 --root /srv/b'
    service  TEXT,                                -- the row's key; NULL for a bulk summary
    address  TEXT,
    before   TEXT,                                -- JSON, NULL when added
    after    TEXT                                 -- JSON, NULL when removed
);
CREATE INDEX history_key ON history(service, address, id);

-- Operator settings, by name.
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO settings (name, value) VALUES ('history_max', '100000');

-- 3. Accepted findings (vhostctl accept): a finding of `vhostctl check`
-- that the operator has judged and accepted, with the reason. scope
-- 'domain': subject is 'SERVICE ADDRESS' of a row; scope 'jail': subject is
-- a jail path. path '' accepts the kind for the whole subject, else only
-- the finding at that path. `check` shows accepted findings apart and
-- exits 0 when nothing else remains.
CREATE TABLE accepted (
    kind     TEXT NOT NULL,                       -- e.g. 'runs-as-root', 'socket'
    scope    TEXT NOT NULL CHECK (scope IN ('domain', 'jail')),
    subject  TEXT NOT NULL,
    path     TEXT NOT NULL DEFAULT '',
    reason   TEXT NOT NULL CHECK (length(reason) > 0),
    uid      INTEGER NOT NULL,
    login    TEXT NOT NULL DEFAULT '',
    time     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (kind, scope, subject, path)
) WITHOUT ROWID;

PRAGMA user_version = 3;
