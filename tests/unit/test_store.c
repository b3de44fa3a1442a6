/* store: listing order ('default' last in each service, whatever the
 * address text sorts like), in both forms, by an index walk that never
 * sorts (constant memory at any row count). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "db.h"
#include "row.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void put(sqlite3 *db, const char *svc, const char *addr)
{
    vh_row r;
    char root[300];
    snprintf(root, sizeof root, "/j/%s", addr);
    unit_row(&r, svc, addr, root);
    unit_put(db, &r);
}

struct seen {
    char text[4096];
};

static int add_row(void *ctx, const vh_row *r)
{
    struct seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s/%s ", r->service, r->address);
    return 0;
}

static int add_json(void *ctx, const char *text)
{
    struct seen *s = ctx;
    /* "service":"x","address":"y" are the first two members */
    char svc[64] = "", adr[64] = "";
    sscanf(text, "{\"service\":\"%63[^\"]\",\"address\":\"%63[^\"]\"", svc, adr);
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s/%s ", svc, adr);
    return 0;
}

static int stop_after_two(void *ctx, const vh_row *r)
{
    (void)r;
    return ++*(int *)ctx >= 2;
}

static void test_order(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    /* 'fd00::1' and 'ff02::1'-like text sorts after 'default' */
    put(db, "http", "fd00::1");
    put(db, "http", "default");
    put(db, "http", "10.0.0.1");
    put(db, "*", "default");
    put(db, "*", "192.0.2.1");
    put(db, "ftp", "fe::1");
    put(db, "ftp", "default");
    put(db, "smtp", "192.0.2.9");
    const char *want = "*/192.0.2.1 */default ftp/fe::1 ftp/default http/10.0.0.1 http/fd00::1 http/default "
                       "smtp/192.0.2.9 ";
    struct seen a = {""}, b = {""};
    vh_err e;
    assert_int_equal(vh_store_each(db, NULL, add_row, &a, &e), 0);
    assert_string_equal(a.text, want);
    assert_int_equal(vh_store_each_json(db, NULL, add_json, &b, &e), 0);
    assert_string_equal(b.text, want);
    struct seen c = {""};
    assert_int_equal(vh_store_each(db, "http", add_row, &c, &e), 0);
    assert_string_equal(c.text, "http/10.0.0.1 http/fd00::1 http/default ");
    int n = 0;
    assert_int_equal(vh_store_each(db, NULL, stop_after_two, &n, &e), 0);
    assert_int_equal(n, 2);
    sqlite3_close(db);
}

static void test_no_sort(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    const char *sql[] = {vh_store_each_sql, vh_store_each_json_sql};
    for (int i = 0; i < 2; i++) {
        char q[2048];
        snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql[i]);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        int rows = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            rows++;
            assert_null(strstr((const char *)sqlite3_column_text(st, 3), "TEMP B-TREE"));
        }
        assert_true(rows > 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_no_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
