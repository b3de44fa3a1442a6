/* audit (issue 13 point 8): the command as run, shell-quoted; one history
 * row per write with the row before and after; the bound, oldest first;
 * the syslog text printable. And store's in-place change (point 7) that
 * set writes through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "audit.h"
#include "db.h"
#include "exitcodes.h"
#include "row.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_command(void **state)
{
    (void)state;
    char *argv[] = {"vhostctl set", "http", "127.0.0.2", "--comment", "a b", "it's", "*", "", "--root=/srv/x", NULL};
    vh_audit a;
    vh_err e;
    assert_int_equal(vh_audit_start(&a, 9, argv, &e), 0);
    assert_string_equal(a.command, "set http 127.0.0.2 --comment 'a b' 'it'\\''s' '*' '' --root=/srv/x");
    vh_audit_free(&a);
}

static void test_history(void **state)
{
    (void)state;
    sqlite3 *db = unit_mem_db();
    vh_err e;
    vh_row r;
    unit_row(&r, "http", "127.0.0.2", "/srv/a");
    char *argv[] = {"vhostctl add", "http", "127.0.0.2", "/srv/a", NULL};
    vh_audit a;
    assert_int_equal(vh_audit_start(&a, 4, argv, &e), 0);
    assert_int_equal(vh_audit_key(&a, db, "http", "127.0.0.2", &e), 0);
    assert_null(a.before);
    unit_put(db, &r);
    assert_int_equal(vh_audit_write(&a, db, &e), 0);
    vh_audit_free(&a);
    assert_int_equal(count(db, "SELECT count(*) FROM history WHERE before IS NULL AND"
                               " json_extract(after, '$.root') = '/srv/a' AND command = 'add http 127.0.0.2 /srv/a'"),
                     1);

    /* set: before and after */
    char *argv2[] = {"vhostctl set", "http", "127.0.0.2", "--root", "/srv/b", NULL};
    assert_int_equal(vh_audit_start(&a, 5, argv2, &e), 0);
    assert_int_equal(vh_audit_key(&a, db, "http", "127.0.0.2", &e), 0);
    vh_row got;
    assert_int_equal(vh_store_get(db, "http", "127.0.0.2", &got, &e), 0);
    snprintf(got.root, sizeof got.root, "/srv/b");
    unit_row_nobody(&got);
    assert_int_equal(vh_store_update(db, &got, &e), 0);
    assert_int_equal(vh_audit_write(&a, db, &e), 0);
    char line[8192];
    vh_audit_line(&a, line, sizeof line);
    assert_non_null(strstr(line, "change uid="));
    assert_non_null(strstr(line, "command=\"set http 127.0.0.2 --root /srv/b\" service=http address=127.0.0.2"));
    vh_audit_free(&a);
    assert_int_equal(count(db, "SELECT count(*) FROM history WHERE json_extract(before, '$.root') = '/srv/a'"
                               " AND json_extract(after, '$.root') = '/srv/b' AND json_extract(after, '$.uid') = 65534"
                               " AND json_extract(before, '$.uid') IS NULL"),
                     1);
    assert_int_equal(vh_store_get(db, "http", "127.0.0.2", &got, &e), 0);
    assert_string_equal(got.root, "/srv/b");
    assert_int_equal(got.has_user, 1);
    assert_int_equal(got.uid, 65534);

    /* a missing row: update and get say so */
    snprintf(got.address, sizeof got.address, "127.0.0.9");
    assert_int_equal(vh_store_update(db, &got, &e), -1);
    assert_int_equal(e.code, VH_EX_NOHOST);
    assert_int_equal(vh_store_get(db, "http", "127.0.0.9", &got, &e), -1);
    assert_int_equal(e.code, VH_EX_NOHOST);

    /* the bound: the newest history_max rows stay */
    assert_int_equal(vh_audit_set_max(db, 3, &e), 0);
    long max = 0;
    assert_int_equal(vh_audit_get_max(db, &max, &e), 0);
    assert_int_equal(max, 3);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(vh_audit_start(&a, 5, argv2, &e), 0);
        assert_int_equal(vh_audit_summary(&a, NULL, "{\"n\":1}", &e), 0);
        assert_int_equal(vh_audit_write(&a, db, &e), 0);
        vh_audit_free(&a);
    }
    assert_int_equal(count(db, "SELECT count(*) FROM history"), 3);
    assert_int_equal(count(db, "SELECT min(id) FROM history"), 5);
    assert_int_equal(vh_audit_set_max(db, -1, &e), -1);

    /* the syslog text is printable, whatever the command held */
    char *argv3[] = {"vhostctl set", "http", "127.0.0.2", "--comment", "x\ny\033[2J", NULL};
    assert_int_equal(vh_audit_start(&a, 5, argv3, &e), 0);
    vh_audit_line(&a, line, sizeof line);
    for (const char *p = line; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    vh_audit_free(&a);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
