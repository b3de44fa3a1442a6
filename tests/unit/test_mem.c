/* mem: SQLite's allocator in virtuald - alignment, sizes, reuse, growth,
 * blocks beyond the arena, and SQLite itself working on top of it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mem.h"

#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

static void test_blocks(void **s)
{
    (void)s;
    for (int n = 1; n < 70000; n = n * 3 + 1) {
        unsigned char *p = sqlite3_malloc(n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 8, 0);
        assert_true(sqlite3_msize(p) >= (sqlite3_uint64)n);
        memset(p, 0xa5, (size_t)n);
        sqlite3_free(p);
    }
    /* a freed block is handed out again for the same class */
    void *a = sqlite3_malloc(100);
    sqlite3_free(a);
    void *b = sqlite3_malloc(90);
    assert_ptr_equal(a, b);
    sqlite3_free(b);
    sqlite3_free(NULL);
}

static void test_realloc_keeps_content(void **s)
{
    (void)s;
    unsigned char *p = sqlite3_malloc(10);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    p = sqlite3_realloc(p, 5000);
    assert_non_null(p);
    for (int i = 0; i < 10; i++)
        assert_int_equal(p[i], i);
    p = sqlite3_realloc(p, 3); /* shrinking keeps the block */
    assert_int_equal(p[2], 2);
    sqlite3_free(p);
}

static void test_beyond_the_arena(void **s)
{
    (void)s;
    /* larger than any class: malloc(3) */
    unsigned char *big = sqlite3_malloc(1 << 20);
    assert_non_null(big);
    assert_true(sqlite3_msize(big) >= (1u << 20));
    big[(1 << 20) - 1] = 7;
    big = sqlite3_realloc(big, (1 << 20) + 100);
    assert_int_equal(big[(1 << 20) - 1], 7);
    sqlite3_free(big);
    /* more than the arena holds, never freed in between */
    enum { N = 3000 };
    static unsigned char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = sqlite3_malloc(1000);
        assert_non_null(v[i]);
        memset(v[i], i & 0xff, 1000);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(v[i][0], i & 0xff);
        assert_int_equal(v[i][999], i & 0xff);
        sqlite3_free(v[i]);
    }
}

static void test_sqlite_on_top(void **s)
{
    (void)s;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;"
                                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)"
                                  " INSERT INTO t SELECT 'k' || i, randomblob(i % 700) FROM c;"
                                  "INSERT INTO t VALUES ('big', zeroblob(3000000));",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(length(v)) FROM t", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 20001);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

int main(void)
{
    /* before anything initialises SQLite */
    if (vh_mem_use_for_sqlite() != SQLITE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_realloc_keeps_content),
        cmocka_unit_test(test_beyond_the_arena),
        cmocka_unit_test(test_sqlite_on_top),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
