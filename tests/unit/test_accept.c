/* accept: findings an operator accepted (issue 13 point 9) - only
 * warnings of the allow-listed kinds, matched by domain key or jail root
 * and by path; stored, replaced, removed, loaded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "accept.h"
#include "exitcodes.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void test_kinds(void **s)
{
    (void)s;
    vh_err e;
    assert_true(vh_accept_kind_ok("runs-as-root"));
    assert_true(vh_accept_kind_ok("socket"));
    /* a tenant becomes root, virtuald refuses, the check did not look,
     * the database, and a kind nobody reviewed */
    static const char *const never[] = {"setuid",  "exposed",      "nested-jail", "database-in-jail", "path-writable",
                                        "device",  "hard-link",    "mount-point", "uid-changed",      "owner",
                                        "missing", "unreadable",   "db-readable", "index-stale",      "accepted-stale",
                                        "",        "some-new-kind"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        assert_false(vh_accept_kind_ok(never[i]));
        assert_int_equal(vh_accept_check_kind(never[i], &e), -1);
        assert_int_equal(e.code, VH_EX_DATAERR);
    }
    assert_non_null(strstr(e.msg, "runs-as-root"));
}

static vh_accepted *acc(vh_accept_list *l, const char *kind, int jail, const char *subject, const char *path)
{
    vh_accepted *a = &l->a[l->n++];
    memset(a, 0, sizeof *a);
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    a->jail = jail;
    snprintf(a->subject, sizeof a->subject, "%s", subject);
    snprintf(a->path, sizeof a->path, "%s", path);
    return a;
}

static void test_match(void **s)
{
    (void)s;
    vh_accepted store[4];
    vh_accept_list l = {store, 0};
    acc(&l, "runs-as-root", 0, "* 127.0.0.3", "");
    acc(&l, "socket", 1, "/srv/j/b", "/srv/j/b/log");
    vh_row r;
    unit_row(&r, "*", "127.0.0.3", "/srv/j/a");
    vh_finding f = {"*/127.0.0.3", VH_SEV_WARNING, "runs-as-root", "/srv/j/a", "p", "f"};
    assert_ptr_equal(vh_accept_match(&l, &r, &f), &store[0]);
    assert_int_equal(store[0].used, 1);
    f.severity = VH_SEV_ERROR; /* an error is never covered */
    assert_null(vh_accept_match(&l, &r, &f));
    f.severity = VH_SEV_WARNING;
    unit_row(&r, "*", "127.0.0.33", "/srv/j/a"); /* another key */
    assert_null(vh_accept_match(&l, &r, &f));
    unit_row(&r, "x", "127.0.0.3", "/srv/j/a");
    assert_null(vh_accept_match(&l, &r, &f));

    /* jail scope: any domain of the root, only at the path */
    unit_row(&r, "git", "default", "/srv/j/b");
    vh_finding g = {"git/default", VH_SEV_WARNING, "socket", "/srv/j/b/log", "p", "f"};
    assert_ptr_equal(vh_accept_match(&l, &r, &g), &store[1]);
    g.path = "/srv/j/b/log2";
    assert_null(vh_accept_match(&l, &r, &g));
    g.path = "/srv/j/b/log";
    unit_row(&r, "git", "default", "/srv/j/bb");
    assert_null(vh_accept_match(&l, &r, &g));

    /* an acceptance of a kind later taken off the list covers nothing */
    acc(&l, "setuid", 1, "/srv/j/b", "");
    unit_row(&r, "git", "default", "/srv/j/b");
    vh_finding h = {"git/default", VH_SEV_WARNING, "setuid", "/srv/j/b/x", "p", "f"};
    assert_null(vh_accept_match(&l, &r, &h));

    /* live: a row with the key or the root */
    vh_accept_see_row(&l, &r);
    assert_false(store[0].live);
    assert_true(store[1].live);
    /* the same key added again after the acceptance: another domain */
    snprintf(store[0].time, sizeof store[0].time, "2026-12-07T02:00:00Z");
    unit_row(&r, "*", "127.0.0.3", "/elsewhere");
    snprintf(r.created, sizeof r.created, "2026-12-07T02:00:01Z");
    vh_accept_see_row(&l, &r);
    assert_false(store[0].live);
    assert_true(store[0].readded);
    assert_null(vh_accept_match(&l, &r, &f));
    snprintf(r.created, sizeof r.created, "2026-12-07T02:00:00Z");
    vh_accept_see_row(&l, &r);
    assert_true(store[0].live);
    assert_ptr_equal(vh_accept_match(&l, &r, &f), &store[0]);
}

static void test_store(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_err e;
    vh_row r;
    unit_row(&r, "ftp", "127.0.0.4", "/srv/j/f");
    unit_put(db, &r);
    char root[64] = "";
    assert_int_equal(vh_accept_subject_exists(db, 0, "ftp 127.0.0.4", root, sizeof root, &e), 1);
    assert_string_equal(root, "/srv/j/f");
    assert_int_equal(vh_accept_subject_exists(db, 0, "ftp 127.0.0.5", NULL, 0, &e), 0);
    assert_int_equal(vh_accept_subject_exists(db, 0, "ftp", NULL, 0, &e), 0);
    assert_int_equal(vh_accept_subject_exists(db, 1, "/srv/j/f", NULL, 0, &e), 1);
    assert_int_equal(vh_accept_subject_exists(db, 1, "/srv/j", NULL, 0, &e), 0);
    assert_true(vh_accept_path_in("/srv/j/f", "/srv/j/f"));
    assert_true(vh_accept_path_in("/srv/j/f", "/srv/j/f/dev/log"));
    assert_false(vh_accept_path_in("/srv/j/f", "/srv/j/fx/log"));
    assert_false(vh_accept_path_in("/srv/j/f", "/srv/j"));
    assert_true(vh_accept_path_in("/", "/etc/x"));

    vh_accepted a = {0};
    snprintf(a.kind, sizeof a.kind, "runs-as-root");
    vh_accept_domain_subject("ftp", "127.0.0.4", a.subject, sizeof a.subject);
    snprintf(a.reason, sizeof a.reason, "first");
    snprintf(a.login, sizeof a.login, "alice");
    int replaced = -1;
    assert_int_equal(vh_accept_put(db, &a, &replaced, &e), 0);
    assert_int_equal(replaced, 0);
    snprintf(a.reason, sizeof a.reason, "second");
    assert_int_equal(vh_accept_put(db, &a, &replaced, &e), 0);
    assert_int_equal(replaced, 1);
    snprintf(a.path, sizeof a.path, "/srv/j/f");
    assert_int_equal(vh_accept_put(db, &a, &replaced, &e), 0);
    assert_int_equal(replaced, 0);
    snprintf(a.kind, sizeof a.kind, "owner");
    assert_int_equal(vh_accept_put(db, &a, &replaced, &e), -1);
    assert_int_equal(e.code, VH_EX_DATAERR);

    vh_accept_list l;
    assert_int_equal(vh_accept_load(db, &l, &e), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.a[0].path, "");
    assert_string_equal(l.a[0].reason, "second");
    assert_string_equal(l.a[0].login, "alice");
    assert_false(l.a[0].jail);
    assert_int_equal(strlen(l.a[0].time), 20); /* 2026-12-07T02:00:00Z */
    vh_accept_free(&l);

    assert_int_equal(vh_accept_remove(db, "runs-as-root", 0, "ftp 127.0.0.4", "", &e), 0);
    assert_int_equal(vh_accept_remove(db, "runs-as-root", 0, "ftp 127.0.0.4", "", &e), -1);
    assert_int_equal(e.code, VH_EX_NOHOST);
    assert_int_equal(vh_accept_remove(db, "runs-as-root", 1, "ftp 127.0.0.4", "/srv/j/f", &e), -1);
    assert_int_equal(vh_accept_load(db, &l, &e), 0);
    assert_int_equal(l.n, 1);
    vh_accept_free(&l);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
