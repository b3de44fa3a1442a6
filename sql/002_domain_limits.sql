-- virtuald schema, version 2: two settings of a domain's service that the
-- runtime applies (THREATS K5, K10). Both are ordinary columns of the
-- same WITHOUT ROWID row, so the lookup's one seek still returns every
-- column of the decision (I3, J5). ADD COLUMN checks the constraints
-- against every existing row: a version 1 row gets the defaults.

-- 1: a root service keeps CAP_NET_BIND_SERVICE (binds ports below 1024,
-- e.g. ftpd's active-mode port 20); 0, the default: it loses it (K5).
-- A run-as service has no capabilities at all, so 1 on a run-as row
-- would promise what the runtime never gives: refused here too.
ALTER TABLE domains ADD COLUMN net_bind_service INTEGER NOT NULL DEFAULT 0
    CHECK (typeof(net_bind_service) = 'integer' AND net_bind_service IN (0, 1)
           AND (net_bind_service = 0 OR user IS NULL));

-- The most processes the domain's service may have at once, enforced by
-- the domain's pids cgroup (K10: RLIMIT_NPROC never limits uid 0).
-- 1 .. 4194304 (the kernel's PID_MAX_LIMIT on 64-bit).
ALTER TABLE domains ADD COLUMN max_procs INTEGER NOT NULL DEFAULT 1024
    CHECK (typeof(max_procs) = 'integer' AND max_procs BETWEEN 1 AND 4194304);

-- Jail paths, for the nesting rule (K8): vhostctl add asks whether its
-- jail lies inside another or another inside it with index seeks (each
-- ancestor by equality, the descendants as one range), not a scan of a
-- million rows. virtuald never reads it.
CREATE INDEX domains_root ON domains(root);

PRAGMA user_version = 2;
