/* nomem: ENOMEM inside a decision (THREATS F12), by fault injection - the
 * N-th SQLite allocation of vh_decide fails, for every N until a decision
 * needs fewer: each run either refuses (out of memory, the connection
 * would be closed with nothing sent) or, where SQLite recovers by itself,
 * decides exactly as without the fault. Never another row, never a crash.
 * (The integration test's address-space limits cannot reach a virtuald
 * that runs entirely in the memory its start-up reserves.) Both ways of
 * opening: with the -shm (read-only) and without it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db.h"
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
        cmocka_unit_test_setup_teardown(test_every_allocation_fails_closed, setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
