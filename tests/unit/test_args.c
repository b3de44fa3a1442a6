/* args: virtuald's options end at SERVICE; the service argv is untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "args.h"

#define SPLIT(...)                                                                                                     \
    ({                                                                                                                 \
        char *v[] = {__VA_ARGS__, NULL};                                                                               \
        vh_args_split((int)(sizeof v / sizeof *v) - 1, v);                                                             \
    })

static void test_split(void **s)
{
    (void)s;
    assert_int_equal(SPLIT("virtuald", "ftp", "/usr/sbin/in.ftpd", "-l", "-a"), 1);
    assert_int_equal(SPLIT("virtuald", "--db", "/x.db", "ftp", "ftpd", "-l", "-a"), 3);
    assert_int_equal(SPLIT("virtuald", "--db=/x.db", "--verbose", "ftp", "ftpd", "--db", "y"), 3);
    /* the value of --db may start with '-' */
    assert_int_equal(SPLIT("virtuald", "--db", "-weird", "ftp", "ftpd"), 3);
    /* K10's options take a value too: it is never SERVICE */
    assert_int_equal(SPLIT("virtuald", "--pids-cgroup", "none", "ftp", "ftpd"), 3);
    assert_int_equal(SPLIT("virtuald", "--pids-cgroup=/d", "ftp", "ftpd", "--pids-cgroup", "1"), 2);
    /* issue 15's options take values too */
    assert_int_equal(SPLIT("virtuald", "--proxy", "required", "--first-bytes-timeout", "0.5", "http", "httpd"), 5);
    assert_int_equal(SPLIT("virtuald", "--proxy=required", "--first-bytes-timeout=2", "http", "httpd", "--proxy"), 3);
    assert_int_equal(SPLIT("virtuald", "--", "ftp", "ftpd", "--verbose"), 2);
    assert_int_equal(SPLIT("virtuald", "--verbose"), 2);
    assert_int_equal(SPLIT("virtuald"), 1);
    /* a lone '-' is a word, not an option */
    assert_int_equal(SPLIT("virtuald", "-", "x"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_split)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
