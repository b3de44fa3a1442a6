/* row: what a row may hold - the group list's text, vh_row_valid, the
 * schema's checks and defaults as a row reads them back, and a value too
 * long for vh_row refused, never cut (vh_row_from_cols). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "exitcodes.h"
#include "row.h"
#include "select.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void test_groups(void **s)
{
    (void)s;
    uint32_t g[VH_MAX_GROUPS];
    vh_err e;
    assert_int_equal(vh_row_groups_parse("", g, &e), 0);
    assert_int_equal(vh_row_groups_parse("5,65534,100000", g, &e), 3);
    assert_int_equal(g[2], 100000);
    assert_int_equal(vh_row_groups_parse("0", g, &e), -1);
    assert_int_equal(vh_row_groups_parse("65535", g, &e), -1);
    assert_int_equal(vh_row_groups_parse("4294967295", g, &e), -1);
    /* the root services' user-namespace range (userns.h), both ends */
    assert_int_equal(vh_row_groups_parse("1879048192", g, &e), -1);
    assert_int_equal(vh_row_groups_parse("1879113727", g, &e), -1);
    assert_int_equal(vh_row_groups_parse("1879048191,1879113728", g, &e), 2);
    assert_int_equal(vh_row_groups_parse("1,,2", g, &e), -1);
    assert_int_equal(vh_row_groups_parse("1,x", g, &e), -1);
    assert_int_equal(vh_row_groups_parse("-1", g, &e), -1);
    char out[64];
    uint32_t in[] = {4, 27};
    vh_row_groups_format(in, 2, out, sizeof out);
    assert_string_equal(out, "4,27");
}

static void test_row_valid(void **s)
{
    (void)s;
    vh_row r;
    vh_err e;
    vh_row_init(&r);
    strcpy(r.root, "/j/a");
    assert_int_equal(vh_row_valid(&r, &e), 0); /* root service */
    r.net_bind_service = 1;
    assert_int_equal(vh_row_valid(&r, &e), 0); /* a root service may keep the capability */
    r.net_bind_service = 2;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.net_bind_service = 0;
    r.max_procs = 0;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    assert_non_null(strstr(e.msg, "max_procs"));
    r.max_procs = VH_MAX_PROCS_MAX + 1;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.max_procs = VH_MAX_PROCS_MAX;
    assert_int_equal(vh_row_valid(&r, &e), 0);
    r.has_user = 1;
    r.uid = 0;
    r.gid = 100;
    assert_int_equal(vh_row_valid(&r, &e), -1); /* B4 */
    assert_int_equal(e.code, VH_EX_NOUSER);
    r.uid = 65535;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.uid = VH_USERNS_BASE; /* a root service's namespace range */
    assert_int_equal(vh_row_valid(&r, &e), -1);
    assert_non_null(strstr(e.msg, "user-namespace range 1879048192-1879113727"));
    r.uid = VH_USERNS_BASE + VH_USERNS_COUNT - 1;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.uid = VH_USERNS_BASE + VH_USERNS_COUNT; /* control: just past it */
    assert_int_equal(vh_row_valid(&r, &e), 0);
    r.uid = 1000;
    r.gid = VH_USERNS_BASE + 7;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.gid = 0;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.gid = 1000;
    r.groups[0] = 0;
    r.ngroups = 1;
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.groups[0] = 27;
    assert_int_equal(vh_row_valid(&r, &e), 0);
    r.net_bind_service = 1; /* a run-as row has no capabilities */
    assert_int_equal(vh_row_valid(&r, &e), -1);
    assert_non_null(strstr(e.msg, "run-as"));
    r.net_bind_service = 0;
    strcpy(r.root, "relative");
    assert_int_equal(vh_row_valid(&r, &e), -1);
}

static void test_schema_rejects_bad_rows(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    const char *bad[] = {
        "INSERT INTO domains(service,address,root,user,grp,uid,gid) VALUES ('a','b','/r','u','g',0,5)",
        "INSERT INTO domains(service,address,root,user,grp,uid,gid) VALUES ('a','b','/r','u','g',5,0)",
        "INSERT INTO domains(service,address,root,user,uid) VALUES ('a','b','/r','u',5)",
        "INSERT INTO domains(service,address,root) VALUES ('a','b','rel')",
        "INSERT INTO domains(service,address,root,enabled) VALUES ('a','b','/r',2)",
        /* sql/002 */
        "INSERT INTO domains(service,address,root,net_bind_service) VALUES ('a','b','/r',2)",
        "INSERT INTO domains(service,address,root,net_bind_service) VALUES ('a','b','/r',-1)",
        "INSERT INTO domains(service,address,root,net_bind_service) VALUES ('a','b','/r','on')",
        "INSERT INTO domains(service,address,root,net_bind_service) VALUES ('a','b','/r',NULL)",
        "INSERT INTO domains(service,address,root,user,grp,uid,gid,net_bind_service)"
        " VALUES ('a','b','/r','u','g',5,5,1)",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','b','/r',0)",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','b','/r',-5)",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','b','/r',4194305)",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','b','/r',2.5)",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','b','/r','many')",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','b','/r',NULL)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (sqlite3_exec(db, bad[i], NULL, NULL, NULL) == SQLITE_OK)
            fail_msg("accepted: %s", bad[i]);
    /* the edges and the defaults are rows */
    const char *good[] = {
        "INSERT INTO domains(service,address,root) VALUES ('a','1','/r')",
        "INSERT INTO domains(service,address,root,net_bind_service,max_procs) VALUES ('a','2','/r',1,1)",
        "INSERT INTO domains(service,address,root,max_procs) VALUES ('a','3','/r',4194304)",
        "INSERT INTO domains(service,address,root,user,grp,uid,gid,max_procs) VALUES ('a','4','/r','u','g',5,5,7)",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (sqlite3_exec(db, good[i], NULL, NULL, NULL) != SQLITE_OK)
            fail_msg("refused: %s: %s", good[i], sqlite3_errmsg(db));
    vh_row r;
    vh_err e;
    assert_int_equal(vh_select(db, "a", "1", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(r.net_bind_service, 0);
    assert_int_equal(r.max_procs, VH_MAX_PROCS_DEFAULT);
    assert_int_equal(vh_select(db, "a", "2", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(r.net_bind_service, 1);
    assert_int_equal(r.max_procs, 1);
    assert_int_equal(vh_select(db, "a", "3", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(r.max_procs, VH_MAX_PROCS_MAX);
    assert_int_equal(vh_select(db, "a", "4", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(r.net_bind_service, 0);
    assert_int_equal(r.max_procs, 7);
    sqlite3_close(db);
}

/* Point 11 of issue 11: a hand-written root longer than PATH_MAX was cut
 * to PATH_MAX - 1 bytes, naming another directory. Refused now; the
 * control: the longest root that fits is taken whole. */
static void test_long_root_refused(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    char sql[3 * PATH_MAX];
    char root[2 * PATH_MAX];
    root[0] = '/';
    memset(root + 1, 'a', PATH_MAX + 9);
    root[PATH_MAX + 10] = '\0';
    snprintf(sql, sizeof sql, "INSERT INTO domains(service,address,root) VALUES ('a','1','%s')", root);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    root[PATH_MAX - 1] = '\0'; /* PATH_MAX - 1 bytes: fits */
    snprintf(sql, sizeof sql, "INSERT INTO domains(service,address,root) VALUES ('a','2','%s')", root);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    vh_row r;
    vh_err e;
    assert_int_equal(vh_select(db, "a", "1", NULL, 0, &r, NULL, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_non_null(strstr(e.msg, "root is"));
    assert_int_equal(r.root[0], '\0');
    assert_int_equal(vh_select(db, "a", "2", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(strlen(r.root), PATH_MAX - 1);
    sqlite3_close(db);
}

/* sql/008: the base. The schema takes NULL or an absolute path other
 * than "/"; a reader gets it whole (vh_select) and vh_row_valid refuses
 * a base that is no normalised absolute path, "/", or on a row that is
 * no jail. */
static void test_base(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    const char *bad[] = {
        "INSERT INTO domains(service,address,root,base) VALUES ('a','b','/r','rel')",
        "INSERT INTO domains(service,address,root,base) VALUES ('a','b','/r','/')",
        "INSERT INTO domains(service,address,root,base) VALUES ('a','b','/r','')",
        "INSERT INTO domains(service,address,root,base) VALUES ('a','b','/r',5)",
        "INSERT INTO domains(service,address,root,base) VALUES ('a','b','/r',x'2f62')",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (sqlite3_exec(db, bad[i], NULL, NULL, NULL) == SQLITE_OK)
            fail_msg("accepted: %s", bad[i]);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO domains(service,address,root) VALUES ('a','1','/r');"
                                  "INSERT INTO domains(service,address,root,base) VALUES ('a','2','/r','/srv/base')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    vh_row r;
    vh_err e;
    assert_int_equal(vh_select(db, "a", "1", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_string_equal(r.base, ""); /* NULL: no base */
    assert_int_equal(vh_select(db, "a", "2", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_string_equal(r.base, "/srv/base");
    assert_int_equal(vh_row_valid(&r, &e), 0);
    strcpy(r.base, "/srv/../etc");
    assert_int_equal(vh_row_valid(&r, &e), -1);
    assert_non_null(strstr(e.msg, "base"));
    strcpy(r.base, "/");
    assert_int_equal(vh_row_valid(&r, &e), -1);
    strcpy(r.base, "/srv/base");
    r.unjailed = 1; /* a base covers a jail's directories, never the host's */
    assert_int_equal(vh_row_valid(&r, &e), -1);
    r.unjailed = 0;
    strcpy(r.root, "/");
    assert_int_equal(vh_row_valid(&r, &e), -1);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_row_valid),
        cmocka_unit_test(test_schema_rejects_bad_rows),
        cmocka_unit_test(test_long_root_refused),
        cmocka_unit_test(test_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
