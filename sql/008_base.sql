-- virtuald schema, version 8: one shared system layer (issue 14 point 5;
-- doc/jails.md "A shared base", doc/design.md "The base").
--
-- base: NULL, the jail holds its own programs and libraries (every row
-- before this version); else the absolute, normalised path of a base: a
-- directory tree built by `vhostctl provision` like any jail, owned by
-- root, whose code directories (those of bin, sbin, lib, lib32, lib64,
-- libx32 and usr that it has) virtuald binds read-only, nosuid and nodev
-- over the same directories of the jail, inside the service's own mount
-- namespace, so that the jail holds only the customer's data and config
-- (/etc stays the jail's). Every reader checks the path again
-- (vh_row_from_cols) and virtuald walks it with the jail's path checker
-- on every connection. A base of '/' would bind the host's own /usr: no.
ALTER TABLE domains ADD COLUMN base TEXT DEFAULT NULL
    CHECK (base IS NULL OR (typeof(base) = 'text' AND substr(base, 1, 1) = '/' AND base <> '/'));
-- The bases in use, found without a scan of a million rows: vhostctl
-- checks every new jail against them (a jail inside a base, or a base
-- inside a jail, is refused: THREATS K8).
CREATE INDEX domains_base ON domains(base) WHERE base IS NOT NULL;

PRAGMA user_version = 8;
