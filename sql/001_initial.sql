-- virtuald schema, version 1.
-- One row is one domain: which jail serves SERVICE on local ADDRESS.
-- The table is WITHOUT ROWID with (service, address) as its primary key,
-- so the runtime lookup of one candidate is a single b-tree seek that
-- returns every column the decision needs (THREATS I3, J5).
CREATE TABLE domains (
    service   TEXT NOT NULL,            -- inetd service name, or '*'
    address   TEXT NOT NULL,            -- canonical IPv4/IPv6 text, or 'default'
    root      TEXT NOT NULL,            -- absolute, normalised jail path
    user      TEXT,                     -- run-as user name; NULL: root service
    grp       TEXT,                     -- run-as group name; NULL with user
    uid       INTEGER,                  -- resolved by vhostctl from the host
    gid       INTEGER,
    groups    TEXT NOT NULL DEFAULT '', -- supplementary gids, comma separated
    enabled   INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    comment   TEXT NOT NULL DEFAULT '',
    created   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (service, address),
    CHECK ((user IS NULL) = (uid IS NULL) AND (uid IS NULL) = (gid IS NULL)),
    CHECK (uid IS NULL OR (uid > 0 AND uid < 4294967295 AND uid <> 65535)),
    CHECK (gid IS NULL OR (gid > 0 AND gid < 4294967295 AND gid <> 65535)),
    CHECK (substr(root, 1, 1) = '/')
) WITHOUT ROWID;

PRAGMA application_id = 1449676627;  -- 0x56684f53, "VhOS": VH_DB_APPLICATION_ID
PRAGMA user_version = 1;
