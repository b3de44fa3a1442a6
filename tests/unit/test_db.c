/* db: creation, migration, schema versions and trust (THREATS E, F1, F6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db.h"
#include "domain.h"
#include "exitcodes.h"
#include "fixture.h"
#include "store.h"

#include <fcntl.h>
#include <sqlite3.h>

static int setup(void **s)
{
    (void)s;
    return fx_setup("db");
}

static int teardown(void **s)
{
    (void)s;
    fx_teardown();
    return 0;
}

static void make_db(const char *path)
{
    sqlite3 *db;
    vh_err e;
    if (vh_db_open_admin(path, 1, &db, &e) < 0 || vh_db_migrate(db, NULL, NULL, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(vh_db_close(db, &e), 0);
}

static void test_init_creates_private_and_is_idempotent(void **s)
{
    (void)s;
    const char *p = fx_path("priv/vhosts.db");
    make_db(p);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);               /* E6 */
    assert_int_equal(stat(fx_path("priv"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    sqlite3 *db;
    vh_err e;
    int from = -1, to = -1;
    assert_int_equal(vh_db_open_admin(p, 0, &db, &e), 0);
    assert_int_equal(vh_db_migrate(db, &from, &to, &e), 0);
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
    mkdir(fx_path("r"), 0700);
    expect_runtime(fx_path("r/none.db"), VH_EX_NOINPUT, "does not exist");      /* F1 */
    struct stat st;
    assert_int_equal(stat(fx_path("r/none.db"), &st), -1);                   /* nothing created */
    int fd = open(fx_path("r/empty.db"), O_CREAT | O_WRONLY, 0600);
    close(fd);
    expect_runtime(fx_path("r/empty.db"), VH_EX_CONFIG, "schema version 0");    /* F2 */
    make_db(fx_path("r/ok.db"));
    sqlite3 *db;
    sqlite3_open(fx_path("r/ok.db"), &db);
    sqlite3_exec(db, "PRAGMA user_version=7", NULL, NULL, NULL);
    sqlite3_close(db);
    expect_runtime(fx_path("r/ok.db"), VH_EX_CONFIG, "schema version 7, newer");  /* F6 */
    chmod(fx_path("r/ok.db"), 0640);
    expect_runtime(fx_path("r/ok.db"), VH_EX_CONFIG, "newer"); /* readable by group: trusted (E6 is a check warning) */
    chmod(fx_path("r/ok.db"), 0660);
    expect_runtime(fx_path("r/ok.db"), VH_EX_CONFIG, "writable by group");        /* E2 */
    chmod(fx_path("r/ok.db"), 0600);
    assert_int_equal(chown(fx_path("r/ok.db"), 65534, 0), 0);
    expect_runtime(fx_path("r/ok.db"), VH_EX_CONFIG, "owned by uid 65534");       /* E1 */
    assert_int_equal(chown(fx_path("r/ok.db"), 0, 0), 0);
    assert_int_equal(symlink(fx_path("r/ok.db"), fx_path("r/link.db")), 0);
    expect_runtime(fx_path("r/link.db"), VH_EX_CONFIG, "symbolic link");          /* E5 */
    unlink(fx_path("r/ok.db-shm"));
    assert_int_equal(symlink("/nowhere", fx_path("r/ok.db-shm")), 0);
    expect_runtime(fx_path("r/ok.db"), VH_EX_CONFIG, "-shm is not a regular file"); /* E4 */
    unlink(fx_path("r/ok.db-shm"));
    chmod(fx_path("r"), 0702);
    expect_runtime(fx_path("r/ok.db"), VH_EX_CONFIG, "writable by others");       /* E3 */
    chmod(fx_path("r"), 0700);
}

static void test_admin_refuses(void **s)
{
    (void)s;
    sqlite3 *db = NULL;
    vh_err e;
    mkdir(fx_path("a"), 0700);
    assert_int_equal(vh_db_open_admin(fx_path("a/none.db"), 0, &db, &e), -1);
    assert_int_equal(e.code, VH_EX_NOINPUT);
    /* a foreign database is never adopted by init */
    sqlite3_open(fx_path("a/foreign.db"), &db);
    sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(vh_db_open_admin(fx_path("a/foreign.db"), 1, &db, &e), 0);
    assert_int_equal(vh_db_migrate(db, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "refusing to change it"));
    vh_db_close(db, &e);
}

static void test_decide(void **s)
{
    (void)s;
    const char *p = fx_path("d/vhosts.db");
    make_db(p);
    sqlite3 *db;
    vh_err e;
    vh_row r;
    memset(&r, 0, sizeof r);
    strcpy(r.service, "http");
    strcpy(r.address, "127.0.0.2");
    strcpy(r.root, "/srv/a");
    r.enabled = 1;
    assert_int_equal(vh_db_open_admin(p, 0, &db, &e), 0);
    assert_int_equal(vh_store_add(db, &r, &e), 0);
    assert_int_equal(vh_store_add(db, &r, &e), -1);                           /* F8: one row per key */
    assert_non_null(strstr(e.msg, "already exists"));
    strcpy(r.address, "127.0.0.3");
    r.enabled = 0;
    assert_int_equal(vh_store_add(db, &r, &e), 0);
    vh_db_close(db, &e);
    vh_decision d;
    assert_int_equal(vh_decide(p, "http", "127.0.0.2", &d, &e), 0);
    assert_int_equal(d.rule, VH_RULE_EXACT);
    assert_int_equal(vh_decide(p, "http", "127.0.0.3", &d, &e), -1);
    assert_int_equal(e.code, VH_EX_UNAVAILABLE);
    assert_int_equal(vh_decide(p, "http", "127.0.0.4", &d, &e), -1);
    assert_int_equal(e.code, VH_EX_NOHOST);
    assert_int_equal(d.rule, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_creates_private_and_is_idempotent),
        cmocka_unit_test(test_runtime_refusals),
        cmocka_unit_test(test_admin_refuses),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
