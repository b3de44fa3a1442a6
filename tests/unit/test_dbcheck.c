/* Unit tests of dbcheck.c: the database file as `vhostctl check` judges
 * it (THREATS E1-E3, E6, E8). Fixtures under /run/vhtest; needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "dbadmin.h"
#include "migrate.h"
#include "dbcheck.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128], path[160];

#define MAXF 16
static struct {
    char kind[32];
    char problem[512];
    int sev;
} got[MAXF];
static int ngot;

static void collect(void *ctx, const vh_finding *f)
{
    (void)ctx;
    if (ngot < MAXF) {
        snprintf(got[ngot].kind, sizeof got[ngot].kind, "%s", f->kind);
        snprintf(got[ngot].problem, sizeof got[ngot].problem, "%s", f->problem);
        got[ngot].sev = f->severity;
    }
    ngot++;
}

static int check(void)
{
    sqlite3 *db = NULL;
    vh_err e;
    if (vh_dbadmin_open(path, 0, &db, &e) < 0)
        fail_msg("open: %s", e.msg);
    ngot = 0;
    int worst = vh_dbcheck(db, path, collect, NULL);
    vh_db_close(db, NULL);
    return worst;
}

static void raw(const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

static int setup(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -m 0755 %s", dir, dir);
    if (system(cmd) != 0)
        return -1;
    sqlite3 *db = NULL;
    vh_err e;
    if (vh_dbadmin_open(path, 1, &db, &e) < 0 || vh_migrate(db, NULL, NULL, &e) < 0)
        return -1;
    vh_db_close(db, NULL);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return -1;
    mkdir("/run/vhtest", 0755);
    snprintf(dir, sizeof dir, "/run/vhtest/unit-dbcheck.%ld", (long)getpid());
    snprintf(path, sizeof path, "%s/db/vhosts.db", dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_fresh_is_clean(void **state)
{
    (void)state;
    assert_int_equal(check(), 0);
    assert_int_equal(ngot, 0);
}

static void test_readable_by_others(void **state)
{
    (void)state;
    chmod(path, 0644);
    assert_int_equal(check(), VH_SEV_WARNING);
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0].kind, "db-readable");
}

static void test_untrusted(void **state)
{
    (void)state;
    char d[200];
    snprintf(d, sizeof d, "%s/db", dir);
    chmod(d, 0770);
    assert_int_equal(check(), VH_SEV_ERROR);
    chmod(d, 0700);
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0].kind, "db-untrusted");
    assert_non_null(strstr(got[0].problem, "writable by group"));
}

static void test_hostile_trigger(void **state)
{
    (void)state;
    raw("CREATE TRIGGER domains_ai AFTER INSERT ON domains BEGIN SELECT 1; END");
    assert_int_equal(check(), VH_SEV_ERROR);
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0].kind, "db-schema");
    assert_non_null(strstr(got[0].problem, "not made by virtuald: trigger domains_ai on domains"));
}

static void test_changed_and_extra_objects(void **state)
{
    (void)state;
    raw("CREATE VIEW v AS SELECT 1; CREATE INDEX i ON domains(uid)");
    assert_int_equal(check(), VH_SEV_ERROR);
    assert_int_equal(ngot, 2);
    raw("DROP VIEW v; DROP INDEX i; DROP TABLE domains;"
        "CREATE TABLE domains (service TEXT, address TEXT, root TEXT, user TEXT, grp TEXT, uid INTEGER,"
        " gid INTEGER, groups TEXT, enabled INTEGER, comment TEXT, created TEXT, updated TEXT)");
    assert_int_equal(check(), VH_SEV_ERROR);
    assert_int_equal(ngot, 3); /* the foreign table, ours missing, and its index domains_root */
    assert_non_null(strstr(got[0].problem, "not made by virtuald: table domains"));
    int table = 0, index = 0;
    for (int i = 1; i < 3; i++) {
        table += strstr(got[i].problem, "missing or changed: table domains") != NULL;
        index += strstr(got[i].problem, "missing or changed: index domains_root") != NULL;
    }
    assert_int_equal(table, 1);
    assert_int_equal(index, 1);
}

static void test_corrupt(void **state)
{
    (void)state;
    /* rows enough for an index page of their own, then damage to that
     * b-tree page's cell pointers: the schema still reads */
    raw("PRAGMA journal_mode=DELETE");
    for (int i = 0; i < 3; i++)
        raw("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200)"
            " INSERT OR IGNORE INTO domains (service, address, root) SELECT 'www', '10.0.' || x || '.1',"
            " '/srv/' || x FROM n");
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    fstat(fd, &st);
    assert_true(st.st_size >= 4 * 4096);
    unsigned char junk[64];
    memset(junk, 0xff, sizeof junk);
    assert_int_equal(pwrite(fd, junk, sizeof junk, 2 * 4096 + 8), (ssize_t)sizeof junk);
    close(fd);
    assert_int_equal(check(), VH_SEV_ERROR);
    int found = 0;
    for (int i = 0; i < ngot && i < MAXF; i++)
        found |= strcmp(got[i].kind, "db-corrupt") == 0;
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fresh_is_clean, setup),
        cmocka_unit_test_setup(test_readable_by_others, setup),
        cmocka_unit_test_setup(test_untrusted, setup),
        cmocka_unit_test_setup(test_hostile_trigger, setup),
        cmocka_unit_test_setup(test_changed_and_extra_objects, setup),
        cmocka_unit_test_setup(test_corrupt, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
