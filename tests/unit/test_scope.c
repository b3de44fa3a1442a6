/* test_scope - src/lib/scope.c: the service's Landlock domain confines
 * file access to beneath the jail's top (THREATS A1: a directory of the
 * host's passed in over a unix socket leads to no file). Each case runs
 * in a forked child (a Landlock domain cannot be left) under a fixture
 * of its own: JAIL (the top given as rootfd) and OUTSIDE beside it, an
 * O_PATH descriptor of the fixture taken before the domain stands for
 * the host's directory a host process would pass. Control: the same
 * calls without the domain, and with the domain but no rootfd (the
 * device-node-only domain of rows with no jail), all succeed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "scope.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a child reports: one bit per call that succeeded. */
enum {
    INSIDE_READ = 1 << 0,   /* open a file beneath the top */
    INSIDE_CREATE = 1 << 1, /* create one there */
    INSIDE_RENAME = 1 << 2, /* rename it there */
    OUT_READ = 1 << 3,      /* open the outside file through the passed directory */
    OUT_WRITE = 1 << 4,     /* open it for writing */
    OUT_CREATE = 1 << 5,    /* create a file outside */
    OUT_UNLINK = 1 << 6,    /* remove one outside */
    OUT_READDIR = 1 << 7,   /* list the outside directory */
    OUT_EXEC = 1 << 8,      /* run a program outside */
};

static int setup(void **s)
{
    (void)s;
    if (unit_fixture("scope") < 0)
        return -1;
    if (mkdir(unit_path("jail"), 0755) < 0 || mkdir(unit_path("outside"), 0755) < 0)
        return -1;
    unit_write_file(unit_path("jail/page"), "in\n", 3, 0644);
    unit_write_file(unit_path("outside/secret"), "out\n", 4, 0600);
    /* a program outside: a shell script needs no interpreter search
     * (execveat of it runs /bin/sh, which is outside too: either way
     * the exec is of something not beneath the top) */
    unit_write_file(unit_path("outside/prog"), "#!/bin/sh\nexit 0\n", 17, 0755);
    return 0;
}

/* mode 0: no domain; 1: the domain with the jail's top; 2: the domain
 * without one. Returns the bits of the calls that succeeded, -1 when
 * the probe itself could not start. */
static int probe(int mode)
{
    int host = open(unit_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int top = open(unit_path("jail"), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host < 0 || top < 0)
        return -1;
    if (mode && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    vh_err e;
    if (mode && vh_scope_restrict(mode == 1 ? top : -1, &e) < 1)
        return -1;
    int got = 0, fd;
    if ((fd = openat(top, "page", O_RDONLY)) >= 0)
        got |= INSIDE_READ, close(fd);
    if ((fd = openat(top, "made", O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0)
        got |= INSIDE_CREATE, close(fd);
    if (renameat(top, "made", top, "moved") == 0)
        got |= INSIDE_RENAME;
    if ((fd = openat(host, "outside/secret", O_RDONLY)) >= 0)
        got |= OUT_READ, close(fd);
    if ((fd = openat(host, "outside/secret", O_WRONLY | O_APPEND)) >= 0)
        got |= OUT_WRITE, close(fd);
    if ((fd = openat(host, "outside/planted", O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0)
        got |= OUT_CREATE, close(fd);
    if (unlinkat(host, "outside/victim", 0) == 0)
        got |= OUT_UNLINK;
    if ((fd = openat(host, "outside", O_RDONLY | O_DIRECTORY)) >= 0)
        got |= OUT_READDIR, close(fd);
    pid_t p = fork();
    if (p == 0) {
        char *argv[] = {"prog", NULL}, *envp[] = {NULL};
        int pfd = openat(host, "outside/prog", O_PATH);
        if (pfd >= 0)
            syscall(SYS_execveat, pfd, "", argv, envp, AT_EMPTY_PATH);
        _exit(99);
    }
    int st = 0;
    if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        got |= OUT_EXEC;
    return got;
}

/* probe(mode) in a forked child (a Landlock domain cannot be left),
 * its result through a pipe */
static int in_child(int mode)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t p = fork();
    if (p == 0) {
        int got = probe(mode);
        _exit(write(pfd[1], &got, sizeof got) == sizeof got ? 0 : 1);
    }
    close(pfd[1]);
    int got = -1, st = 0;
    assert_int_equal(read(pfd[0], &got, sizeof got), (ssize_t)sizeof got);
    close(pfd[0]);
    assert_int_equal(waitpid(p, &st, 0), p);
    assert_int_not_equal(got, -1);
    return got;
}

static void reset(void)
{
    unlink(unit_path("jail/made"));
    unlink(unit_path("jail/moved"));
    unlink(unit_path("outside/planted"));
    unit_write_file(unit_path("outside/victim"), "v\n", 2, 0644);
}

static void test_beneath_the_top(void **s)
{
    (void)s;
    if (vh_scope_abi() < 1)
        skip(); /* no Landlock: the residual exposure is in virtuald(8) */
    reset();
    /* inside: as before; through the passed directory: nothing */
    assert_int_equal(in_child(1), INSIDE_READ | INSIDE_CREATE | INSIDE_RENAME);
    /* nothing changed outside */
    assert_int_equal(access(unit_path("outside/planted"), F_OK), -1);
    assert_int_equal(access(unit_path("outside/victim"), F_OK), 0);
}

static void test_controls(void **s)
{
    (void)s;
    if (vh_scope_abi() < 1)
        skip();
    const int all = INSIDE_READ | INSIDE_CREATE | INSIDE_RENAME | OUT_READ | OUT_WRITE | OUT_CREATE | OUT_UNLINK |
                    OUT_READDIR | OUT_EXEC;
    /* no domain: every call works */
    reset();
    assert_int_equal(in_child(0), all);
    /* the domain without a top (a row with no jail): files as before */
    reset();
    assert_int_equal(in_child(2), all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_beneath_the_top, setup),
        cmocka_unit_test_teardown(test_controls, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
