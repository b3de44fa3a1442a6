/* export: the legacy flat format out of a real (in-memory) database;
 * what the format cannot say becomes a comment, never a changed row
 * (THREATS H). The round trip through import is in test_import.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "export.h"
#include "row.h"
#include "unit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the format cannot say becomes a comment, never a changed row. */
static void test_export_limits(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_row r;
    unit_row(&r, "ftp", "10.0.0.1", "/srv/a");
    unit_put(db, &r);
    unit_row(&r, "ftp", "10.0.0.2", "/srv/b");
    r.enabled = 0;
    unit_put(db, &r);
    unit_row(&r, "ftp", "10.0.0.3", "/srv/trailing ");
    unit_put(db, &r);
    unit_row(&r, "ftp", "10.0.0.4", "/srv/u");
    r.has_user = 1;
    strcpy(r.user, "svc");
    strcpy(r.group, "svc");
    r.uid = r.gid = 4242;
    r.max_procs = 10; /* sql/002's settings: not in the format either */
    unit_put(db, &r);
    unit_row(&r, "ftp", "10.0.0.5", "/srv/bind");
    r.net_bind_service = 1;
    unit_put(db, &r);
    vh_export_stats st;
    char *x = unit_export(db, "ftp", &st);
    unit_text_has(x, "\n10.0.0.1 /srv/a\n# disabled: 10.0.0.2 /srv/b\n# cannot be expressed in this format: 10.0.0.3 "
                     "/srv/trailing \n10.0.0.4 /srv/u\n10.0.0.5 /srv/bind\n");
    assert_int_equal(st.rows, 3);
    assert_int_equal(st.disabled, 1);
    assert_int_equal(st.bad, 1);
    assert_int_equal(st.with_user, 1);
    assert_int_equal(st.settings, 2);
    free(x);
    /* an unknown service: only the header */
    x = unit_export(db, "nothing", &st);
    assert_int_equal(st.rows, 0);
    free(x);
    vh_err e;
    assert_int_equal(vh_export(db, "bad name", stdout, &st, &e), -1);
    assert_int_equal(e.code, VH_EX_DATAERR);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
