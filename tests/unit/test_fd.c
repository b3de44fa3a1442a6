/* fd: fds 0-2 filled (D2), everything else close-on-exec (D1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_fill_std(void **s)
{
    (void)s;
    int save = dup(1);
    close(1);
    vh_err e;
    assert_int_equal(vh_fd_fill_std(&e), 0);
    struct stat st, null;
    assert_int_equal(fstat(1, &st), 0);
    stat("/dev/null", &null);
    assert_int_equal(st.st_rdev, null.st_rdev);
    /* the next descriptor cannot land on 0-2 */
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd > 2);
    close(fd);
    dup2(save, 1);
    close(save);
}

static void test_cloexec(void **s)
{
    (void)s;
    int a = open("/", O_RDONLY | O_DIRECTORY);
    int b = dup2(a, 200);
    vh_err e;
    assert_int_equal(vh_fd_cloexec_from(3, &e), 0);
    assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(b, F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(0, F_GETFD) & FD_CLOEXEC);
    close(a);
    close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fill_std), cmocka_unit_test(test_cloexec)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
