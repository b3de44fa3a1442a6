-- virtuald schema, version 4: behind a load balancer (issue 15). Trusted
-- PROXY protocol sources, and prefix rows. Nothing here changes how an
-- existing row is decided: no existing row is a prefix, and without
-- proxy_sources rows virtuald reads no header (doc/design.md "Behind a
-- load balancer"; ../shared/design/fleet.md sections 1 and 3, whose
-- "002_fleet" this is: the limits and the fleet tables come with their
-- own issues).

-- 1. domains.address keeps its name and primary-key position and may now
-- also hold a prefix: the network address in canonical text with the host
-- bits zero, '/', the length in decimal (127.0.1.0/24, fd56:6864:7600:20::/64;
-- IPv4 /1-/31, IPv6 /1-/127: /32 and /128 are spelt as the address).
-- vhostctl writes only that form (src/lib/addr.h vh_prefix_canon), so the
-- runtime finds a prefix row with the same primary-key seek as an address.

-- 2. Balancers allowed - and obliged - to send a PROXY header before the
-- client's bytes. A peer matching a row of the connection's service or of
-- '*' is trusted: its header is mandatory and chooses the row by the
-- original destination. Any other peer's bytes are never parsed.
CREATE TABLE proxy_sources (
    service  TEXT NOT NULL,              -- inetd service name, or '*'
    source   TEXT NOT NULL,              -- canonical address or prefix, as domains.address
    versions INTEGER NOT NULL DEFAULT 3
        CHECK (typeof(versions) = 'integer' AND versions BETWEEN 1 AND 3), -- bit 0: v1, bit 1: v2
    comment  TEXT NOT NULL DEFAULT '',
    created  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (service, source)
) WITHOUT ROWID;

-- 3. The prefix lengths in use, per table and family, so that a lookup
-- probes only those (one primary-key seek per length, longest first),
-- never scans. Kept by the triggers below in the same statement as the
-- row change, so that no writer can forget it and it never drifts; refs
-- is the number of rows of that length.
CREATE TABLE prefix_lengths (
    tbl    TEXT    NOT NULL CHECK (tbl IN ('domains', 'proxy_sources')),
    family INTEGER NOT NULL CHECK (family IN (4, 6)),
    len    INTEGER NOT NULL CHECK (len BETWEEN 1 AND 127),
    refs   INTEGER NOT NULL CHECK (refs >= 0), -- 0 only inside a trigger, which removes it
    PRIMARY KEY (tbl, family, len)
) WITHOUT ROWID;

-- A key holds a prefix when it has a '/'; its family is 6 when it has a
-- ':'; its length is what follows the '/'.
CREATE TRIGGER domains_prefix_ins AFTER INSERT ON domains
WHEN instr(NEW.address, '/') > 0
BEGIN
    INSERT INTO prefix_lengths (tbl, family, len, refs)
    VALUES ('domains', CASE WHEN instr(NEW.address, ':') > 0 THEN 6 ELSE 4 END,
            CAST(substr(NEW.address, instr(NEW.address, '/') + 1) AS INTEGER), 1)
    ON CONFLICT (tbl, family, len) DO UPDATE SET refs = refs + 1;
END;

CREATE TRIGGER domains_prefix_del AFTER DELETE ON domains
WHEN instr(OLD.address, '/') > 0
BEGIN
    UPDATE prefix_lengths SET refs = refs - 1
    WHERE tbl = 'domains' AND family = CASE WHEN instr(OLD.address, ':') > 0 THEN 6 ELSE 4 END
      AND len = CAST(substr(OLD.address, instr(OLD.address, '/') + 1) AS INTEGER);
    DELETE FROM prefix_lengths WHERE tbl = 'domains' AND refs = 0;
END;

-- A key never changes in place (vhostctl set keeps the key); should one,
-- the row leaves one length and joins another.
CREATE TRIGGER domains_prefix_upd AFTER UPDATE OF address ON domains
WHEN instr(OLD.address, '/') > 0 OR instr(NEW.address, '/') > 0
BEGIN
    SELECT RAISE(ABORT, 'a domain key is never changed in place: remove the row and add it again');
END;

CREATE TRIGGER proxy_sources_prefix_ins AFTER INSERT ON proxy_sources
WHEN instr(NEW.source, '/') > 0
BEGIN
    INSERT INTO prefix_lengths (tbl, family, len, refs)
    VALUES ('proxy_sources', CASE WHEN instr(NEW.source, ':') > 0 THEN 6 ELSE 4 END,
            CAST(substr(NEW.source, instr(NEW.source, '/') + 1) AS INTEGER), 1)
    ON CONFLICT (tbl, family, len) DO UPDATE SET refs = refs + 1;
END;

CREATE TRIGGER proxy_sources_prefix_del AFTER DELETE ON proxy_sources
WHEN instr(OLD.source, '/') > 0
BEGIN
    UPDATE prefix_lengths SET refs = refs - 1
    WHERE tbl = 'proxy_sources' AND family = CASE WHEN instr(OLD.source, ':') > 0 THEN 6 ELSE 4 END
      AND len = CAST(substr(OLD.source, instr(OLD.source, '/') + 1) AS INTEGER);
    DELETE FROM prefix_lengths WHERE tbl = 'proxy_sources' AND refs = 0;
END;

CREATE TRIGGER proxy_sources_prefix_upd AFTER UPDATE OF source ON proxy_sources
BEGIN
    SELECT RAISE(ABORT, 'a trusted source is never changed in place: remove it and add it again');
END;

PRAGMA user_version = 4;
