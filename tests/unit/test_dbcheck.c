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
#include "unit.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[300]; /* unit_dir/db/vhosts.db */

static unit_findings got; /* the last check's */

static int check(void)
{
    sqlite3 *db = NULL;
    vh_err e;
    if (vh_dbadmin_open(path, 0, &db, &e) < 0)
        fail_msg("open: %s", e.msg);
    got.n = 0;
    int worst = vh_dbcheck(db, path, unit_collect, &got);
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
    unit_sh("rm -rf %s", unit_path("db"));
    vh_db_close(unit_file_db(path), NULL);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (unit_fixture("dbcheck") < 0)
        return -1;
    snprintf(path, sizeof path, "%s", unit_path("db/vhosts.db"));
    return 0;
}

static void test_fresh_is_clean(void **state)
{
    (void)state;
    assert_int_equal(check(), 0);
    assert_int_equal(got.n, 0);
}

static void test_readable_by_others(void **state)
{
    (void)state;
    chmod(path, 0644);
    assert_int_equal(check(), VH_SEV_WARNING);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.at[0].kind, "db-readable");
}

static void test_untrusted(void **state)
{
    (void)state;
    const char *d = unit_path("db");
    chmod(d, 0770);
    assert_int_equal(check(), VH_SEV_ERROR);
    chmod(d, 0700);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.at[0].kind, "db-untrusted");
    assert_non_null(strstr(got.at[0].problem, "writable by group"));
}

static void test_hostile_trigger(void **state)
{
    (void)state;
    raw("CREATE TRIGGER domains_ai AFTER INSERT ON domains BEGIN SELECT 1; END");
    assert_int_equal(check(), VH_SEV_ERROR);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.at[0].kind, "db-schema");
    assert_non_null(strstr(got.at[0].problem, "not made by virtuald: trigger domains_ai on domains"));
}

static void test_changed_and_extra_objects(void **state)
{
    (void)state;
    raw("CREATE VIEW v AS SELECT 1; CREATE INDEX i ON domains(uid)");
    assert_int_equal(check(), VH_SEV_ERROR);
    assert_int_equal(got.n, 2);
    raw("DROP VIEW v; DROP INDEX i; DROP TABLE domains;"
        "CREATE TABLE domains (service TEXT, address TEXT, root TEXT, user TEXT, grp TEXT, uid INTEGER,"
        " gid INTEGER, groups TEXT, enabled INTEGER, comment TEXT, created TEXT, updated TEXT)");
    assert_int_equal(check(), VH_SEV_ERROR);
    /* the foreign table, ours missing, its indexes domains_root,
     * domains_unjailed and domains_base (sql/008), and its three
     * prefix_lengths triggers (sql/004) */
    assert_int_equal(got.n, 8);
    assert_non_null(strstr(got.at[0].problem, "not made by virtuald: table domains"));
    int table = 0, index = 0, trigger = 0;
    for (int i = 1; i < 8; i++) {
        table += strstr(got.at[i].problem, "missing or changed: table domains") != NULL;
        index += strstr(got.at[i].problem, "missing or changed: index domains_root") != NULL ||
                 strstr(got.at[i].problem, "missing or changed: index domains_unjailed") != NULL ||
                 strstr(got.at[i].problem, "missing or changed: index domains_base") != NULL;
        trigger += strstr(got.at[i].problem, "missing or changed: trigger domains_prefix_") != NULL;
    }
    assert_int_equal(table, 1);
    assert_int_equal(index, 3);
    assert_int_equal(trigger, 3);
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
    assert_true(unit_findings_has(&got, "db-corrupt", NULL));
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
    return cmocka_run_group_tests(tests, group_setup, unit_teardown);
}
