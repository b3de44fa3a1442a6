/* valid: service names and jail roots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "valid.h"

#include <limits.h>
#include <string.h>

static void test_service_names(void **s)
{
    (void)s;
    vh_err e;
    const char *good[] = {"ftp", "pop-3", "http-alt", "x", "a.b_c+d", "123"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(vh_valid_service(good[i], 0, &e), 0);
    assert_int_equal(vh_valid_service("*", 1, &e), 0);
    assert_int_equal(vh_valid_service("*", 0, &e), -1);
    const char *bad[] = {"", "-ftp", ".x", "a b", "a/b", "a\nb", "ftp%n", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(vh_valid_service(bad[i], 1, &e), -1);
        assert_int_equal(e.code, VH_EX_DATAERR);
    }
    char longname[80];
    memset(longname, 'a', 65);
    longname[65] = 0;
    assert_int_equal(vh_valid_service(longname, 0, &e), -1);
    longname[64] = 0;
    assert_int_equal(vh_valid_service(longname, 0, &e), 0);
}

static void root_bad(const char *p, const char *why)
{
    vh_err e = {0, ""};
    assert_int_equal(vh_valid_root(p, &e), -1);
    if (!strstr(e.msg, why))
        fail_msg("'%s': message '%s' lacks '%s'", p, e.msg, why);
}

static void test_roots(void **s)
{
    (void)s;
    vh_err e;
    assert_int_equal(vh_valid_root("/", &e), 0);
    assert_int_equal(vh_valid_root("/srv/jail/a", &e), 0);
    assert_int_equal(vh_valid_root("/srv/a..b/.c", &e), 0);
    root_bad("", "empty");
    root_bad("srv/a", "relative"); /* H9 */
    root_bad("/srv/a/", "trailing slash");
    root_bad("/srv//a", "'//'");
    root_bad("/srv/./a", "'.' or '..'");
    root_bad("/srv/../etc", "'.' or '..'");
    root_bad("/srv/..", "'.' or '..'");
    root_bad("/srv/a\nb", "control character");
    root_bad("/srv/a\rb", "control character");
    char big[PATH_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = 0;
    root_bad(big, "longer");
}

static void test_max_procs(void **s)
{
    (void)s;
    uint32_t v = 77;
    vh_err e;
    assert_int_equal(vh_valid_max_procs("1", &v, &e), 0);
    assert_int_equal(v, 1);
    assert_int_equal(vh_valid_max_procs("1024", &v, &e), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(vh_valid_max_procs("4194304", &v, &e), 0);
    assert_int_equal(v, VH_MAX_PROCS_MAX);
    static const char *const bad[] = {"",   "0",  "4194305", "4294967297", "99999999999", "-1", "+5",
                                      " 5", "5 ", "0x10",    "1e3",        "12x",         "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 77;
        if (vh_valid_max_procs(bad[i], &v, &e) != -1)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(e.code, VH_EX_DATAERR);
        assert_non_null(strstr(e.msg, "max-procs"));
        assert_int_equal(v, 77);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_names),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_max_procs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
