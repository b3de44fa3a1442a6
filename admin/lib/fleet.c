#include "fleet.h"

#include "dbadmin.h"
#include "db.h"
#include "addr.h"
#include "dbcheck.h"
#include "exitcodes.h"
#include "ident.h"
#include "migrate.h"
#include "path.h"
#include "row.h"
#include "select.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int vh_fleet_id_valid(const char *id, vh_err *e)
{
    size_t n = strlen(id);
    if (n < 1 || n > VH_FLEET_ID_MAX ||
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return vh_fail(e, VH_EX_USAGE,
                       "fleet id '%.80s' - give 1 to %d letters, digits, '.', '_' or '-' (the same on every host of "
                       "the fleet)",
                       id, VH_FLEET_ID_MAX);
    return 0;
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

int vh_fleet_read(sqlite3 *db, const char *schema, vh_fleet *f, vh_err *e)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT role, fleet_id, generation, changed, synced_at, sync_file, sync_error, master_id FROM "
             "\"%s\".fleet "
             "WHERE id = 1",
             schema);
    memset(f, 0, sizeof *f);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the fleet row", e);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return vh_fail(e, VH_EX_CONFIG, "the %s database has no fleet row - it was not made by vhostctl init",
                           schema);
        return vh_db_fail(db, rc, "reading the fleet row", e);
    }
    copy_col(st, 0, f->role, sizeof f->role);
    copy_col(st, 1, f->fleet_id, sizeof f->fleet_id);
    f->generation = sqlite3_column_int64(st, 2);
    copy_col(st, 3, f->changed, sizeof f->changed);
    copy_col(st, 4, f->synced_at, sizeof f->synced_at);
    copy_col(st, 5, f->sync_file, sizeof f->sync_file);
    copy_col(st, 6, f->sync_error, sizeof f->sync_error);
    copy_col(st, 7, f->master_id, sizeof f->master_id);
    sqlite3_finalize(st);
    return 0;
}

static int exec(sqlite3 *db, const char *sql, const char *what, vh_err *e)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : vh_db_fail(db, rc, what, e);
}

int vh_fleet_begin(sqlite3 *db, vh_err *e)
{
    vh_fleet f;
    if (vh_dbadmin_begin(db, e) < 0)
        return -1;
    if (vh_fleet_read(db, "main", &f, e) < 0) {
        vh_db_rollback(db);
        return -1;
    }
    if (!strcmp(f.role, "replica")) {
        vh_db_rollback(db);
        return vh_fail(e, VH_EX_NOPERM,
                       "this host is a replica of fleet %s (generation %lld): its domains and trusted sources change "
                       "only by vhostctl sync - change the master, then publish with vhostctl snapshot there",
                       f.fleet_id, (long long)f.generation);
    }
    if (!strcmp(f.role, "master") &&
        exec(db,
             "UPDATE fleet SET generation = generation + 1, changed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
             "WHERE id = 1",
             "counting the fleet's generation", e) < 0) {
        vh_db_rollback(db);
        return -1;
    }
    return 0;
}

int vh_fleet_set_role(sqlite3 *db, const char *role, const char *fleet_id, vh_err *e)
{
    int standalone = !strcmp(role, "standalone");
    if (!standalone && strcmp(role, "master") && strcmp(role, "replica"))
        return vh_fail(e, VH_EX_USAGE, "role '%.32s' - give master, replica or standalone", role);
    if (!standalone && (!fleet_id || vh_fleet_id_valid(fleet_id, e) < 0))
        return fleet_id ? -1
                        : vh_fail(e, VH_EX_USAGE, "--role %s needs --fleet-id ID (the same on every host of the fleet)",
                                  role);
    /* a master draws its id when it becomes one (of a fleet): its
     * replicas then refuse a snapshot of any other master with the same
     * fleet id. Told the same again (configuration management re-running
     * init), it keeps it; a replica keeps the id it follows. */
    char mid[33] = "";
    vh_fleet now;
    if (vh_fleet_read(db, "main", &now, e) < 0)
        return -1;
    if (!strcmp(role, "master") && !strcmp(now.role, "master") && !strcmp(now.fleet_id, fleet_id) && now.master_id[0]) {
        snprintf(mid, sizeof mid, "%s", now.master_id);
    } else if (!strcmp(role, "master")) {
        unsigned char r[16];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return vh_fail(e, VH_EX_OSERR, "getrandom for the master id: %s", strerror(errno));
        for (int i = 0; i < 16; i++)
            snprintf(mid + 2 * i, 3, "%02x", r[i]);
    } else if (!strcmp(role, "replica") && !strcmp(now.role, "replica")) {
        snprintf(mid, sizeof mid, "%s", now.master_id);
    }
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(db, "UPDATE fleet SET role = ?1, fleet_id = ?2, master_id = ?3 WHERE id = 1", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC)) == SQLITE_OK &&
        (rc = sqlite3_bind_text(st, 2, standalone ? "" : fleet_id, -1, SQLITE_STATIC)) == SQLITE_OK &&
        (rc = sqlite3_bind_text(st, 3, mid, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : vh_db_fail(db, rc, "setting the fleet role", e);
}

/* ---- publish ------------------------------------------------------- */

/* The tables that travel: the fleet's, and its own row. */
static int fleet_table(const char *name)
{
    return !strcmp(name, "domains") || !strcmp(name, "proxy_sources") || !strcmp(name, "prefix_lengths") ||
           !strcmp(name, "fleet");
}

/* In the snapshot being made: every row of the host's own tables out
 * (history, accepted findings, settings, manifests: another host's, and
 * nothing of sync's), rollback-journal mode (a replica reads it
 * read-only, no -shm), compacted. */
static int strip_snapshot(sqlite3 *s, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *sql = sqlite3_str_new(NULL);
    int rc = sqlite3_prepare_v2(s, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                                -1, &st, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name && !fleet_table(name))
            sqlite3_str_appendf(sql, "DELETE FROM \"%w\";", name);
    }
    sqlite3_finalize(st);
    char *text = sqlite3_str_finish(sql);
    if (rc != SQLITE_DONE) {
        sqlite3_free(text);
        return vh_db_fail(s, rc, "listing the snapshot's tables", e);
    }
    int r = exec(s, text ? text : "", "clearing the host's own tables from the snapshot", e);
    sqlite3_free(text);
    if (r < 0 || exec(s, "PRAGMA journal_mode = DELETE", "leaving WAL mode in the snapshot", e) < 0 ||
        exec(s, "VACUUM", "compacting the snapshot", e) < 0)
        return -1;
    return 0;
}

static int fsync_path(const char *path, int dir, vh_err *e)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fsync(fd) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return vh_fail(e, VH_EX_IOERR, "fsync %s: %s", path, strerror(err));
    }
    close(fd);
    return 0;
}

static int snapshot_write(sqlite3 *db, const char *tmp, const char *outdir, vh_fleet *fp, char *made, size_t n,
                          int64_t *gen, vh_err *e);

int vh_fleet_snapshot(const char *dbpath, const char *outdir, char *made, size_t n, int64_t *gen, vh_err *e)
{
    /* the outbox: root's, written by nobody else, like the database's
     * own directory (E1-E5): what lands there is trusted by its path */
    int dfd = -1;
    struct stat dst;
    if (vh_path_trust(outdir, VH_WANT_DIR, VH_EX_CONFIG, &dfd, &dst, e) < 0)
        return -1;
    close(dfd);
    sqlite3 *db = NULL;
    vh_fleet f;
    if (vh_dbadmin_open(dbpath, 0, &db, e) < 0)
        return -1;
    if (vh_fleet_read(db, "main", &f, e) < 0) {
        vh_db_close(db, NULL);
        return -1;
    }
    if (strcmp(f.role, "master") != 0) {
        vh_db_close(db, NULL);
        return vh_fail(e, VH_EX_USAGE,
                       "this host is %s%s%s: only a fleet's master publishes snapshots - vhostctl init --role master "
                       "--fleet-id ID on the one host where the fleet is changed",
                       !strcmp(f.role, "replica") ? "a replica of fleet " : "standalone",
                       !strcmp(f.role, "replica") ? f.fleet_id : "", "");
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.vhosts-snapshot.tmp", outdir);
    unlink(tmp); /* a crashed run's */
    /* the copy is first the whole database (history, accepted findings,
     * manifests) and only then stripped: it, its journal and LATEST are
     * root's alone from their first byte, whoever may search the outbox
     * (red team: 0644 under umask 022 until the chmod below) */
    mode_t mask = umask(077);
    int r = snapshot_write(db, tmp, outdir, &f, made, n, gen, e);
    umask(mask);
    return r;
}

static int snapshot_write(sqlite3 *db, const char *tmp, const char *outdir, vh_fleet *fp, char *made, size_t n,
                          int64_t *gen, vh_err *e)
{
    vh_fleet f = *fp;
    /* VACUUM INTO reads in one read transaction of its own: a consistent
     * copy while writers go on (they wait only for the WAL's checkpoint,
     * never for this) */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        vh_db_fail(db, rc, "VACUUM INTO the snapshot", e);
        vh_db_close(db, NULL);
        unlink(tmp);
        return -1;
    }
    vh_db_close(db, NULL);
    /* its generation is the one in its own fleet row: the copy's */
    sqlite3 *s = NULL;
    rc = sqlite3_open_v2(tmp, &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK || vh_db_harden(s, 2000, e) < 0 || vh_fleet_read(s, "main", &f, e) < 0 ||
        strip_snapshot(s, e) < 0) {
        if (rc != SQLITE_OK)
            vh_db_fail(s, rc, "opening the snapshot", e);
        sqlite3_close(s);
        unlink(tmp);
        return -1;
    }
    if ((rc = sqlite3_close(s)) != SQLITE_OK) {
        unlink(tmp);
        return vh_fail(e, VH_EX_IOERR, "closing the snapshot: %s", sqlite3_errstr(rc));
    }
    char final[PATH_MAX], latest[PATH_MAX], latest_tmp[PATH_MAX], sum[PATH_MAX], sum_tmp[PATH_MAX];
    snprintf(final, sizeof final, "%s/vhosts-%lld.db", outdir, (long long)f.generation);
    snprintf(sum, sizeof sum, "%s.sha256", final);
    snprintf(sum_tmp, sizeof sum_tmp, "%s/.vhosts-snapshot.sha256.tmp", outdir);
    /* its SHA-256 beside it, in sha256sum's format: SQLite checks no
     * data byte, so a byte changed in transit inside a value would pass
     * integrity_check; sync checks this first (THREATS N2) */
    char hex[VH_SHA256_HEX];
    int sfd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int hashed = sfd >= 0 && vh_sha256_fd(sfd, hex, NULL) == 0;
    if (sfd >= 0)
        close(sfd);
    FILE *sf = hashed ? fopen(sum_tmp, "we") : NULL;
    int sum_ok = sf && fprintf(sf, "%s  vhosts-%lld.db\n", hex, (long long)f.generation) > 0;
    if (sf && (fflush(sf) != 0 || fsync(fileno(sf)) < 0))
        sum_ok = 0;
    if (sf && fclose(sf) != 0)
        sum_ok = 0;
    if (!sum_ok || rename(sum_tmp, sum) < 0) {
        unlink(sum_tmp);
        unlink(tmp);
        return vh_fail(e, VH_EX_IOERR, "writing %s: %s", sum, strerror(errno));
    }
    snprintf(latest, sizeof latest, "%s/LATEST", outdir);
    snprintf(latest_tmp, sizeof latest_tmp, "%s/.LATEST.tmp", outdir);
    if (chmod(tmp, 0600) < 0 || fsync_path(tmp, 0, e) < 0 || rename(tmp, final) < 0) {
        if (!e->code)
            vh_fail(e, VH_EX_IOERR, "publishing %s: %s", final, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* LATEST names it, replaced atomically, for transports that carry
     * the newest only */
    FILE *l = fopen(latest_tmp, "we");
    int ok = l && fprintf(l, "vhosts-%lld.db\n", (long long)f.generation) > 0;
    if (l && (fflush(l) != 0 || fsync(fileno(l)) < 0))
        ok = 0;
    if (l && fclose(l) != 0)
        ok = 0;
    if (!ok || rename(latest_tmp, latest) < 0 || fsync_path(outdir, 1, e) < 0) {
        if (!e->code)
            vh_fail(e, VH_EX_IOERR, "writing %s: %s", latest, strerror(errno));
        unlink(latest_tmp);
        return -1;
    }
    snprintf(made, n, "%s", final);
    *gen = f.generation;
    return 0;
}

/* ---- apply ----------------------------------------------------------- */

void vh_sync_result_free(vh_sync_result *r)
{
    for (int i = 0; r->keys && i < r->nkeys; i++) {
        free((char *)r->keys[i].service);
        free((char *)r->keys[i].address);
    }
    free(r->keys);
    r->keys = NULL;
    r->nkeys = 0;
}

/* Every column of the domains table, as "a.c IS b.c AND ..." for two
 * aliases: rows equal in every column (NULL-safe). The two schemas are
 * checked equal before this runs. */
static char *same_row(sqlite3 *db, const char *table, vh_err *e)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s', 'main')", table);
    sqlite3_stmt *st = NULL;
    sqlite3_str *s = sqlite3_str_new(NULL);
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL), n = 0;
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            sqlite3_str_appendf(s, "%sm.\"%w\" IS s.\"%w\"", n++ ? " AND " : "", sqlite3_column_text(st, 0),
                                sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    char *text = sqlite3_str_finish(s);
    if (rc != SQLITE_DONE || n == 0) {
        sqlite3_free(text);
        vh_db_fail(db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "reading the columns", e);
        return NULL;
    }
    return text;
}

/* uid drift (fleet.md 5.3, THREATS N3): every run-as row of the snapshot
 * must resolve here to the numbers it stores. Returns how many do not
 * (each written to drift), or -1 with e. */
static long drift_rows(sqlite3 *db, FILE *drift, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT service, address, user, grp, uid, gid, groups FROM snap.domains "
                                "WHERE user IS NOT NULL ORDER BY user, grp, service, address",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the snapshot's run-as users", e);
    long bad = 0;
    char last_user[VH_NAME_MAX] = "", last_group[VH_NAME_MAX] = "", why[512] = "";
    vh_row here;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *svc = (const char *)sqlite3_column_text(st, 0), *adr = (const char *)sqlite3_column_text(st, 1),
                   *user = (const char *)sqlite3_column_text(st, 2), *grp = (const char *)sqlite3_column_text(st, 3),
                   *groups = (const char *)sqlite3_column_text(st, 6);
        int64_t uid = sqlite3_column_int64(st, 4), gid = sqlite3_column_int64(st, 5);
        if (!svc || !adr || !user)
            continue;
        /* resolved once per (user, group): a million rows of few users */
        if (strcmp(user, last_user) != 0 || strcmp(grp ? grp : "", last_group) != 0) {
            vh_err ie;
            snprintf(last_user, sizeof last_user, "%s", user);
            snprintf(last_group, sizeof last_group, "%s", grp ? grp : "");
            why[0] = '\0';
            if (vh_ident_resolve(user, grp && grp[0] ? grp : NULL, &here, &ie) < 0)
                snprintf(why, sizeof why, "%s", ie.msg);
        }
        char have[VH_MAX_GROUPS * 12 + 1];
        vh_row_groups_format(here.groups, here.ngroups, have, sizeof have);
        char line[1024];
        if (why[0])
            snprintf(line, sizeof line, "%s", why);
        else if (here.uid != (uint32_t)uid || here.gid != (uint32_t)gid)
            snprintf(line, sizeof line, "%s:%s is uid %u gid %u here, the snapshot says uid %lld gid %lld", user,
                     grp ? grp : "", (unsigned)here.uid, (unsigned)here.gid, (long long)uid, (long long)gid);
        else if (strcmp(have, groups ? groups : "") != 0)
            snprintf(line, sizeof line, "%s has the groups %s here, the snapshot says %s", user, have,
                     groups ? groups : "");
        else
            continue;
        if (drift)
            fprintf(drift, "  %s %s: %s\n", svc, adr, line);
        bad++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the snapshot's run-as users", e);
    return bad;
}

/* The rows a sync would write (those of snap that main has not exactly)
 * judged as every reader judges a row (vh_row_from_cols, vh_row_valid)
 * and as vhostctl writes a key: canonical (vh_key_canon). No vhostctl
 * command writes any other, whatever its options: such a row comes from
 * a hand-made or damaged snapshot, and would be a dead key (never
 * probed) or a row refused on every connection, not what the master's
 * operator sees. The trusted sources too (vh_addr_key_canon). Each bad
 * row written to out; returns how many, or -1 with e. */
static long bad_rows(sqlite3 *db, FILE *out, vh_err *e)
{
    /* the rows to write: temp.vh_sync_diff's added and changed keys */
    static const char sql[] = "SELECT " VH_ROW_COLS " FROM snap.domains WHERE (service, address) IN (SELECT service, "
                              "address FROM temp.vh_sync_diff WHERE what <> 'r') ORDER BY service, address";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    long bad = 0;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        vh_row row;
        vh_err re;
        char canon[VH_KEY_TEXT], why[sizeof re.msg + 64];
        why[0] = '\0';
        int bad_row = vh_select_read_row(st, &row, &re) < 0 || vh_row_valid(&row, &re) < 0;
        const char *key = (const char *)sqlite3_column_text(st, VH_ROW_COL_ADDRESS),
                   *svc = (const char *)sqlite3_column_text(st, VH_ROW_COL_SERVICE);
        key = key ? key : "";
        if (bad_row)
            snprintf(why, sizeof why, "%s", re.msg);
        else if (vh_key_canon(key, 1, canon, &re) < 0)
            snprintf(why, sizeof why, "key %.300s: %s", key, re.msg);
        else if (strcmp(canon, key) != 0)
            snprintf(why, sizeof why, "key %.300s is not in canonical form (vhostctl writes %s)", key, canon);
        if (!why[0])
            continue;
        if (out)
            fprintf(out, "  %.100s %.300s: %s\n", svc ? svc : "", key, why);
        bad++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "judging the snapshot's rows", e);
    rc = sqlite3_prepare_v2(db, "SELECT service, source FROM snap.proxy_sources", -1, &st, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        const char *svc = (const char *)sqlite3_column_text(st, 0), *src = (const char *)sqlite3_column_text(st, 1);
        char canon[VH_ADDR_TEXT];
        vh_err re;
        if (src && vh_addr_key_canon(src, 0, canon, &re) == 0 && strcmp(canon, src) == 0)
            continue;
        if (out)
            fprintf(out, "  trusted source %.100s %.300s: not an address or prefix in canonical form\n", svc ? svc : "",
                    src ? src : "");
        bad++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "judging the snapshot's trusted sources", e);
    return bad;
}

/* One row of each statement, in the same table's column order, equal
 * in every column (type and value; NULL equals NULL, as IS). */
static int same_cols(sqlite3_stmt *a, sqlite3_stmt *b, int n)
{
    for (int i = 0; i < n; i++) {
        int t = sqlite3_column_type(a, i);
        if (t != sqlite3_column_type(b, i))
            return 0;
        switch (t) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER:
            if (sqlite3_column_int64(a, i) != sqlite3_column_int64(b, i))
                return 0;
            break;
        case SQLITE_FLOAT:
            if (sqlite3_column_double(a, i) != sqlite3_column_double(b, i))
                return 0;
            break;
        default: {
            const void *x = t == SQLITE_BLOB ? sqlite3_column_blob(a, i) : (const void *)sqlite3_column_text(a, i);
            int nx = sqlite3_column_bytes(a, i);
            const void *y = t == SQLITE_BLOB ? sqlite3_column_blob(b, i) : (const void *)sqlite3_column_text(b, i);
            int ny = sqlite3_column_bytes(b, i);
            if (nx != ny || (nx && memcmp(x, y, (size_t)nx) != 0))
                return 0;
        }
        }
    }
    return 1;
}

/* The primary key of the current row of st (service, address: columns 0
 * and 1 of domains, sql/001) against another's, as SQLite's BINARY
 * collation orders them: bytes, then the shorter first. */
static int key_cmp(sqlite3_stmt *a, sqlite3_stmt *b)
{
    for (int i = 0; i < 2; i++) {
        const unsigned char *x = sqlite3_column_text(a, i), *y = sqlite3_column_text(b, i);
        int nx = sqlite3_column_bytes(a, i), ny = sqlite3_column_bytes(b, i);
        int c = memcmp(x ? (const void *)x : "", y ? (const void *)y : "", (size_t)(nx < ny ? nx : ny));
        if (c)
            return c;
        if (nx != ny)
            return nx < ny ? -1 : 1;
    }
    return 0;
}

/* The differences of domains between main and snap in one pass: both
 * tables walked in primary-key order together (a merge; WITHOUT ROWID
 * tables are their key's b-tree, so no sort), every key that differs
 * put in temp.vh_sync_diff with what 'a' (only in snap), 'r' (only in
 * main) or 'c' (in both, some column differs); r's counts filled, and
 * r->keys when at most VH_SYNC_INDEX_KEYS keys differ (NULL: more, the
 * index is rebuilt). Six index scans with a probe per row each made a
 * one-row change at a million rows take 10 s; this is one. */
static int diff_domains(sqlite3 *db, vh_sync_result *r, vh_err *e)
{
    static const char mk[] = "CREATE TEMP TABLE vh_sync_diff (service TEXT NOT NULL, address TEXT NOT NULL, "
                             "what TEXT NOT NULL, PRIMARY KEY (service, address)) WITHOUT ROWID";
    sqlite3_stmt *a = NULL, *b = NULL, *ins = NULL;
    int rc = sqlite3_exec(db, "DROP TABLE IF EXISTS temp.vh_sync_diff", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, mk, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT * FROM main.domains ORDER BY service, address", -1, &a, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT * FROM snap.domains ORDER BY service, address", -1, &b, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO temp.vh_sync_diff (service, address, what) VALUES (?1, ?2, ?3)", -1,
                                &ins, NULL);
    int n = a ? sqlite3_column_count(a) : 0;
    if (rc == SQLITE_OK && (n < 2 || n != sqlite3_column_count(b) || strcmp(sqlite3_column_name(a, 0), "service") ||
                            strcmp(sqlite3_column_name(a, 1), "address")))
        rc = SQLITE_CORRUPT; /* the schemas were checked equal: cannot be */
    r->keys = rc == SQLITE_OK ? calloc(VH_SYNC_INDEX_KEYS + 1, sizeof *r->keys) : NULL;
    if (rc == SQLITE_OK && !r->keys)
        rc = SQLITE_NOMEM;
    int ra = rc == SQLITE_OK ? sqlite3_step(a) : rc, rb = rc == SQLITE_OK ? sqlite3_step(b) : rc;
    unsigned long ndiff = 0;
    while (rc == SQLITE_OK && (ra == SQLITE_ROW || rb == SQLITE_ROW)) {
        int c = ra != SQLITE_ROW ? 1 : rb != SQLITE_ROW ? -1 : key_cmp(a, b);
        sqlite3_stmt *from = c < 0 ? a : b; /* the key of the difference */
        const char *what = NULL;
        if (c < 0)
            what = "r", r->removed++;
        else if (c > 0)
            what = "a", r->added++;
        else if (!same_cols(a, b, n))
            what = "c", r->changed++;
        else
            r->same++;
        if (what) {
            if ((rc = sqlite3_reset(ins)) != SQLITE_OK ||
                (rc = sqlite3_bind_text(ins, 1, (const char *)sqlite3_column_text(from, 0), -1, SQLITE_TRANSIENT)) !=
                    SQLITE_OK ||
                (rc = sqlite3_bind_text(ins, 2, (const char *)sqlite3_column_text(from, 1), -1, SQLITE_TRANSIENT)) !=
                    SQLITE_OK ||
                (rc = sqlite3_bind_text(ins, 3, what, -1, SQLITE_STATIC)) != SQLITE_OK)
                break;
            if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
                break;
            rc = SQLITE_OK;
            if (r->keys && ndiff < VH_SYNC_INDEX_KEYS + 1) {
                char *svc = strdup((const char *)sqlite3_column_text(from, 0)),
                     *adr = strdup((const char *)sqlite3_column_text(from, 1));
                r->keys[r->nkeys].service = svc;
                r->keys[r->nkeys].address = adr;
                r->nkeys++;
                if (!svc || !adr) {
                    rc = SQLITE_NOMEM;
                    break;
                }
            }
            ndiff++;
        }
        if (c <= 0)
            ra = sqlite3_step(a);
        if (c >= 0)
            rb = sqlite3_step(b);
    }
    if (rc == SQLITE_OK && ((ra != SQLITE_DONE && ra != SQLITE_ROW) || (rb != SQLITE_DONE && rb != SQLITE_ROW)))
        rc = ra != SQLITE_DONE ? ra : rb;
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    sqlite3_finalize(ins);
    if (rc != SQLITE_OK) {
        vh_sync_result_free(r);
        return vh_db_fail(db, rc, "comparing the snapshot's domains with this host's", e);
    }
    if (ndiff > VH_SYNC_INDEX_KEYS)
        vh_sync_result_free(r);
    return 0;
}

/* Apply temp.vh_sync_diff to main.domains: the removed and changed keys
 * deleted (their triggers keep prefix_lengths), then the added and
 * changed rows written from snap. */
static int apply_domains(sqlite3 *db, vh_err *e)
{
    int rc = sqlite3_exec(db,
                          "DELETE FROM main.domains WHERE (service, address) IN (SELECT service, address FROM "
                          "temp.vh_sync_diff WHERE what <> 'a')",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "removing the rows the snapshot has not", e);
    rc = sqlite3_exec(db,
                      "INSERT INTO main.domains SELECT * FROM snap.domains WHERE (service, address) IN (SELECT "
                      "service, address FROM temp.vh_sync_diff WHERE what <> 'r')",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "writing the snapshot's rows", e);
    sqlite3_exec(db, "DROP TABLE temp.vh_sync_diff", NULL, NULL, NULL);
    return 0;
}

/* The differences, snap into main, for one table: rows of main not in
 * snap exactly are deleted (their triggers keep prefix_lengths), then
 * the rows of snap main lacks inserted. removed/added count them; a
 * changed row is one of each. */
static int apply_table(sqlite3 *db, const char *table, const char *same, unsigned long *removed, unsigned long *added,
                       vh_err *e)
{
    char *sql = sqlite3_mprintf("DELETE FROM main.\"%w\" AS m WHERE NOT EXISTS (SELECT 1 FROM snap.\"%w\" s WHERE %s)",
                                table, table, same);
    int rc = sql ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "removing the rows the snapshot has not", e);
    *removed = (unsigned long)sqlite3_changes(db);
    sql = sqlite3_mprintf("INSERT INTO main.\"%w\" SELECT * FROM snap.\"%w\" s WHERE NOT EXISTS (SELECT 1 FROM "
                          "main.\"%w\" m WHERE %s)",
                          table, table, table, same);
    rc = sql ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "writing the snapshot's rows", e);
    *added = (unsigned long)sqlite3_changes(db);
    return 0;
}

/* 0 apply; 1 the snapshot is the generation this host has (nothing to
 * do); -1 refused with e */
static int snapshot_checks(sqlite3 *db, const char *path, const vh_fleet *here, int force, vh_fleet *snap, vh_err *e)
{
    int appid = 0, version = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA snap.application_id", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        appid = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    rc = sqlite3_prepare_v2(db, "PRAGMA snap.user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (appid != VH_DB_APPLICATION_ID)
        return vh_fail(e, VH_EX_DATAERR,
                       "snapshot %s is not a virtuald database (application_id %d) - give a snapshot made "
                       "by vhostctl snapshot",
                       path, appid);
    if (version != vh_db_schema_version())
        return vh_fail(
            e, VH_EX_DATAERR,
            "snapshot %s has schema version %d, this vhostctl %d - run the same virtuald version on the master "
            "and every replica (upgrade, then vhostctl init on each)",
            path, version, vh_db_schema_version());
    /* the whole file, not quick_check: it came over the network (N2) */
    rc = sqlite3_prepare_v2(db, "PRAGMA snap.integrity_check(1)", -1, &st, NULL);
    const unsigned char *t = NULL;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        t = sqlite3_column_text(st, 0);
    int intact = t && !strcmp((const char *)t, "ok");
    char what[512];
    snprintf(what, sizeof what, "%.400s", t ? (const char *)t : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!intact)
        return vh_fail(e, VH_EX_DATAERR,
                       "snapshot %s is damaged (integrity_check: %s) - publish it again on the master", path, what);
    char diff[512];
    int same = vh_schema_same(db, "snap", diff, sizeof diff, e);
    if (same < 0)
        return -1;
    if (!same)
        return vh_fail(e, VH_EX_DATAERR,
                       "snapshot %s has not exactly our schema (%s) - only vhostctl snapshot's files are "
                       "applied",
                       path, diff);
    if (vh_fleet_read(db, "snap", snap, e) < 0)
        return -1;
    if (strcmp(snap->role, "master") != 0)
        return vh_fail(e, VH_EX_DATAERR, "%s was not published by a master (its role is %s)", path, snap->role);
    if (strcmp(snap->fleet_id, here->fleet_id) != 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "%s belongs to fleet %s, this host to fleet %s - a snapshot of another fleet is never applied",
                       path, snap->fleet_id, here->fleet_id);
    if (here->master_id[0] && strcmp(snap->master_id, here->master_id) != 0 && !force)
        return vh_fail(e, VH_EX_DATAERR,
                       "%s was published by master %.8s..., this host follows master %.8s... of fleet %s - two masters "
                       "with one fleet id, or a master made anew? If the master was replaced on purpose, apply its "
                       "snapshot once with vhostctl sync --force",
                       path, snap->master_id[0] ? snap->master_id : "(none)", here->master_id, here->fleet_id);
    /* a replica that follows no master yet (new, or a former master or
     * standalone host made replica) takes its first snapshot whatever the
     * numbers: generations count within one master */
    if (!here->master_id[0])
        return 0;
    if (snap->generation == here->generation && !force)
        return 1; /* this very generation again: nothing to do */
    if (snap->generation < here->generation && !force)
        return vh_fail(e, VH_EX_DATAERR,
                       "%s is generation %lld, this host has %lld already - an old or replayed snapshot is never "
                       "applied (vhostctl sync --force rolls back on purpose)",
                       path, (long long)snap->generation, (long long)here->generation);
    return 0;
}

/* The snapshot's SHA-256 against PATH.sha256, which snapshot wrote
 * beside it (trusted as the snapshot: root's, in the same directory). */
static int check_sum(const char *path, vh_err *e)
{
    char sum[PATH_MAX + 8], line[256], want[VH_SHA256_HEX], have[VH_SHA256_HEX];
    snprintf(sum, sizeof sum, "%s.sha256", path);
    int fd = -1;
    struct stat st;
    vh_err sub;
    if (lstat(sum, &st) < 0 && errno == ENOENT)
        return vh_fail(e, VH_EX_DATAERR,
                       "snapshot %s has no %s beside it - carry the .sha256 vhostctl snapshot writes with each "
                       "snapshot (rsync the whole outbox)",
                       path, sum);
    if (vh_path_trust(sum, VH_WANT_FILE, VH_EX_CONFIG, &fd, &st, &sub) < 0)
        return vh_fail(e, sub.code == VH_EX_CONFIG ? VH_EX_DATAERR : sub.code,
                       "snapshot %s: its checksum file %s: %.600s - carry the .sha256 vhostctl snapshot writes beside "
                       "each snapshot with it",
                       path, sum, sub.msg);
    close(fd);
    FILE *f = fopen(sum, "re");
    int got = f && fgets(line, sizeof line, f) && sscanf(line, "%64[0-9a-f]", want) == 1 && strlen(want) == 64;
    if (f)
        fclose(f);
    if (!got)
        return vh_fail(e, VH_EX_DATAERR, "snapshot %s: %s holds no SHA-256 - publish the snapshot again", path, sum);
    int sfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (sfd < 0 || vh_sha256_fd(sfd, have, NULL) < 0) {
        int err = errno;
        if (sfd >= 0)
            close(sfd);
        return vh_fail(e, VH_EX_IOERR, "snapshot %s: reading it: %s", path, strerror(err));
    }
    close(sfd);
    if (strcmp(want, have) != 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "snapshot %s is damaged: its SHA-256 is %.12s..., %s says %.12s... - carry it again, or publish "
                       "again on the master",
                       path, have, sum, want);
    return 0;
}

int vh_fleet_sync(sqlite3 *db, const char *path, int force, FILE *drift, vh_sync_result *r, vh_err *e)
{
    memset(r, 0, sizeof *r);
    /* a file whose writer is not root, or below a directory someone else
     * may write, could be anything by the time it is read (E1-E5) */
    struct stat st0;
    if (path[0] != '/')
        return vh_fail(e, VH_EX_USAGE, "snapshot %s: give its absolute path", path);
    if (lstat(path, &st0) < 0)
        return vh_fail(e, VH_EX_NOINPUT, "snapshot %s: %s - give a file vhostctl snapshot published", path,
                       strerror(errno));
    if (vh_db_trust(path, e) < 0) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        return vh_fail(e, VH_EX_CONFIG,
                       "snapshot %s is not trusted: %.700s - keep snapshots in a root-owned directory no one else "
                       "writes (the inbox: root, 0700), as root-owned files",
                       path, why);
    }
    if (check_sum(path, e) < 0)
        return -1;
    sqlite3_stmt *st = NULL;
    /* read-only, whatever the file's mode: nothing of the snapshot is
     * ever written (URI filename: mode=ro; '%', '?' and '#' of the path
     * escaped, RFC 3986) */
    sqlite3_str *u = sqlite3_str_new(NULL);
    sqlite3_str_appendall(u, "file:");
    for (const char *p = path; *p; p++)
        if (*p == '%' || *p == '?' || *p == '#')
            sqlite3_str_appendf(u, "%%%02X", (unsigned char)*p);
        else
            sqlite3_str_appendchar(u, 1, *p);
    sqlite3_str_appendall(u, "?mode=ro");
    char *uri = sqlite3_str_finish(u);
    int rc = uri ? sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS snap", -1, &st, NULL) : SQLITE_NOMEM;
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    sqlite3_free(uri);
    if (rc != SQLITE_DONE) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof what, "opening the snapshot %s", path);
        return vh_db_fail(db, rc, what, e);
    }
    vh_fleet here, snap;
    memset(&snap, 0, sizeof snap);
    char *same = NULL;
    int ok = 0;
    long bad;
    /* one transaction from the checks to the last row: the snapshot read
     * is the one applied, and readers see the old state or the new */
    if (vh_dbadmin_begin(db, e) < 0)
        goto detach;
    if (vh_fleet_read(db, "main", &here, e) < 0)
        goto out;
    if (strcmp(here.role, "replica") != 0) {
        vh_fail(e, VH_EX_USAGE,
                "this host is %s: sync applies a master's snapshot on a replica - vhostctl init --role replica "
                "--fleet-id ID first",
                here.role);
        goto out;
    }
    int sc = snapshot_checks(db, path, &here, force, &snap, e);
    if (sc < 0) {
        /* an older generation leaves this host newer, and right: the
         * refusal is recorded (history), not held against the host */
        r->stale = here.generation > 0 && e->code == VH_EX_DATAERR && !strcmp(snap.fleet_id, here.fleet_id) &&
                   !strcmp(snap.master_id, here.master_id) && !strcmp(snap.role, "master") &&
                   snap.generation < here.generation;
        goto out;
    }
    if (sc == 1 && !here.sync_error[0]) {
        r->from = r->to = here.generation;
        vh_db_rollback(db);
        sqlite3_exec(db, "DETACH DATABASE snap", NULL, NULL, NULL);
        return 1;
    }
    /* the generation this host has, after a failed sync: checked like any
     * other (uids too), it ends the failure - the host serves what the
     * fleet's master published, and its agent stops draining it */
    if ((bad = drift_rows(db, drift, e)) < 0)
        goto out;
    if (bad == 0 && sc == 1) {
        rc = sqlite3_prepare_v2(db,
                                "UPDATE main.fleet SET synced_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), sync_file = "
                                "?1, sync_error = '' WHERE id = 1",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            vh_db_fail(db, rc, "clearing the last sync's error", e);
            goto out;
        }
        r->from = r->to = here.generation;
        r->cleared = 1;
        return 1;
    }
    if (bad > 0) {
        vh_fail(e, VH_EX_NOUSER,
                "%ld row%s of %s name%s users or groups with other numbers here (listed above) - the fleet needs "
                "one uid space: give every host the same users (a directory, or configuration management)",
                bad, bad == 1 ? "" : "s", path, bad == 1 ? "s" : "");
        goto out;
    }
    r->from = here.generation;
    r->to = snap.generation;
    if (diff_domains(db, r, e) < 0 || (bad = bad_rows(db, drift, e)) < 0)
        goto out;
    if (bad > 0) {
        vh_fail(e, VH_EX_DATAERR,
                "%ld row%s of %s %s not as vhostctl writes %s (listed above) - only vhostctl snapshot's files of a "
                "master's rows are applied: publish again on the master",
                bad, bad == 1 ? "" : "s", path, bad == 1 ? "is" : "are", bad == 1 ? "it" : "them");
        goto out;
    }
    if (apply_domains(db, e) < 0)
        goto out;
    sqlite3_free(same);
    if (!(same = same_row(db, "proxy_sources", e)) ||
        apply_table(db, "proxy_sources", same, &r->sources_removed, &r->sources_added, e) < 0)
        goto out;
    rc = sqlite3_prepare_v2(db,
                            "UPDATE main.fleet SET generation = ?1, changed = ?2, synced_at = "
                            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), sync_file = ?3, sync_error = '', master_id = ?4 "
                            "WHERE id = 1",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, snap.generation);
        sqlite3_bind_text(st, 2, snap.changed, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, snap.master_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        vh_db_fail(db, rc, "recording the generation", e);
        goto out;
    }
    ok = 1;
out:
    sqlite3_free(same);
    if (!ok) {
        vh_db_rollback(db);
        vh_sync_result_free(r);
    }
detach:
    if (!ok) {
        sqlite3_exec(db, "DETACH DATABASE snap", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int vh_fleet_record_error(sqlite3 *db, const char *path, const char *why, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "UPDATE fleet SET synced_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), sync_file = ?1, "
                                "sync_error = ?2 WHERE id = 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : vh_db_fail(db, rc, "recording the failed sync", e);
}
