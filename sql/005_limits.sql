-- virtuald schema, version 5: per-domain limits (issue 16). One
-- customer's connections cannot take the others': a row may bound how
-- many instances of its service run at once, and how many of them come
-- from one source (the original client when proxied), sources grouped by
-- prefix so that one IPv6 client cannot rotate through its /64. The
-- runtime counts with kernel locks held by the service's waiting parent
-- (src/lib/slots.h), never in this file. 0: no limit, as every existing
-- row; such rows cost nothing per connection. Ordinary columns of the
-- same WITHOUT ROWID row: the lookup's one seek still returns every
-- column of the decision (I3, J5). ADD COLUMN checks the constraints
-- against every row once (well under a second at a million rows).
ALTER TABLE domains ADD COLUMN max_instances INTEGER NOT NULL DEFAULT 0
    CHECK (typeof(max_instances) = 'integer' AND max_instances BETWEEN 0 AND 4096);
ALTER TABLE domains ADD COLUMN max_per_source INTEGER NOT NULL DEFAULT 0
    CHECK (typeof(max_per_source) = 'integer' AND max_per_source BETWEEN 0 AND 64);
ALTER TABLE domains ADD COLUMN source_prefix4 INTEGER NOT NULL DEFAULT 32
    CHECK (typeof(source_prefix4) = 'integer' AND source_prefix4 BETWEEN 8 AND 32);
ALTER TABLE domains ADD COLUMN source_prefix6 INTEGER NOT NULL DEFAULT 64
    CHECK (typeof(source_prefix6) = 'integer' AND source_prefix6 BETWEEN 16 AND 128);

PRAGMA user_version = 5;
