/* ix: the lookup index answers exactly as the database does, or not
 * at all. Differential against vh_select over random tables and random
 * single-row changes; every way the database can change behind the
 * index's back (another program's write, a journal-mode excursion) makes
 * it step aside; a damaged, half-written or untrusted index never answers
 * (THREATS E1, I3). Name and wildcard rows (issue 17): the cases of
 * s10_cases.h answer as vh_select answers them (fleet.md table S, S10). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db.h"
#include "dbadmin.h"
#include "migrate.h"
#include "decide.h"
#include "row.h"
#include "s10_cases.h"
#include "select.h"
#include "exitcodes.h"
#include "unit.h"
#include "store.h"
#include "ix.h"
#include "ixwrite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dbp[512], ixp[512];

static int setup(void **s)
{
    (void)s;
    if (unit_fixture("vhindex") < 0)
        return -1;
    snprintf(dbp, sizeof dbp, "%s", unit_path("db/v.db"));
    snprintf(ixp, sizeof ixp, "%s" VH_IX_SUFFIX, dbp);
    vh_err e;
    if (vh_db_close(unit_file_db(dbp), &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    /* the trust rules: the database's directory root's and 0755 */
    chmod(unit_path("db"), 0755);
    return 0;
}

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

static const char *const services[] = {"http", "ftp", "*"};

/* sql/002's settings: the bounds and values between */
static void random_limits(vh_row *r)
{
    static const uint32_t edge[] = {1, 2, VH_MAX_PROCS_DEFAULT, VH_MAX_PROCS_MAX - 1, VH_MAX_PROCS_MAX};
    r->net_bind_service = !r->has_user && rnd(2);
    r->max_procs = rnd(2) ? edge[rnd(5)] : 1 + rnd(VH_MAX_PROCS_MAX);
    r->unjailed = rnd(4) == 0; /* sql/003: the index carries it too */
}

static void random_row(vh_row *r)
{
    vh_row_init(r);
    snprintf(r->service, sizeof r->service, "%s", services[rnd(3)]);
    if (rnd(8) == 0)
        snprintf(r->address, sizeof r->address, "default");
    else if (rnd(6) == 0)
        snprintf(r->address, sizeof r->address, "2001:db8::%u", rnd(10));
    else
        snprintf(r->address, sizeof r->address, "10.0.0.%u", rnd(40));
    snprintf(r->root, sizeof r->root, "/srv/jails/%s-%u", r->address, rnd(1000));
    r->enabled = rnd(5) != 0;
    if (rnd(3)) {
        r->has_user = 1;
        snprintf(r->user, sizeof r->user, "u%u", rnd(100));
        snprintf(r->group, sizeof r->group, "g%u", rnd(100));
        r->uid = 1000 + rnd(100);
        r->gid = 1000 + rnd(100);
        r->ngroups = (int)rnd(3);
        for (int i = 0; i < r->ngroups; i++)
            r->groups[i] = 2000 + rnd(50);
    }
    random_limits(r);
}

/* An enabled root-service row of service http. */
static void http_row(vh_row *r, const char *address, const char *root)
{
    unit_row(r, "http", address, root);
}

/* What vhostctl does for one change (admin/util.c): BEGIN IMMEDIATE, the
 * change, the index marked stale, COMMIT, the index brought up to date,
 * close. op: 'a' add r, 'r' remove, 'e'/'d' enable/disable, 'l' set r's
 * net_bind_service and max_procs (vhostctl set), 'b' bulk-add
 * n rows. between, when set, runs after the COMMIT and before the index
 * update (another writer's commit landing in that gap). */
static void (*between)(void);

static void change(int op, vh_row *r, int n)
{
    sqlite3 *db;
    vh_err e;
    if (vh_dbadmin_open(dbp, 0, &db, &e) < 0 || vh_dbadmin_begin(db, &e) < 0)
        fail_msg("%s", e.msg);
    int rc = 0;
    switch (op) {
    case 'a': rc = vh_store_add(db, r, &e); break;
    case 'r': rc = vh_store_remove(db, r->service, r->address, &e); break;
    case 'e': rc = vh_store_set_enabled(db, r->service, r->address, 1, &e); break;
    case 'd': rc = vh_store_set_enabled(db, r->service, r->address, 0, &e); break;
    case 'l': rc = vh_store_set_limits(db, r->service, r->address, r->net_bind_service, r->max_procs, &e); break;
    case 'b':
        for (int i = 0; i < n; i++) {
            vh_row x;
            random_row(&x);
            vh_err ignore;
            vh_store_add(db, &x, &ignore); /* duplicates refused, fine */
        }
        break;
    }
    if (rc < 0) {
        if (between)
            fail_msg("the change was refused: %s", e.msg);
        vh_db_rollback(db);
        vh_db_close(db, NULL);
        return;
    }
    vh_ixwrite_txn t;
    if (vh_ixwrite_begin(db, dbp, &t, &e) < 0 || vh_dbadmin_commit(db, &e) < 0)
        fail_msg("%s", e.msg);
    if (between)
        between();
    vh_ixwrite_key k = {r ? r->service : NULL, r ? r->address : NULL};
    if (vh_ixwrite_finish(db, dbp, &t, op == 'b' ? NULL : &k, op == 'b' ? 0 : 1, &e) < 0)
        fail_msg("index: %s", e.msg);
    assert_int_equal(vh_db_close(db, &e), 0);
}

/* The database's answer (a fresh runtime connection, as virtuald). */
static int db_answer(const char *svc, const char *adr, vh_row *row)
{
    sqlite3 *db;
    vh_err e;
    if (vh_db_open_runtime(dbp, &db, &e) < 0)
        fail_msg("%s", e.msg);
    int rule = vh_select(db, svc, adr, NULL, 0, row, NULL, &e);
    vh_db_close(db, NULL);
    return rule;
}

static void same_answers(void)
{
    static const char *const qs[] = {"http", "ftp", "smtp"};
    for (int s = 0; s < 3; s++)
        for (int a = 0; a < 44; a++) {
            char adr[64];
            if (a < 42)
                snprintf(adr, sizeof adr, "10.0.0.%d", a);
            else
                snprintf(adr, sizeof adr, "2001:db8::%d", a - 42);
            vh_row ri, rd;
            vh_err e;
            const char *why = NULL;
            int ri_rule = vh_ix_select(dbp, qs[s], adr, &ri, &why, &e);
            if (ri_rule == VH_IX_STALE)
                fail_msg("index stale for %s %s: %s", qs[s], adr, why);
            assert_true(ri_rule >= 0);
            int rd_rule = db_answer(qs[s], adr, &rd);
            assert_int_equal(ri_rule, rd_rule);
            if (ri_rule > 0 && memcmp(&ri, &rd, sizeof ri) != 0)
                fail_msg("rows differ for %s %s: index %s -> %s, database %s -> %s", qs[s], adr, ri.address, ri.root,
                         rd.address, rd.root);
        }
}

static int current(void)
{
    const char *why = NULL;
    vh_err e;
    int c = vh_ix_current(dbp, &why, &e);
    assert_true(c >= 0);
    return c;
}

static void test_answers_like_the_database(void **s)
{
    (void)s;
    change('b', NULL, 300);
    assert_int_equal(current(), 1);
    same_answers();
    /* single-row changes, each updated in place (the same file) */
    struct stat st0, st1;
    assert_int_equal(stat(ixp, &st0), 0);
    for (int i = 0; i < 60; i++) {
        vh_row r;
        random_row(&r);
        change("ardel"[rnd(5)], &r, 1);
        assert_int_equal(current(), 1);
        assert_int_equal(stat(ixp, &st1), 0);
        assert_int_equal(st1.st_ino, st0.st_ino);
        if (i % 10 == 9)
            same_answers();
    }
    same_answers();
}

static void test_reopening_keeps_it_current(void **s)
{
    (void)s;
    vh_row r;
    random_row(&r);
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    /* another connection opens first and closes last (WAL recovery, then
     * checkpoint and truncation): the state is the same, so is the
     * index's claim */
    for (int i = 0; i < 3; i++) {
        sqlite3 *db;
        vh_err e;
        assert_int_equal(vh_dbadmin_open(dbp, 0, &db, &e), 0);
        vh_row x;
        assert_true(vh_select(db, "http", "10.0.0.1", NULL, 0, &x, NULL, &e) >= 0);
        assert_int_equal(vh_db_close(db, &e), 0);
        assert_int_equal(current(), 1);
    }
    same_answers();
}

static void foreign(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbp, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_foreign_writes_make_it_step_aside(void **s)
{
    (void)s;
    vh_row r;
    http_row(&r, "10.0.0.41", "/srv/a");
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    /* the sqlite3 shell: WAL mode, its own connection, deletes -wal and
     * -shm when it closes */
    foreign("UPDATE domains SET root = '/srv/b' WHERE address = '10.0.0.41'");
    assert_int_equal(current(), 0);
    vh_row x;
    vh_err e;
    const char *why;
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.41", &x, &why, &e), VH_IX_STALE);
    /* a vhostctl change of another row afterwards: the index had missed
     * the foreign change (its identity no longer matched when the change
     * began), so it is rebuilt, not patched */
    vh_row o;
    random_row(&o);
    snprintf(o.address, sizeof o.address, "10.0.0.40");
    change('a', &o, 1);
    assert_int_equal(current(), 1);
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.41", &x, &why, &e), VH_RULE_EXACT);
    assert_string_equal(x.root, "/srv/b");
    /* a journal-mode excursion: rollback-mode writes never touch a WAL */
    foreign("PRAGMA journal_mode=DELETE; UPDATE domains SET root = '/srv/c' WHERE address = '10.0.0.41';"
            " PRAGMA journal_mode=WAL");
    assert_int_equal(current(), 0);
    /* vhostctl init's rebuild */
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.41", &x, &why, &e), VH_RULE_EXACT);
    assert_string_equal(x.root, "/srv/c");
    /* a hand-written row the checks refuse: refused alike by both */
    foreign("INSERT INTO domains (service, address, root, user, grp, uid, gid, groups)"
            " VALUES ('http', '10.0.3.1', '/srv/x', 'u', 'g', 1000, 1000, '12,abc')");
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    assert_int_equal(current(), 1);
    vh_err ei, ed;
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.3.1", &x, &why, &ei), -1);
    sqlite3 *db;
    assert_int_equal(vh_db_open_runtime(dbp, &db, &ed), 0);
    assert_int_equal(vh_select(db, "http", "10.0.3.1", NULL, 0, &x, NULL, &ed), -1);
    vh_db_close(db, NULL);
    assert_int_equal(ei.code, ed.code);
    assert_string_equal(ei.msg, ed.msg);
    same_answers();
}

static void poke(off_t off, const void *b, size_t n, void *save)
{
    int fd = open(ixp, O_RDWR);
    assert_true(fd >= 0);
    if (save)
        assert_int_equal(pread(fd, save, n, off), (ssize_t)n);
    assert_int_equal(pwrite(fd, b, n, off), (ssize_t)n);
    close(fd);
}

static void test_damaged_or_busy_index_never_answers(void **s)
{
    (void)s;
    vh_row r;
    random_row(&r);
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    unsigned char saved[8];
    uint64_t odd = 3;
    poke(16, &odd, 8, saved); /* seq: a writer in the middle of an update */
    assert_int_equal(current(), 0);
    poke(16, saved, 8, NULL);
    assert_int_equal(current(), 1);
    poke(0, "XXXXXXXX", 8, saved); /* magic */
    assert_int_equal(current(), 0);
    poke(0, saved, 8, NULL);
    assert_int_equal(current(), 1);
    /* a record's bytes changed under a valid header: the lookup checks
     * keys and bounds; a garbage bucket offset is refused as malformed */
    struct stat st;
    assert_int_equal(stat(ixp, &st), 0);
    uint64_t junk[2] = {0, (uint64_t)st.st_size * 4};
    for (int i = 0; i < 1024; i++)
        poke(4096 + i * 16 + 8, &junk[1], 8, NULL);
    vh_row x;
    vh_err e;
    const char *why;
    for (int a = 0; a < 40; a++) {
        char adr[32];
        snprintf(adr, sizeof adr, "10.0.0.%d", a);
        int rule = vh_ix_select(dbp, "http", adr, &x, &why, &e);
        assert_true(rule == VH_IX_STALE || rule == VH_RULE_NONE || rule > 0);
    }
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    assert_int_equal(current(), 1);
    /* an emptied or cut index (": > DB-index", a partial restore) claims
     * nothing and blocks no change: the change replaces it */
    assert_int_equal(truncate(ixp, 10), 0);
    assert_int_equal(current(), 0);
    vh_row n;
    http_row(&n, "10.0.2.1", "/srv/cut");
    between = NULL;
    change('a', &n, 1);
    assert_int_equal(current(), 1);
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.2.1", &x, &why, &e), VH_RULE_EXACT);
}

static void test_untrusted_index_refuses(void **s)
{
    (void)s;
    vh_row x;
    vh_err e;
    const char *why;
    assert_int_equal(chmod(ixp, 0666), 0); /* E1: writable by others */
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.1", &x, &why, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_non_null(strstr(e.msg, "lookup index untrusted"));
    assert_int_equal(chmod(ixp, 0600), 0);
    assert_int_equal(chown(ixp, 1000, 1000), 0); /* not root's */
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.1", &x, &why, &e), -1);
    assert_int_equal(chown(ixp, 0, 0), 0);
    char moved[600];
    snprintf(moved, sizeof moved, "%s.real", ixp);
    assert_int_equal(rename(ixp, moved), 0);
    assert_int_equal(symlink(moved, ixp), 0); /* a symbolic link */
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.1", &x, &why, &e), -1);
    unlink(ixp);
    /* no index at all: the database answers */
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.0.1", &x, &why, &e), VH_IX_STALE);
    assert_int_equal(rename(moved, ixp), 0);
    assert_true(vh_ix_select(dbp, "http", "10.0.0.1", &x, &why, &e) >= 0);
}

static void foreign_between(void)
{
    foreign("UPDATE domains SET root = '/srv/between' WHERE address = '10.0.1.39'");
}

static void test_a_commit_between_change_and_index_is_not_lost(void **s)
{
    (void)s;
    vh_row r, o;
    http_row(&r, "10.0.1.39", "/srv/before");
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    /* another row changed by vhostctl, while the sqlite3 shell commits
     * between vhostctl's COMMIT and its index update */
    random_row(&o);
    snprintf(o.address, sizeof o.address, "10.0.1.38");
    between = foreign_between;
    change('a', &o, 1);
    between = NULL;
    assert_int_equal(current(), 1);
    vh_row x;
    vh_err e;
    const char *why;
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.1.39", &x, &why, &e), VH_RULE_EXACT);
    assert_string_equal(x.root, "/srv/between");
    same_answers();
}

static void test_wal_frames_without_a_connection_are_not_trusted(void **s)
{
    (void)s;
    vh_row r;
    http_row(&r, "10.0.1.37", "/srv/old");
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    /* the -shm as it is now, then a writer that commits and dies without
     * closing (its frames in the -wal), then the old -shm back: what a
     * power loss leaves when the -wal was synced and the -shm was not */
    char shm[600];
    snprintf(shm, sizeof shm, "%s-shm", dbp);
    unsigned char saved[32768];
    int fd = open(shm, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, saved, sizeof saved);
    close(fd);
    assert_true(n >= 136);
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *db;
        if (sqlite3_open(dbp, &db) != SQLITE_OK ||
            sqlite3_exec(db, "UPDATE domains SET root = '/srv/new' WHERE address = '10.0.1.37'", NULL, NULL, NULL) !=
                SQLITE_OK)
            _exit(1);
        _exit(0); /* no close: no checkpoint, the frames stay */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    fd = open(shm, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, saved, (size_t)n, 0), n);
    close(fd);
    const char *why = NULL;
    vh_err e;
    assert_int_equal(vh_ix_current(dbp, &why, &e), 0);
    assert_non_null(strstr(why, "no connection keeps its index"));
    /* SQLite recovers the frames: the database's answer is the new root */
    vh_row x;
    assert_int_equal(db_answer("http", "10.0.1.37", &x), VH_RULE_EXACT);
    assert_string_equal(x.root, "/srv/new");
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    assert_int_equal(current(), 1);
    same_answers();
}

/* The index format carries the columns of one schema (VH_ROW_COLS): a
 * file of another format - format 1 held the nine columns of schema 1 -
 * is never read, whatever else in it looks right. */
static void test_other_format_never_answers(void **s)
{
    (void)s;
    vh_row r, x;
    http_row(&r, "10.0.5.1", "/srv/format");
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    uint32_t format = 0, old = 5; /* format 5: sixteen columns, without the base (sql/008) */
    int fd = open(ixp, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &format, 4, 8), 4);
    close(fd);
    assert_int_equal(format, VH_IXFMT_FORMAT);
    poke(8, &old, 4, NULL);
    assert_int_equal(current(), 0);
    vh_err e;
    const char *why = NULL;
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.5.1", &x, &why, &e), VH_IX_STALE);
    assert_string_equal(why, "the index is malformed");
    /* a change rebuilds it in the current format */
    vh_row o;
    http_row(&o, "10.0.5.2", "/srv/format2");
    change('a', &o, 1);
    assert_int_equal(current(), 1);
    assert_int_equal(vh_ix_select(dbp, "http", "10.0.5.1", &x, &why, &e), VH_RULE_EXACT);
    assert_string_equal(x.root, "/srv/format");
}

/* sql/002's settings out of range in rows written behind the schema's
 * back (its CHECKs edited away with writable_schema): refused alike by
 * the index and the database - never narrowed into range (4294967297 is
 * 1 as a uint32) nor taken as a default. Runs last: the schema stays
 * edited. */
static void test_out_of_range_settings_refused(void **s)
{
    (void)s;
    foreign("PRAGMA writable_schema=ON; UPDATE sqlite_schema SET sql = replace(replace(sql,"
            " 'typeof(max_procs) = ''integer'' AND max_procs BETWEEN 1 AND 4194304', '1'),"
            " 'CHECK (typeof(net_bind_service)', 'CHECK (1 OR typeof(net_bind_service)') WHERE name = 'domains'");
    static const struct {
        const char *values, *what;
    } bad[] = {
        {"'/r', NULL, NULL, NULL, NULL, 0, 4294967297", "max_procs"},
        {"'/r', NULL, NULL, NULL, NULL, 0, 0", "max_procs"},
        {"'/r', NULL, NULL, NULL, NULL, 0, -1", "max_procs"},
        {"'/r', NULL, NULL, NULL, NULL, 0, 4194305", "max_procs"},
        {"'/r', NULL, NULL, NULL, NULL, 0, 2.5", "max_procs"},
        {"'/r', NULL, NULL, NULL, NULL, 0, 'many'", "max_procs"},
        {"'/r', NULL, NULL, NULL, NULL, 7, 10", "net_bind_service"},
        {"'/r', NULL, NULL, NULL, NULL, 4294967297, 10", "net_bind_service"},
        {"'/r', NULL, NULL, NULL, NULL, 'on', 10", "net_bind_service"},
        {"'/r', 'u', 'g', 1000, 1000, 1, 10", "run-as"},
    };
    const int n = (int)(sizeof bad / sizeof *bad);
    char sql[512];
    for (int i = 0; i <= n; i++) {
        /* the last one, a good row on the same edited schema: the control */
        snprintf(sql, sizeof sql,
                 "INSERT INTO domains (service, address, root, user, grp, uid, gid, net_bind_service, max_procs)"
                 " VALUES ('http', '10.0.6.%d', %s)",
                 i, i < n ? bad[i].values : "'/r', NULL, NULL, NULL, NULL, 1, 4194304");
        foreign(sql);
    }
    vh_err e;
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    assert_int_equal(current(), 1);
    for (int i = 0; i <= n; i++) {
        char adr[32];
        snprintf(adr, sizeof adr, "10.0.6.%d", i);
        vh_row x;
        vh_err ei = {0, ""}, ed = {0, ""};
        const char *why;
        int ri = vh_ix_select(dbp, "http", adr, &x, &why, &ei);
        sqlite3 *db;
        assert_int_equal(vh_db_open_runtime(dbp, &db, &ed), 0);
        int rd = vh_select(db, "http", adr, NULL, 0, &x, NULL, &ed);
        vh_db_close(db, NULL);
        if (i == n) {
            assert_int_equal(ri, VH_RULE_EXACT);
            assert_int_equal(rd, VH_RULE_EXACT);
            assert_int_equal(x.net_bind_service, 1);
            assert_int_equal(x.max_procs, VH_MAX_PROCS_MAX);
            continue;
        }
        if (ri != -1 || rd != -1 || !strstr(ed.msg, bad[i].what))
            fail_msg("%s (%s): index %d, database %d: %s", adr, bad[i].values, ri, rd, ed.msg);
        assert_int_equal(ei.code, VH_EX_CONFIG);
        assert_int_equal(ei.code, ed.code);
        assert_string_equal(ei.msg, ed.msg);
        vh_decision d;
        assert_int_equal(vh_decide(dbp, "http", adr, &d, &e), -1);
    }
}

/* ---- issue 15: prefix rows and trusted PROXY sources ------------------ */

/* The index's answer through the reader virtuald uses (vh_ix_begin,
 * vh_ix_lookup), against vh_select on the same state: rule, prefix
 * length and row. Returns the rule. */
static int same_named_answer(const char *svc, const char *adr, const char *name, int flags, vh_row *out, unsigned *plen)
{
    vh_ix_reader r;
    const char *why = NULL;
    vh_err e, ed;
    if (vh_ix_begin(dbp, &r, &why, &e) != 1)
        fail_msg("index not current for %s %s: %s", svc, adr, why ? why : e.msg);
    vh_row ri, rd;
    unsigned li = 999, ld = 999;
    int a = vh_ix_lookup(&r, svc, adr, name, flags, &ri, &li, &why, &e);
    vh_ix_end(&r);
    if (a == VH_IX_STALE)
        fail_msg("index stale for %s %s: %s", svc, adr, why);
    sqlite3 *db;
    if (vh_db_open_runtime(dbp, &db, &ed) < 0)
        fail_msg("%s", ed.msg);
    int d = vh_select(db, svc, adr, name, flags, &rd, &ld, &ed);
    vh_db_close(db, NULL);
    if (a != d)
        fail_msg("%s %s name %s (flags %d): index rule %d, database rule %d", svc, adr, name ? name : "-", flags, a, d);
    if (d > 0) {
        if (li != ld || memcmp(&ri, &rd, sizeof ri) != 0)
            fail_msg("%s %s: index %s /%u -> %s, database %s /%u -> %s", svc, adr, ri.address, li, ri.root, rd.address,
                     ld, rd.root);
        if (out)
            *out = rd;
        if (plen)
            *plen = ld;
    }
    return d;
}

static int same_prefix_answer(const char *svc, const char *adr, int flags, vh_row *out)
{
    return same_named_answer(svc, adr, NULL, flags, out, NULL);
}

/* The header of the index as virtuald reads it. */
static vh_ixfmt_hdr header_now(void)
{
    vh_ix_reader r;
    const char *why = NULL;
    vh_err e;
    if (vh_ix_begin(dbp, &r, &why, &e) != 1)
        fail_msg("index not current: %s", why ? why : e.msg);
    vh_ixfmt_hdr h = r.h;
    vh_ix_end(&r);
    return h;
}

static void prefix_row(const char *svc, const char *key, const char *root, int enabled)
{
    vh_row r;
    unit_row(&r, svc, key, root);
    r.enabled = enabled;
    change('a', &r, 1);
    assert_int_equal(current(), 1);
}

static void drop_row(const char *svc, const char *key)
{
    vh_row r;
    unit_row(&r, svc, key, "/srv/unused");
    change('r', &r, 1);
    assert_int_equal(current(), 1);
}

/* fleet.md table C1 and C4 on the index: exact beats a prefix, the
 * longest prefix wins, the service before '*' at each length, IPv6 /64;
 * a disabled /24 inside an enabled /8 refuses, never falls through. Each
 * change is written in place (the same file), with the header's prefix
 * lengths from the same transaction. */
static void test_prefix_rows_answer_like_the_database(void **s)
{
    (void)s;
    struct stat st0, st1;
    prefix_row("http", "127.0.0.0/8", "/srv/parking", 1);
    assert_int_equal(stat(ixp, &st0), 0);
    prefix_row("http", "127.0.1.0/24", "/srv/x", 1);
    prefix_row("http", "127.0.1.5", "/srv/y", 1);
    prefix_row("http", "fd56:6864:7600:20::/64", "/srv/v6", 1);
    prefix_row("*", "127.0.3.0/24", "/srv/any3", 1);
    prefix_row("ftp", "127.0.3.0/24", "/srv/ftp3", 1);
    prefix_row("http", "127.0.4.0/24", "/srv/off4", 0);
    assert_int_equal(stat(ixp, &st1), 0);
    assert_int_equal(st1.st_ino, st0.st_ino);
    vh_ixfmt_hdr h = header_now();
    assert_true(h.dom_len4 == ((1ULL << 8) | (1ULL << 24)));
    assert_true(h.dom_len6[0] == 0 && h.dom_len6[1] == 1ULL); /* /64: bit 0 of word 1 */

    static const struct {
        const char *svc, *adr;
        int rule;
        unsigned plen;
        const char *root;
    } c[] = {
        {"http", "127.0.1.5", VH_RULE_EXACT, 0, "/srv/y"},
        {"http", "127.0.1.7", VH_RULE_PREFIX, 24, "/srv/x"},
        {"http", "127.0.2.1", VH_RULE_PREFIX, 8, "/srv/parking"},
        {"http", "127.255.255.254", VH_RULE_PREFIX, 8, "/srv/parking"},
        {"http", "fd56:6864:7600:20::1", VH_RULE_PREFIX, 64, "/srv/v6"},
        {"http", "fd56:6864:7600:20:ffff:ffff:ffff:fffe", VH_RULE_PREFIX, 64, "/srv/v6"},
        {"ftp", "127.0.3.9", VH_RULE_PREFIX, 24, "/srv/ftp3"},
        {"smtp", "127.0.3.9", VH_RULE_PREFIX_ANY, 24, "/srv/any3"},
        {"http", "127.0.3.9", VH_RULE_PREFIX_ANY, 24, "/srv/any3"}, /* '*' /24 before http /8 */
        {"http", "127.0.4.1", VH_RULE_PREFIX, 24, "/srv/off4"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        vh_row r;
        for (int flags = 0; flags <= VH_SELECT_NO_DEFAULT; flags++) {
            int rule = same_prefix_answer(c[i].svc, c[i].adr, flags, &r);
            if (rule != c[i].rule || strcmp(r.root, c[i].root) != 0)
                fail_msg("%s %s: rule %d root %s, expected %d %s", c[i].svc, c[i].adr, rule, rule > 0 ? r.root : "-",
                         c[i].rule, c[i].root);
        }
        vh_decision d;
        vh_err e;
        int served = vh_decide(dbp, c[i].svc, c[i].adr, &d, &e);
        assert_int_equal(d.from_index, 1);
        assert_int_equal(d.rule, c[i].rule);
        assert_int_equal(d.prefix_len, c[i].plen);
        if (strcmp(c[i].root, "/srv/off4") == 0) {
            /* fleet.md C4: the disabled /24 decides and refuses; the /8 is never tried */
            assert_int_equal(served, -1);
            assert_int_equal(e.code, VH_EX_UNAVAILABLE);
        } else {
            assert_int_equal(served, 0);
        }
    }
    /* every other address of those families and services agrees too */
    static const char *const svcs[] = {"http", "ftp", "smtp"};
    static const char *const more[] = {"127.0.0.1",
                                       "127.0.1.0",
                                       "127.0.1.255",
                                       "127.1.0.1",
                                       "128.0.0.1",
                                       "fd56:6864:7600:21::1",
                                       "fd56:6864:7600:1f:ffff:ffff:ffff:ffff",
                                       "10.0.0.3"};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
            for (int flags = 0; flags <= VH_SELECT_NO_DEFAULT; flags++)
                same_prefix_answer(svcs[k], more[i], flags, NULL);

    /* the last /64 goes: its length leaves the header in the same change */
    drop_row("http", "fd56:6864:7600:20::/64");
    h = header_now();
    assert_true(h.dom_len6[0] == 0 && h.dom_len6[1] == 0);
    assert_int_equal(same_prefix_answer("http", "fd56:6864:7600:20::1", 0, NULL) == VH_RULE_PREFIX, 0);
    /* one /24 of three goes: the length stays */
    drop_row("http", "127.0.1.0/24");
    h = header_now();
    assert_true(h.dom_len4 == ((1ULL << 8) | (1ULL << 24)));
    vh_row r;
    assert_int_equal(same_prefix_answer("http", "127.0.1.7", 0, &r), VH_RULE_PREFIX);
    assert_string_equal(r.root, "/srv/parking");
    /* a rebuild writes the same header */
    vh_err e;
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    vh_ixfmt_hdr h2 = header_now();
    assert_true(h2.dom_len4 == h.dom_len4 && h2.dom_len6[0] == h.dom_len6[0] && h2.dom_len6[1] == h.dom_len6[1]);
    assert_int_equal(stat(ixp, &st1), 0);
    assert_int_not_equal(st1.st_ino, st0.st_ino);
    same_prefix_answer("http", "127.0.1.7", 0, NULL);
    same_answers();
}

/* A change of proxy_sources as vhostctl proxy-trust makes it: one
 * transaction, the index marked stale before the commit, then its
 * header brought up to date in place (keys given, none of them). */
static void trust_change(const char *sql)
{
    sqlite3 *db;
    vh_err e;
    if (vh_dbadmin_open(dbp, 0, &db, &e) < 0 || vh_dbadmin_begin(db, &e) < 0)
        fail_msg("%s", e.msg);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    vh_ixwrite_txn t;
    if (vh_ixwrite_begin(db, dbp, &t, &e) < 0 || vh_dbadmin_commit(db, &e) < 0)
        fail_msg("%s", e.msg);
    vh_ixwrite_key none = {NULL, NULL};
    if (vh_ixwrite_finish(db, dbp, &t, &none, 0, &e) < 0)
        fail_msg("index: %s", e.msg);
    assert_int_equal(vh_db_close(db, &e), 0);
    assert_int_equal(current(), 1);
}

/* The trust of peer for svc from the header (vh_ix_trust) against
 * vh_select_trust. Returns 1 when the header answered, 0 when it sent
 * the caller to SQLite; *out gets SQLite's answer either way. */
static int same_trust(const char *svc, const char *peer, vh_trust *out)
{
    vh_ix_reader r;
    const char *why = NULL;
    vh_err e;
    if (vh_ix_begin(dbp, &r, &why, &e) != 1)
        fail_msg("index not current: %s", why ? why : e.msg);
    vh_trust ti, td;
    int answered = vh_ix_trust(&r, svc, peer, &ti);
    vh_ix_end(&r);
    sqlite3 *db;
    if (vh_db_open_runtime(dbp, &db, &e) < 0 || vh_select_trust(db, svc, peer, &td, &e) < 0)
        fail_msg("%s", e.msg);
    vh_db_close(db, NULL);
    assert_int_equal(ti.any, td.any);
    if (answered && (ti.versions != td.versions || strcmp(ti.svc, td.svc) != 0 || strcmp(ti.source, td.source) != 0))
        fail_msg("trust of %s for %s: index %d %s %s, database %d %s %s", peer, svc, ti.versions, ti.svc, ti.source,
                 td.versions, td.svc, td.source);
    /* what virtuald does: the header, else SQLite */
    vh_decider dc;
    vh_trust tv;
    if (vh_decide_begin(&dc, dbp, &e) < 0 || vh_decide_trust(&dc, svc, peer, &tv, &e) < 0)
        fail_msg("%s", e.msg);
    vh_decide_end(&dc, NULL);
    assert_int_equal(tv.versions, td.versions);
    assert_string_equal(tv.source, td.source);
    *out = td;
    return answered;
}

static void expect_trust(const char *svc, const char *peer, int inline_expected, int versions, const char *by_svc,
                         const char *by_source)
{
    vh_trust t;
    char canon[VH_ADDR_TEXT];
    vh_err e;
    /* as virtuald canonicalises a peer: an IPv4-mapped one is IPv4 */
    if (vh_addr_canon(peer, 0, canon, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(same_trust(svc, canon, &t), inline_expected);
    if (t.versions != versions || (versions && (strcmp(t.svc, by_svc) || strcmp(t.source, by_source))))
        fail_msg("trust of %s for %s: %d %s %s, expected %d %s %s", peer, svc, t.versions, t.svc, t.source, versions,
                 by_svc ? by_svc : "-", by_source ? by_source : "-");
}

/* fleet.md 1.1 and table C5 on the index: up to VH_IXFMT_TRUST_MAX
 * sources in the header, first matching row decides in the order of
 * domain rows (an address, then prefixes longest first, the service
 * before '*' at each length); 33 sources: the header says so and SQLite
 * answers. Every change is an in-place header update. */
static void test_trust_like_the_database(void **s)
{
    (void)s;
    vh_ixfmt_hdr h = header_now();
    assert_int_equal(h.features, 0);
    vh_trust t;
    assert_int_equal(same_trust("http", "127.0.2.1", &t), 1);
    assert_int_equal(t.any, 0);
    struct stat st0, st1;
    assert_int_equal(stat(ixp, &st0), 0);
    trust_change("INSERT INTO proxy_sources (service, source, versions) VALUES"
                 " ('*', '127.0.0.0/8', 3), ('http', '127.0.0.0/8', 1), ('*', '127.0.1.0/24', 2),"
                 " ('ftp', '127.0.1.7', 1), ('*', 'fd56:6864:7600:20::/64', 3), ('http', '10.9.9.9', 2),"
                 " ('*', '2001:db8::7', 1)");
    assert_int_equal(stat(ixp, &st1), 0);
    assert_int_equal(st1.st_ino, st0.st_ino);
    h = header_now();
    assert_int_equal(h.features, VH_IXFMT_F_TRUST | VH_IXFMT_F_TRUST_INLINE);
    assert_int_equal(h.ntrust, 7);
    expect_trust("http", "127.0.2.1", 1, 1, "http", "127.0.0.0/8"); /* service beats '*' at /8 */
    expect_trust("smtp", "127.0.2.1", 1, 3, "*", "127.0.0.0/8");
    expect_trust("http", "127.0.1.9", 1, 2, "*", "127.0.1.0/24"); /* longer prefix wins */
    expect_trust("ftp", "127.0.1.7", 1, 1, "ftp", "127.0.1.7");   /* an exact address */
    expect_trust("http", "127.0.1.7", 1, 2, "*", "127.0.1.0/24");
    expect_trust("http", "::ffff:127.0.2.1", 1, 1, "http", "127.0.0.0/8"); /* fleet.md C5: a mapped peer */
    expect_trust("http", "FD56:6864:7600:20::9", 1, 3, "*", "fd56:6864:7600:20::/64");
    expect_trust("http", "2001:db8::7", 1, 1, "*", "2001:db8::7");
    expect_trust("http", "10.9.9.9", 1, 2, "http", "10.9.9.9");
    expect_trust("ftp", "10.9.9.9", 1, 0, NULL, NULL);
    expect_trust("http", "192.0.2.1", 1, 0, NULL, NULL);
    expect_trust("http", "fd56:6864:7600:21::9", 1, 0, NULL, NULL);

    /* 32 sources: still in the header; the 33rd: SQLite answers */
    char sql[4096];
    size_t o =
        (size_t)snprintf(sql, sizeof sql, "INSERT INTO proxy_sources (service, source) VALUES ('*', '10.20.0.0')");
    for (int i = 1; i < 25; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, ", ('*', '10.20.0.%d')", i);
    trust_change(sql);
    h = header_now();
    assert_int_equal(h.features, VH_IXFMT_F_TRUST | VH_IXFMT_F_TRUST_INLINE);
    assert_int_equal(h.ntrust, 32);
    expect_trust("http", "10.20.0.24", 1, 3, "*", "10.20.0.24");
    trust_change("INSERT INTO proxy_sources (service, source, versions) VALUES ('http', '10.20.0.0/24', 1)");
    h = header_now();
    assert_int_equal(h.features, VH_IXFMT_F_TRUST);
    assert_int_equal(h.ntrust, 0);
    expect_trust("http", "10.20.0.24", 0, 3, "*", "10.20.0.24");
    expect_trust("http", "10.20.0.99", 0, 1, "http", "10.20.0.0/24");
    expect_trust("http", "127.0.2.1", 0, 1, "http", "127.0.0.0/8");
    expect_trust("http", "::ffff:127.0.1.9", 0, 2, "*", "127.0.1.0/24");
    expect_trust("http", "192.0.2.1", 0, 0, NULL, NULL);
    /* back to 32: inline again; a rebuild writes the same header */
    trust_change("DELETE FROM proxy_sources WHERE source = '10.20.0.0/24'");
    assert_int_equal(header_now().ntrust, 32);
    vh_err e;
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    vh_ixfmt_hdr h2 = header_now();
    h = h2;
    assert_int_equal(h.features, VH_IXFMT_F_TRUST | VH_IXFMT_F_TRUST_INLINE);
    assert_int_equal(h.ntrust, 32);
    expect_trust("http", "127.0.2.1", 1, 1, "http", "127.0.0.0/8");
    /* a row not in vhostctl's form (the sqlite3 shell): the header does
     * not hold it, SQLite answers as it always would */
    foreign("INSERT INTO proxy_sources (service, source) VALUES ('*', '10.030.0.1')");
    assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    assert_int_equal(header_now().features, VH_IXFMT_F_TRUST);
    expect_trust("http", "127.0.2.1", 0, 1, "http", "127.0.0.0/8");
    /* none left: the header says so, nothing of issue 15 runs */
    trust_change("DELETE FROM proxy_sources");
    h = header_now();
    assert_int_equal(h.features, 0);
    assert_int_equal(h.ntrust, 0);
    assert_int_equal(same_trust("http", "127.0.2.1", &t), 1);
    assert_int_equal(t.any, 0);
}

/* ---- issue 17: name and wildcard rows (fleet.md 3.3, table S row S10) ---- */

static void s10_add(const s10_row *x)
{
    vh_row r;
    unit_row(&r, x->svc, x->key, x->root);
    r.enabled = x->enabled;
    change('a', &r, 1);
    assert_int_equal(current(), 1);
    /* change() passes over a refused change: a duplicate or a key
     * vhostctl would not store would make the expectations wrong */
    sqlite3 *db;
    sqlite3_stmt *st;
    vh_err e;
    if (vh_db_open_runtime(dbp, &db, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT root FROM domains WHERE service = ?1 AND address = ?2", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, x->svc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), x->root) != 0)
        fail_msg("row %s %s %s was not added", x->svc, x->key, x->root);
    sqlite3_finalize(st);
    vh_db_close(db, NULL);
}

/* One connection through the index and the database (same answer), and
 * through virtuald's decider, which must use the index: expect rule,
 * root, prefix length; a disabled row refuses (69), no row is 68. */
static void s10_expect(const char *svc, const char *adr, const char *name, int rule, const char *root, unsigned plen,
                       int enabled, const char *why)
{
    vh_row r;
    unsigned got_plen = 0;
    int got = same_named_answer(svc, adr, name, 0, &r, &got_plen);
    if (got != rule || (rule && (strcmp(r.root, root) != 0 || got_plen != plen || r.enabled != enabled)))
        fail_msg("%s: %s %s --name %s: %s %s /%u, expected %s %s /%u", why, svc, adr, name ? name : "-",
                 vh_select_rule_name(got), got > 0 ? r.root : "-", got_plen, vh_select_rule_name(rule),
                 root ? root : "-", plen);
    vh_decider dc;
    vh_decision d;
    vh_err e;
    if (vh_decide_begin(&dc, dbp, &e) < 0)
        fail_msg("%s", e.msg);
    int served = vh_decide_select(&dc, svc, adr, name, 0, &d, &e);
    vh_err ce;
    assert_int_equal(vh_decide_end(&dc, &ce), 0);
    assert_int_equal(d.from_index, 1);
    assert_int_equal(d.rule, rule);
    if (rule && enabled) {
        assert_int_equal(served, 0);
        assert_string_equal(d.row.root, root);
    } else {
        assert_int_equal(served, -1);
        assert_int_equal(e.code, rule ? VH_EX_UNAVAILABLE : VH_EX_NOHOST);
    }
}

/* S10 on the index: the ladder of s10_cases.h with its rows removed one
 * by one from the top (each change written in place), then the
 * provider's table case by case, again after a rebuild. */
static void test_names_answer_like_the_database(void **s)
{
    (void)s;
    /* a ('*', default) row of the random table would answer every miss */
    vh_row any;
    unit_row(&any, "*", "default", "/srv/unused");
    change('r', &any, 1);
    assert_int_equal(current(), 1);
    for (size_t i = 0; i < S10_DECOYS; i++)
        s10_add(&s10_decoys[i]);
    for (size_t i = 0; i < S10_RUNGS; i++)
        s10_add(&s10_ladder[i].row);
    for (size_t k = 0; k <= S10_RUNGS; k++) {
        const struct s10_rung *w = k < S10_RUNGS ? &s10_ladder[k] : NULL, *wn = NULL;
        for (size_t i = k; i < S10_RUNGS && !wn; i++)
            if (s10_ladder[i].row.key[0] != '*' && strcmp(s10_ladder[i].row.key, S10_NAME) != 0)
                wn = &s10_ladder[i];
        char why[64];
        snprintf(why, sizeof why, "the ladder from row %zu on", k);
        s10_expect(S10_SVC, S10_ADDR, S10_NAME, w ? w->rule : VH_RULE_NONE, w ? w->row.root : NULL, w ? w->plen : 0, 1,
                   why);
        s10_expect(S10_SVC, S10_ADDR, NULL, wn ? wn->rule : VH_RULE_NONE, wn ? wn->row.root : NULL, wn ? wn->plen : 0,
                   1, why);
        if (w)
            drop_row(w->row.svc, w->row.key);
    }
    for (size_t i = 0; i < S10_DECOYS; i++)
        drop_row(s10_decoys[i].svc, s10_decoys[i].key);
    for (size_t i = 0; i < S10_ROWS; i++)
        s10_add(&s10_rows[i]);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < S10_CASES; i++) {
            const struct s10_case *c = &s10_cases[i];
            unsigned plen = c->rule == VH_RULE_PREFIX || c->rule == VH_RULE_PREFIX_ANY ? 24 : 0;
            s10_expect(c->svc, c->addr, c->name, c->rule, c->root, plen, c->enabled, c->why);
        }
        /* a rebuild writes the same name keys as the changes in place */
        vh_err e;
        assert_int_equal(vh_ixwrite_rebuild(dbp, &e), 0);
    }
    same_answers();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_like_the_database),
        cmocka_unit_test(test_reopening_keeps_it_current),
        cmocka_unit_test(test_foreign_writes_make_it_step_aside),
        cmocka_unit_test(test_damaged_or_busy_index_never_answers),
        cmocka_unit_test(test_untrusted_index_refuses),
        cmocka_unit_test(test_a_commit_between_change_and_index_is_not_lost),
        cmocka_unit_test(test_wal_frames_without_a_connection_are_not_trusted),
        cmocka_unit_test(test_other_format_never_answers),
        cmocka_unit_test(test_out_of_range_settings_refused),
        cmocka_unit_test(test_prefix_rows_answer_like_the_database),
        cmocka_unit_test(test_trust_like_the_database),
        cmocka_unit_test(test_names_answer_like_the_database),
    };
    return cmocka_run_group_tests(tests, setup, unit_teardown);
}
