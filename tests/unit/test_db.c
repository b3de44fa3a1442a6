/* db: creation, migration, schema versions and trust (THREATS E, F1, F6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db.h"
#include "dbadmin.h"
#include "migrate.h"
#include "decide.h"
#include "row.h"
#include "select.h"
#include "exitcodes.h"
#include "unit.h"
#include "store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **s)
{
    (void)s;
    return unit_fixture("db");
}

static void make_db(const char *path)
{
    vh_err e;
    assert_int_equal(vh_db_close(unit_file_db(path), &e), 0);
}

static void test_init_creates_private_and_is_idempotent(void **s)
{
    (void)s;
    const char *p = unit_path("priv/vhosts.db");
    make_db(p);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* E6 */
    assert_int_equal(stat(unit_path("priv"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    sqlite3 *db;
    vh_err e;
    int from = -1, to = -1;
    assert_int_equal(vh_dbadmin_open(p, 0, &db, &e), 0);
    assert_int_equal(vh_migrate(db, &from, &to, &e), 0);
    assert_int_equal(from, vh_db_schema_version());
    assert_int_equal(to, vh_db_schema_version());
    sqlite3_stmt *st2;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st2, NULL);
    assert_int_equal(sqlite3_step(st2), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st2, 0), "wal");
    sqlite3_finalize(st2);
    vh_db_close(db, &e);
    assert_int_equal(vh_db_open_runtime(p, &db, &e), 0);
    vh_db_close(db, &e);
}

static void expect_runtime(const char *path, int code, const char *why)
{
    sqlite3 *db = NULL;
    vh_err e = {0, ""};
    assert_int_equal(vh_db_open_runtime(path, &db, &e), -1);
    assert_null(db);
    if (e.code != code || !strstr(e.msg, why))
        fail_msg("%s: got %d '%s', expected %d '%s'", path, e.code, e.msg, code, why);
}

static void test_runtime_refusals(void **s)
{
    (void)s;
    mkdir(unit_path("r"), 0700);
    expect_runtime(unit_path("r/none.db"), VH_EX_NOINPUT, "does not exist"); /* F1 */
    struct stat st;
    assert_int_equal(stat(unit_path("r/none.db"), &st), -1); /* nothing created */
    int fd = open(unit_path("r/empty.db"), O_CREAT | O_WRONLY, 0600);
    close(fd);
    expect_runtime(unit_path("r/empty.db"), VH_EX_CONFIG, "schema version 0"); /* F2 */
    make_db(unit_path("r/ok.db"));
    sqlite3 *db;
    sqlite3_open(unit_path("r/ok.db"), &db);
    /* one past this build's: a newer vhostctl's */
    char newer[64], why[64];
    snprintf(newer, sizeof newer, "PRAGMA user_version=%d", vh_db_schema_version() + 1);
    snprintf(why, sizeof why, "schema version %d, newer", vh_db_schema_version() + 1);
    sqlite3_exec(db, newer, NULL, NULL, NULL);
    sqlite3_close(db);
    expect_runtime(unit_path("r/ok.db"), VH_EX_CONFIG, why); /* F6 */
    chmod(unit_path("r/ok.db"), 0640);
    expect_runtime(unit_path("r/ok.db"), VH_EX_CONFIG,
                   "newer"); /* readable by group: trusted (E6 is a check warning) */
    chmod(unit_path("r/ok.db"), 0660);
    expect_runtime(unit_path("r/ok.db"), VH_EX_CONFIG, "writable by group"); /* E2 */
    chmod(unit_path("r/ok.db"), 0600);
    assert_int_equal(chown(unit_path("r/ok.db"), 65534, 0), 0);
    expect_runtime(unit_path("r/ok.db"), VH_EX_CONFIG, "owned by uid 65534"); /* E1 */
    assert_int_equal(chown(unit_path("r/ok.db"), 0, 0), 0);
    assert_int_equal(symlink(unit_path("r/ok.db"), unit_path("r/link.db")), 0);
    expect_runtime(unit_path("r/link.db"), VH_EX_CONFIG, "symbolic link"); /* E5 */
    unlink(unit_path("r/ok.db-shm"));
    assert_int_equal(symlink("/nowhere", unit_path("r/ok.db-shm")), 0);
    expect_runtime(unit_path("r/ok.db"), VH_EX_CONFIG, "-shm is not a regular file"); /* E4 */
    unlink(unit_path("r/ok.db-shm"));
    chmod(unit_path("r"), 0702);
    expect_runtime(unit_path("r/ok.db"), VH_EX_CONFIG, "writable by others"); /* E3 */
    chmod(unit_path("r"), 0700);
}

static void test_admin_refuses(void **s)
{
    (void)s;
    sqlite3 *db = NULL;
    vh_err e;
    mkdir(unit_path("a"), 0700);
    assert_int_equal(vh_dbadmin_open(unit_path("a/none.db"), 0, &db, &e), -1);
    assert_int_equal(e.code, VH_EX_NOINPUT);
    /* a foreign database is never adopted by init */
    sqlite3_open(unit_path("a/foreign.db"), &db);
    sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(vh_dbadmin_open(unit_path("a/foreign.db"), 1, &db, &e), 0);
    assert_int_equal(vh_migrate(db, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "refusing to change it"));
    vh_db_close(db, &e);
}

/* A version 1 database - sql/001 alone, as the previous release made it,
 * with rows - is refused by virtuald with the remedy, and vhostctl init
 * (vh_migrate) brings it to the current version in one transaction:
 * every row keeps its values and gets sql/002's defaults. */
static void test_migrate_from_version_1(void **s)
{
    (void)s;
    assert_true(vh_migrate_count >= 2);
    assert_int_equal(vh_migrate_files[0].version, 1);
    mkdir(unit_path("v1"), 0700);
    const char *p = unit_path("v1/vhosts.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, vh_migrate_files[0].sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL;"
                     "INSERT INTO domains (service, address, root, user, grp, uid, gid, groups, enabled, comment)"
                     " VALUES ('http', '127.0.0.2', '/srv/a', 'www', 'www', 1000, 1001, '27,44', 0, 'old one');"
                     "INSERT INTO domains (service, address, root) VALUES ('ftp', 'default', '/srv/f');",
                     NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("making a version 1 database: %s", msg ? msg : "?");
    sqlite3_close(db);
    chmod(p, 0600);

    /* virtuald: refused, naming the remedy */
    sqlite3 *rt = NULL;
    vh_err e = {0, ""};
    assert_int_equal(vh_db_open_runtime(p, &rt, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    if (!strstr(e.msg, "schema version 1") || !strstr(e.msg, "vhostctl --db") || !strstr(e.msg, " init"))
        fail_msg("refusal without the remedy: %s", e.msg);
    vh_decision d;
    assert_int_equal(vh_decide(p, "ftp", "127.0.0.9", &d, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);

    /* vhostctl init */
    int from = -1, to = -1;
    assert_int_equal(vh_dbadmin_open(p, 1, &db, &e), 0);
    if (vh_migrate(db, &from, &to, &e) < 0)
        fail_msg("migrate: %s", e.msg);
    assert_int_equal(from, 1);
    assert_int_equal(to, vh_db_schema_version());
    assert_int_equal(vh_db_close(db, &e), 0);

    assert_int_equal(vh_decide(p, "ftp", "127.0.0.9", &d, &e), 0);
    assert_int_equal(d.rule, VH_RULE_DEFAULT);
    assert_string_equal(d.row.root, "/srv/f");
    assert_int_equal(d.row.has_user, 0);
    assert_int_equal(d.row.net_bind_service, 0);
    assert_int_equal(d.row.max_procs, VH_MAX_PROCS_DEFAULT);
    assert_int_equal(vh_decide(p, "http", "127.0.0.2", &d, &e), -1); /* disabled, as it was */
    assert_int_equal(e.code, VH_EX_UNAVAILABLE);
    assert_string_equal(d.row.root, "/srv/a");
    assert_string_equal(d.row.user, "www");
    assert_int_equal(d.row.uid, 1000);
    assert_int_equal(d.row.gid, 1001);
    assert_int_equal(d.row.ngroups, 2);
    assert_int_equal(d.row.groups[1], 44);
    assert_int_equal(d.row.max_procs, VH_MAX_PROCS_DEFAULT);
    assert_int_equal(d.row.net_bind_service, 0);

    /* the new columns are there with their CHECKs, and a second init
     * changes nothing */
    assert_int_equal(vh_dbadmin_open(p, 0, &db, &e), 0);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE domains SET max_procs = 0", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE domains SET net_bind_service = 1 WHERE service = 'http'", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(vh_migrate(db, &from, &to, &e), 0);
    assert_int_equal(from, vh_db_schema_version());
    assert_int_equal(vh_db_close(db, &e), 0);
}

/* vh_store_set_limits: both settings, one, the refusals. */
static void test_set_limits(void **s)
{
    (void)s;
    const char *p = unit_path("lim/vhosts.db");
    make_db(p);
    sqlite3 *db;
    vh_err e;
    vh_row r;
    unit_row(&r, "ftp", "127.0.0.2", "/srv/a");
    assert_int_equal(vh_dbadmin_open(p, 0, &db, &e), 0);
    assert_int_equal(vh_store_add(db, &r, &e), 0);
    strcpy(r.address, "127.0.0.3");
    r.has_user = 1;
    strcpy(r.user, "u");
    strcpy(r.group, "g");
    r.uid = r.gid = 1000;
    r.max_procs = 0; /* a writer that forgot vh_row_init: the schema refuses */
    assert_int_equal(vh_store_add(db, &r, &e), -1);
    assert_int_equal(e.code, VH_EX_DATAERR);
    r.max_procs = 50;
    assert_int_equal(vh_store_add(db, &r, &e), 0);

    assert_int_equal(vh_store_set_limits(db, "ftp", "127.0.0.2", 1, 0, &e), 0);
    assert_int_equal(vh_store_set_limits(db, "ftp", "127.0.0.2", -1, 9, &e), 0);
    assert_int_equal(vh_store_set_limits(db, "ftp", "127.0.0.9", 1, 0, &e), -1);
    assert_int_equal(e.code, VH_EX_NOHOST);
    assert_int_equal(vh_store_set_limits(db, "ftp", "127.0.0.3", 1, 0, &e), -1); /* run-as */
    assert_int_equal(e.code, VH_EX_DATAERR);
    assert_non_null(strstr(e.msg, "no capabilities"));
    assert_int_equal(vh_store_set_limits(db, "ftp", "127.0.0.3", 0, VH_MAX_PROCS_MAX, &e), 0);
    assert_int_equal(vh_store_set_limits(db, "ftp", "127.0.0.3", -1, VH_MAX_PROCS_MAX + 1, &e), -1);
    assert_int_equal(e.code, VH_EX_DATAERR); /* the CHECK */
    vh_db_close(db, &e);

    vh_decision d;
    assert_int_equal(vh_decide(p, "ftp", "127.0.0.2", &d, &e), 0);
    assert_int_equal(d.row.net_bind_service, 1);
    assert_int_equal(d.row.max_procs, 9);
    assert_int_equal(vh_decide(p, "ftp", "127.0.0.3", &d, &e), 0);
    assert_int_equal(d.row.net_bind_service, 0);
    assert_int_equal(d.row.max_procs, VH_MAX_PROCS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_creates_private_and_is_idempotent),
        cmocka_unit_test(test_runtime_refusals),
        cmocka_unit_test(test_admin_refuses),
        cmocka_unit_test(test_migrate_from_version_1),
        cmocka_unit_test(test_set_limits),
    };
    return cmocka_run_group_tests(tests, setup, unit_teardown);
}
