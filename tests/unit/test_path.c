/* path: the one path checker (THREATS A8, A11, E1-E5): every finding,
 * on fixtures under a root-owned 0755 directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "unit.h"
#include "jail.h"
#include "path.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int setup(void **s)
{
    (void)s;
    if (unit_fixture("path") < 0)
        return -1;
    mkdir(unit_path("ok"), 0755);
    mkdir(unit_path("ok/jail"), 0755);
    mkdir(unit_path("gw"), 0775);
    mkdir(unit_path("gw/jail"), 0755);
    mkdir(unit_path("ow"), 01777);
    mkdir(unit_path("ow/jail"), 0755);
    mkdir(unit_path("user"), 0755);
    if (chown(unit_path("user"), 65534, 65534) < 0)
        return -1;
    mkdir(unit_path("user/jail"), 0755);
    if (symlink(unit_path("ok"), unit_path("link")) < 0 || symlink("ok", unit_path("rel")) < 0)
        return -1;
    int fd = open(unit_path("ok/file"), O_CREAT | O_WRONLY, 0644);
    close(fd);
    chmod(unit_path("gw"), 0775); /* mkdir's mode passes through umask */
    chmod(unit_path("ow"), 01777);
    return 0;
}

struct seen {
    int bits, count;
    char last[1200];
};

static void cb(void *ctx, int problem, const char *path, const struct stat *st, const char *msg)
{
    (void)path;
    (void)st;
    struct seen *s = ctx;
    s->bits |= problem;
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", msg);
}

static int walk(const char *p, enum vh_path_want want, struct seen *s)
{
    memset(s, 0, sizeof *s);
    return vh_path_walk(p, want, cb, s, NULL, NULL);
}

static void test_trusted(void **st)
{
    (void)st;
    struct seen s;
    assert_int_equal(walk(unit_path("ok/jail"), VH_WANT_DIR, &s), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(walk("/", VH_WANT_DIR, &s), 0);
    int fd = -1;
    struct stat sb, real;
    assert_int_equal(vh_path_walk(unit_path("ok/jail"), VH_WANT_DIR, NULL, NULL, &fd, &sb), 0);
    assert_true(fd >= 0);
    stat(unit_path("ok/jail"), &real);
    assert_int_equal(sb.st_ino, real.st_ino);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}

static void test_findings(void **st)
{
    (void)st;
    struct seen s;
    assert_int_equal(walk(unit_path("gw/jail"), VH_WANT_DIR, &s), VH_PATH_GROUPW);
    assert_non_null(strstr(s.last, "chmod g-w"));
    assert_int_equal(walk(unit_path("ow/jail"), VH_WANT_DIR, &s), VH_PATH_GROUPW | VH_PATH_OTHERW); /* sticky too */
    /* a shared scratch directory like /tmp: the remedy is to move, never
     * to chmod it (issue 13 point 6) */
    assert_non_null(strstr(s.last, "shared scratch directory"));
    assert_null(strstr(s.last, "chmod"));
    assert_int_equal(walk(unit_path("user/jail"), VH_WANT_DIR, &s), VH_PATH_OWNER);
    assert_non_null(strstr(s.last, "owned by uid 65534"));
    assert_int_equal(walk(unit_path("link/jail"), VH_WANT_DIR, &s), VH_PATH_SYMLINK); /* parent */
    assert_int_equal(walk(unit_path("link"), VH_WANT_DIR, &s), VH_PATH_SYMLINK);      /* last */
    assert_int_equal(walk(unit_path("rel"), VH_WANT_DIR, &s), VH_PATH_SYMLINK);       /* relative */
    assert_int_equal(walk(unit_path("ok/jail/"), VH_WANT_DIR, &s), VH_PATH_INVALID);  /* trailing slash */
    assert_int_equal(walk(unit_path("ok/../ok/jail"), VH_WANT_DIR, &s), VH_PATH_INVALID);
    assert_int_equal(walk(unit_path("ok/missing"), VH_WANT_DIR, &s), VH_PATH_MISSING);
    assert_int_equal(walk(unit_path("ok/file"), VH_WANT_DIR, &s), VH_PATH_NOTDIR);
    assert_int_equal(walk(unit_path("ok/file/x"), VH_WANT_DIR, &s), VH_PATH_NOTDIR);
    assert_int_equal(walk(unit_path("ok/jail"), VH_WANT_FILE, &s), VH_PATH_NOTREG);
    assert_int_equal(walk(unit_path("ok/file"), VH_WANT_FILE, &s), 0);
    assert_int_equal(walk("relative/x", VH_WANT_DIR, &s), VH_PATH_INVALID);
}

static void test_trust_first_message(void **st)
{
    (void)st;
    vh_err e;
    int fd = 42;
    assert_int_equal(vh_path_trust(unit_path("gw/jail"), VH_WANT_DIR, VH_EX_OSFILE, &fd, NULL, &e), -1);
    assert_int_equal(fd, -1);
    assert_int_equal(e.code, VH_EX_OSFILE);
    assert_non_null(strstr(e.msg, "writable by group"));
}

/* vh_jail_open takes the row (issue 13: root and the unjailed mark). */
static vh_row jail_row(const char *root)
{
    static vh_row r;
    vh_row_init(&r);
    snprintf(r.service, sizeof r.service, "http");
    snprintf(r.address, sizeof r.address, "127.0.0.2");
    snprintf(r.root, sizeof r.root, "%s", root);
    return r;
}

static void test_jail_open(void **st)
{
    (void)st;
    vh_jail j;
    vh_err e;
    vh_row ok = jail_row(unit_path("ok/jail")), link = jail_row(unit_path("link/jail"));
    /* K7 at run time: the fixture (0755) leaves the jail reachable by
     * host users on a file system that honours set-uid: refused... */
    struct statvfs sv;
    if (statvfs(unit_dir, &sv) == 0 && !(sv.f_flag & ST_NOSUID)) {
        assert_int_equal(vh_jail_open(&ok, &j, &e), -1);
        assert_int_equal(e.code, VH_EX_OSFILE);
        assert_non_null(strstr(e.msg, "every host user"));
    }
    /* ... and opened once an ancestor hides it */
    chmod(unit_dir, 0700);
    assert_int_equal(vh_jail_open(&ok, &j, &e), 0);
    chmod(unit_dir, 0755);
    assert_true(j.fd >= 0);
    vh_jail_close(&j);
    assert_int_equal(j.fd, -1);
    assert_int_equal(vh_jail_open(&link, &j, &e), -1);
    assert_int_equal(e.code, VH_EX_OSFILE);
    /* issue 13: an unjailed row skips K7 (the fixture is exposed) ... */
    ok.unjailed = 1;
    assert_int_equal(vh_jail_open(&ok, &j, &e), 0);
    vh_jail_close(&j);
    /* ... but nothing else: a symlink on the way is still refused */
    link.unjailed = 1;
    assert_int_equal(vh_jail_open(&link, &j, &e), -1);
    /* a root of "/" only with the mark */
    vh_row slash = jail_row("/");
    assert_int_equal(vh_jail_open(&slash, &j, &e), -1);
    assert_int_equal(e.code, VH_EX_OSFILE);
    assert_non_null(strstr(e.msg, "--unjailed on"));
    slash.unjailed = 1;
    assert_int_equal(vh_jail_open(&slash, &j, &e), 0);
    vh_jail_close(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trusted),
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_trust_first_message),
        cmocka_unit_test(test_jail_open),
    };
    return cmocka_run_group_tests(tests, setup, unit_teardown);
}
