/* nest: jails inside jails and the database inside a jail (THREATS K8),
 * found by one sorted pass whatever the byte order of the names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "db.h"
#include "nest.h"
#include "row.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void put(sqlite3 *db, const char *addr, const char *root)
{
    vh_row r;
    unit_row(&r, "www", addr, root);
    unit_put(db, &r);
}

static char seen[2048];

static void note(void *ctx, const char *outer, const char *inner, const char *dbfile)
{
    (void)ctx;
    size_t n = strlen(seen);
    snprintf(seen + n, sizeof seen - n, "%s<%s;", inner ? inner : dbfile, outer);
}

static void test_below(void **s)
{
    (void)s;
    assert_true(vh_nest_below("/a", "/a/b"));
    assert_true(vh_nest_below("/a", "/a/b/c"));
    assert_false(vh_nest_below("/a", "/a"));
    assert_false(vh_nest_below("/a", "/ab"));
    assert_false(vh_nest_below("/a", "/a-b/c"));
    assert_false(vh_nest_below("/", "/a")); /* "/" is no jail */
}

static void test_scan(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_err e;
    /* "/s/a-x" sorts between "/s/a" and "/s/a/b" in byte order */
    put(db, "127.0.0.2", "/s/a");
    put(db, "127.0.0.3", "/s/a-x");
    put(db, "127.0.0.4", "/s/a.y");
    put(db, "127.0.0.5", "/s/c");
    put(db, "127.0.0.6", "/");
    seen[0] = '\0';
    assert_int_equal(vh_nest_scan(db, "/var/lib/v.db", note, NULL, &e), 0);
    assert_string_equal(seen, "");
    put(db, "127.0.0.7", "/s/a/b");
    put(db, "127.0.0.8", "/s/a/b/c");
    put(db, "127.0.0.9", "/s/c"); /* the same jail again: not nested */
    seen[0] = '\0';
    assert_int_equal(vh_nest_scan(db, "/s/c/db/v.db", note, NULL, &e), 3);
    assert_string_equal(seen, "/s/a/b</s/a;/s/a/b/c</s/a/b;/s/c/db/v.db</s/c;");
    /* one root against the others (add): above and below it */
    seen[0] = '\0';
    assert_int_equal(vh_nest_one(db, "/s/a/b", "/var/v.db", note, NULL, &e), 2);
    assert_non_null(strstr(seen, "/s/a/b</s/a;"));
    assert_non_null(strstr(seen, "/s/a/b/c</s/a/b;"));
    seen[0] = '\0';
    assert_int_equal(vh_nest_one(db, "/s/a-x", "/s/a-x/v.db", note, NULL, &e), 1);
    assert_string_equal(seen, "/s/a-x/v.db</s/a-x;");
    assert_int_equal(vh_nest_one(db, "/", "/v.db", note, NULL, &e), 0);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_below),
        cmocka_unit_test(test_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
