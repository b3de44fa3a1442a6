/* select: the selection rules of PRODUCT §3 in every precedence case,
 * disabled rows, one index seek per candidate (J5). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "db.h"
#include "exitcodes.h"
#include "row.h"
#include "select.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void put(sqlite3 *db, const char *svc, const char *addr, const char *root, int enabled)
{
    vh_row r;
    unit_row(&r, svc, addr, root);
    r.enabled = enabled;
    unit_row_nobody(&r);
    unit_put(db, &r);
}

static void expect(sqlite3 *db, const char *svc, const char *addr, int rule, const char *root)
{
    vh_row r;
    vh_err e;
    int got = vh_select(db, svc, addr, 0, &r, NULL, &e);
    if (got != rule)
        fail_msg("%s %s: rule %d, expected %d", svc, addr, got, rule);
    if (root)
        assert_string_equal(r.root, root);
}

/* Every subset of the four candidate rows, inserted in two orders: the
 * first existing rule in 1..4 decides, whatever the row order. */
static void test_precedence_all_subsets(void **s)
{
    (void)s;
    const char *svc[4] = {"http", "*", "http", "*"};
    const char *adr[4] = {"127.0.0.2", "127.0.0.2", "default", "default"};
    const char *root[4] = {"/j/exact", "/j/anysvc", "/j/default", "/j/anydefault"};
    for (int mask = 0; mask < 16; mask++) {
        for (int order = 0; order < 2; order++) {
            sqlite3 *db = unit_mem_db();
            for (int k = 0; k < 4; k++) {
                int i = order ? 3 - k : k;
                if (mask & (1 << i))
                    put(db, svc[i], adr[i], root[i], 1);
            }
            put(db, "ftp", "127.0.0.2", "/j/other-service", 1);  /* never for http */
            put(db, "http", "127.0.0.3", "/j/other-address", 1); /* never for .2 */
            int want = 0;
            for (int i = 0; i < 4 && !want; i++)
                if (mask & (1 << i))
                    want = i + 1;
            expect(db, "http", "127.0.0.2", want, want ? root[want - 1] : NULL);
            sqlite3_close(db);
        }
    }
}

static void test_disabled_never_falls_through(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    put(db, "http", "127.0.0.2", "/j/a", 0);
    put(db, "http", "default", "/j/d", 1);
    vh_row r;
    vh_err e;
    assert_int_equal(vh_select(db, "http", "127.0.0.2", 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(r.enabled, 0);
    assert_string_equal(r.root, "/j/a");
    sqlite3_close(db);
}

static void test_index_seek(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    sqlite3_stmt *st;
    /* the very statement vh_select runs */
    char q[512];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", vh_select_sql);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    int seen = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        assert_null(strstr(d, "SCAN"));
        if (strstr(d, "SEARCH domains USING PRIMARY KEY (service=? AND address=?)"))
            seen = 1;
    }
    sqlite3_finalize(st);
    assert_true(seen);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence_all_subsets),
        cmocka_unit_test(test_disabled_never_falls_through),
        cmocka_unit_test(test_index_seek),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
