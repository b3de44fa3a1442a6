/* decide: a decision on a real database file (the row, a disabled row,
 * no row), and ENOMEM inside a decision (THREATS F12), by fault
 * injection - the N-th SQLite allocation of vh_decide fails, for every N
 * until a decision needs fewer: each run either refuses (out of memory,
 * the connection would be closed with nothing sent) or, where SQLite
 * recovers by itself, decides exactly as without the fault. Never
 * another row, never a crash.
 * (The integration test's address-space limits cannot reach a virtuald
 * that runs entirely in the memory its start-up reserves.) Both ways of
 * opening: with the -shm (read-only) and without it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db.h"
#include "dbadmin.h"
#include "decide.h"
#include "row.h"
#include "select.h"
#include "exitcodes.h"
#include "unit.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static sqlite3_mem_methods real;
static long allocs, fail_at; /* fail_at 0: never */

static void *fail_malloc(int n)
{
    if (fail_at && ++allocs == fail_at)
        return NULL;
    return real.xMalloc(n);
}

static void *fail_realloc(void *p, int n)
{
    if (fail_at && ++allocs == fail_at)
        return NULL;
    return real.xRealloc(p, n);
}

static int setup(void **s)
{
    (void)s;
    return unit_fixture("nomem");
}

static const char *make_db(void)
{
    const char *p = unit_path("d/vhosts.db");
    sqlite3 *db = unit_file_db(p);
    vh_err e;
    vh_row r;
    unit_row(&r, "http", "127.0.0.2", "/j/a");
    unit_put(db, &r);
    unit_row(&r, "http", "default", "/j/default");
    unit_put(db, &r);
    assert_int_equal(vh_db_close(db, &e), 0);
    return p;
}

/* Sweep N = 1, 2, ... until a decision makes fewer than N allocations. */
static void sweep(const char *p, int without_shm)
{
    int refused = 0, recovered = 0;
    for (long n = 1;; n++) {
        char shm[600];
        snprintf(shm, sizeof shm, "%s-shm", p);
        if (without_shm)
            unlink(shm);
        vh_decision d;
        vh_err e = {0, ""};
        allocs = 0;
        fail_at = n;
        int rc = vh_decide(p, "http", "127.0.0.2", &d, &e);
        long made = allocs;
        fail_at = 0;
        if (rc == 0) {
            /* served: only ever the right row */
            assert_int_equal(d.rule, VH_RULE_EXACT);
            assert_string_equal(d.row.root, "/j/a");
            if (made < n)
                break; /* no allocation failed: the sweep is complete */
            recovered++;
        } else {
            if (e.code != VH_EX_OSERR || !strstr(e.msg, "out of memory"))
                fail_msg("allocation %ld failed: refused with status %d '%s', not 'out of memory'", n, e.code, e.msg);
            refused++;
        }
        assert_true(n < 100000);
    }
    print_message("%s -shm: %d allocations refused the connection, %d were recovered by SQLite\n",
                  without_shm ? "without" : "with", refused, recovered);
    assert_true(refused > 0); /* the positive control: ENOMEM did reach the decision */
}

/* The decision on a real file: the row, a disabled row refused, no row
 * refused (F8: one row per key, a second add refused). */
static void test_decide(void **s)
{
    (void)s;
    const char *p = unit_path("d/vhosts.db");
    vh_err e;
    assert_int_equal(vh_db_close(unit_file_db(p), &e), 0);
    sqlite3 *db;
    vh_row r;
    unit_row(&r, "http", "127.0.0.2", "/srv/a");
    assert_int_equal(vh_dbadmin_open(p, 0, &db, &e), 0);
    assert_int_equal(vh_store_add(db, &r, &e), 0);
    assert_int_equal(vh_store_add(db, &r, &e), -1); /* F8: one row per key */
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

static void test_every_allocation_fails_closed(void **s)
{
    (void)s;
    const char *p = make_db();
    sweep(p, 0);
    sweep(p, 1);
}

int main(void)
{
    /* before anything initialises SQLite: wrap its allocator */
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real) != SQLITE_OK)
        return 1;
    sqlite3_mem_methods m = real;
    m.xMalloc = fail_malloc;
    m.xRealloc = fail_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decide, setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_every_allocation_fails_closed, setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
