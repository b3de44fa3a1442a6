/* memdb.h - an in-memory database with this schema, for unit tests of
 * what reads or writes rows. Header-only, static: each test program
 * includes it once (after cmocka.h). */
#ifndef VH_TEST_MEMDB_H
#define VH_TEST_MEMDB_H

#include "db.h"
#include "migrate.h"

#include <sqlite3.h>

static sqlite3 *mem_db(void)
{
    sqlite3 *db = NULL;
    vh_err e;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    if (vh_migrate(db, NULL, NULL, &e) < 0)
        fail_msg("migrate: %s", e.msg);
    return db;
}

#endif
