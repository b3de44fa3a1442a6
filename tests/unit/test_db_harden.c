/* db_harden: hostile schema objects in the database (THREATS E8): the
 * connection settings (vh_db_harden, for virtuald's and vhostctl's
 * connections alike) keep them inert. Each protection is shown twice:
 * the exploit works on a plain SQLite connection (positive control), and
 * fails on the connections virtuald and vhostctl open.
 *   - trusted_schema off: a view that calls a non-innocuous function
 *   - extension loading off: load_extension() of a hostile .so
 *   - defensive on: writable_schema cannot rewrite the schema
 * and a database with extra views and triggers still decides right. */
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

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int side_effects; /* calls of the hostile function */

static void side_effect(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    side_effects++;
    sqlite3_result_int(c, 1);
}

static int setup(void **s)
{
    (void)s;
    if (unit_fixture("schema") < 0)
        return -1;
    setenv("VH_E8_MARKER", unit_path("loaded"), 1);
    return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

/* A real database with one row, then made hostile with extra SQL. */
static void make_db(const char *path, const char *hostile)
{
    sqlite3 *db = unit_file_db(path);
    vh_err e;
    exec_ok(db, "INSERT INTO domains (service, address, root, enabled) VALUES ('http', '192.0.2.1', '/', 1)");
    assert_int_equal(vh_db_close(db, &e), 0);
    if (!hostile)
        return;
    /* the attacker's edit, made with a plain connection */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, hostile);
    sqlite3_close(db);
}

static const char view_calling_function[] =
    "ALTER TABLE domains RENAME TO real_domains;"
    "CREATE VIEW domains AS SELECT service, address,"
    " CASE WHEN hostile_fn() THEN root ELSE root END AS root,"
    " user, grp, uid, gid, groups, enabled, comment, net_bind_service, max_procs, unjailed,"
    " max_instances, max_per_source, source_prefix4, source_prefix6, base FROM real_domains;";

static void test_view_with_function_is_inert(void **s)
{
    (void)s;
    const char *p = unit_path("view.db");
    make_db(p, view_calling_function);
    vh_row row;
    vh_err e;
    sqlite3 *db;

    /* control: a plain connection (trusted schema, as SQLite defaults)
     * runs the view's function on a lookup */
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_create_function(db, "hostile_fn", 0, SQLITE_UTF8, NULL, side_effect, NULL, NULL);
    side_effects = 0;
    assert_int_equal(vh_select(db, "http", "192.0.2.1", NULL, 0, &row, NULL, &e), VH_RULE_EXACT);
    assert_true(side_effects > 0);
    sqlite3_close(db);

    /* virtuald's connection: the same function, refused inside the view */
    assert_int_equal(vh_db_open_runtime(p, &db, &e), 0);
    sqlite3_create_function(db, "hostile_fn", 0, SQLITE_UTF8, NULL, side_effect, NULL, NULL);
    side_effects = 0;
    assert_int_equal(vh_select(db, "http", "192.0.2.1", NULL, 0, &row, NULL, &e), -1);
    assert_int_equal(side_effects, 0);
    if (!strstr(e.msg, "unsafe use of hostile_fn"))
        fail_msg("unexpected refusal: %s", e.msg);
    sqlite3_close(db);

    /* and the whole decision refuses: no row comes out of such a view */
    vh_decision d;
    assert_int_equal(vh_decide(p, "http", "192.0.2.1", &d, &e), -1);
    assert_int_not_equal(e.code, 0);
}

static void test_load_extension_is_off(void **s)
{
    (void)s;
    const char *p = unit_path("ext.db");
    char sql[600];
    make_db(p, NULL);
    snprintf(sql, sizeof sql, "SELECT load_extension('%s')", VH_EVIL_EXT);
    sqlite3 *db;
    vh_err e;

    /* virtuald's connection: neither the SQL function nor the C API */
    assert_int_equal(vh_db_open_runtime(p, &db, &e), 0);
    assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_load_extension(db, VH_EVIL_EXT, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* vhostctl's connection too */
    assert_int_equal(vh_dbadmin_open(p, 0, &db, &e), 0);
    assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct stat st;
    assert_int_equal(stat(unit_path("loaded"), &st), -1);

    /* control: with extension loading on, the same call loads it */
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_enable_load_extension(db, 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(stat(unit_path("loaded"), &st), 0);
    unlink(unit_path("loaded"));
}

static void test_defensive(void **s)
{
    (void)s;
    const char *p = unit_path("def.db");
    static const char rewrite[] = "PRAGMA writable_schema=ON;"
                                  "UPDATE sqlite_schema SET sql = sql || ' ' WHERE name = 'domains';";
    make_db(p, NULL);
    sqlite3 *db;
    vh_err e;
    assert_int_equal(vh_dbadmin_open(p, 0, &db, &e), 0);
    assert_int_not_equal(sqlite3_exec(db, rewrite, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* control: a plain connection may rewrite the schema */
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, rewrite, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_extra_objects_do_not_change_the_decision(void **s)
{
    (void)s;
    const char *p = unit_path("extra.db");
    char hostile[1200];
    snprintf(hostile, sizeof hostile,
             "CREATE TABLE log(x);"
             "CREATE TRIGGER t AFTER INSERT ON domains BEGIN INSERT INTO log SELECT load_extension('%s'); END;"
             "CREATE TRIGGER u BEFORE DELETE ON domains BEGIN SELECT RAISE(ABORT, 'no'); END;"
             "CREATE VIEW domainz AS SELECT *, load_extension('%s') FROM domains;",
             VH_EVIL_EXT, VH_EVIL_EXT);
    make_db(p, hostile);
    vh_decision d;
    vh_err e;
    assert_int_equal(vh_decide(p, "http", "192.0.2.1", &d, &e), 0);
    assert_int_equal(d.rule, VH_RULE_EXACT);
    assert_string_equal(d.row.root, "/");
    assert_int_equal(vh_decide(p, "http", "192.0.2.9", &d, &e), -1);
    assert_int_equal(e.code, VH_EX_NOHOST);
    struct stat st;
    assert_int_equal(stat(unit_path("loaded"), &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_with_function_is_inert),
        cmocka_unit_test(test_load_extension_is_off),
        cmocka_unit_test(test_defensive),
        cmocka_unit_test(test_extra_objects_do_not_change_the_decision),
    };
    return cmocka_run_group_tests(tests, setup, unit_teardown);
}
