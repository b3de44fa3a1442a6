/* cgroup: a root service's processes bounded per domain (THREATS K10),
 * on a pids hierarchy this test mounts itself in a private mount
 * namespace (v1, or v2 where the kernel has pids there), below a
 * root-owned 0755 fixture. Without any pids controller it skips, saying
 * why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cgroup.h"
#include "exitcodes.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char hier[300]; /* the mounted hierarchy */
static char dir[400];  /* DIR: this test's parent group */
static const char *skip_why;

static int mount_pids(void)
{
    if (mount("vhpids", hier, "cgroup", 0, "pids") == 0)
        return 0;
    /* pids bound to the v2 hierarchy (or v1 pids unavailable) */
    if (mount("vhcg2", hier, "cgroup2", 0, NULL) < 0)
        return -1;
    char p[400], buf[512] = "";
    snprintf(p, sizeof p, "%s/cgroup.controllers", hier);
    FILE *f = fopen(p, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        fclose(f);
    }
    if (!strstr(buf, "pids")) {
        umount(hier);
        return -1;
    }
    snprintf(p, sizeof p, "%s/cgroup.subtree_control", hier);
    f = fopen(p, "w");
    if (f) {
        fputs("+pids", f);
        fclose(f);
    }
    return 0;
}

static int setup(void **s)
{
    (void)s;
    if (unit_fixture("cgroup") < 0)
        return -1;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    snprintf(hier, sizeof hier, "%s", unit_path("cg"));
    mkdir(hier, 0755);
    if (mount_pids() < 0)
        skip_why = "this kernel offers no pids cgroup controller (CONFIG_CGROUP_PIDS), v1 or v2";
    snprintf(dir, sizeof dir, "%s/unit-cgroup.%d", hier, (int)getpid());
    mkdir(unit_path("plain"), 0755);
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    if (!skip_why) {
        rmdir(dir);
        umount(hier);
    }
    unit_fixture_remove();
    return 0;
}

#define NEED_PIDS()                                                                                                    \
    do {                                                                                                               \
        if (skip_why) {                                                                                                \
            print_message("skipped: %s\n", skip_why);                                                                  \
            skip();                                                                                                    \
        }                                                                                                              \
    } while (0)

static int read_text(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, n - 1);
    close(fd);
    if (r < 0)
        return -1;
    buf[r] = '\0';
    return 0;
}

static const char *group_file(const vh_cgroup_cfg *cfg, const char *svc, const char *addr, const char *file)
{
    static char p[1024];
    char name[256];
    vh_err e;
    assert_int_equal(vh_cgroup_name(svc, addr, name, sizeof name, &e), 0);
    snprintf(p, sizeof p, "%s/%s%s%s", cfg->dir, name, file ? "/" : "", file ? file : "");
    return p;
}

static void test_name(void **st)
{
    (void)st;
    char name[256];
    vh_err e;
    assert_int_equal(vh_cgroup_name("ftp", "127.0.0.2", name, sizeof name, &e), 0);
    assert_string_equal(name, "vh-667470-3132372e302e302e32");
    /* "/" and ".." in a key become hex: never a path, never a parent */
    assert_int_equal(vh_cgroup_name("../x", "a/b", name, sizeof name, &e), 0);
    assert_string_equal(name, "vh-2e2e2f78-612f62");
    /* different keys, different names: the separator is no hex digit */
    char other[256];
    assert_int_equal(vh_cgroup_name("ab", "c", name, sizeof name, &e), 0);
    assert_int_equal(vh_cgroup_name("a", "bc", other, sizeof other, &e), 0);
    assert_string_not_equal(name, other);
    char longsvc[200];
    memset(longsvc, 'x', sizeof longsvc - 1);
    longsvc[sizeof longsvc - 1] = '\0';
    assert_int_equal(vh_cgroup_name(longsvc, "::1", name, sizeof name, &e), -1);
    assert_int_equal(e.code, VH_EX_SOFTWARE);
}

/* A child enters, forks until refused; returns how many forks held. */
static int bomb_in(vh_cgroup *cg, int *in_group)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        vh_err e;
        close(pfd[0]);
        int r[2] = {-1, 0};
        if (vh_cgroup_enter(cg, &e) == 0) {
            char self[4096];
            r[1] = read_text("/proc/self/cgroup", self, sizeof self) == 0 && strstr(self, cg->name) != NULL;
            r[0] = 0;
            pid_t kids[64];
            while (r[0] < 64) {
                pid_t k = fork();
                if (k == 0) {
                    pause();
                    _exit(0);
                }
                if (k < 0)
                    break;
                kids[r[0]++] = k;
            }
            for (int i = 0; i < r[0]; i++) {
                kill(kids[i], SIGKILL);
                waitpid(kids[i], NULL, 0);
            }
        }
        if (write(pfd[1], r, sizeof r) != sizeof r)
            _exit(2);
        _exit(0);
    }
    close(pfd[1]);
    int r[2] = {-2, 0};
    assert_int_equal(read(pfd[0], r, sizeof r), (ssize_t)sizeof r);
    close(pfd[0]);
    waitpid(c, NULL, 0);
    *in_group = r[1];
    return r[0];
}

static void test_limit_enforced_and_removed(void **st)
{
    (void)st;
    NEED_PIDS();
    vh_cgroup_cfg cfg = {dir};
    vh_cgroup cg;
    vh_err e;
    assert_int_equal(vh_cgroup_open(&cfg, "probe", "127.0.0.2", 5, &cg, &e), 0);
    /* open made the group with its limit: nothing is opened later */
    char buf[64];
    assert_int_equal(read_text(group_file(&cfg, "probe", "127.0.0.2", "pids.max"), buf, sizeof buf), 0);
    assert_string_equal(buf, "5\n");
    struct stat sb;
    int in = 0;
    /* the entered process is 1 of 5: 4 more forks, then EAGAIN */
    assert_int_equal(bomb_in(&cg, &in), 4);
    assert_true(in);
    assert_int_equal(stat(group_file(&cfg, "probe", "127.0.0.2", NULL), &sb), 0);
    assert_int_equal(sb.st_uid, 0);
    assert_int_equal(sb.st_mode & 07777, 0755);
    /* the caller itself never entered */
    assert_true(read_text("/proc/self/cgroup", buf, sizeof buf) == 0);
    vh_cgroup_leave(&cg);
    assert_int_equal(cg.dir_fd, -1);
    assert_int_equal(stat(group_file(&cfg, "probe", "127.0.0.2", NULL), &sb), -1);
    assert_int_equal(errno, ENOENT);
}

/* Positive control: the same bomb outside any group forks its 64. */
static void test_control_unbounded(void **st)
{
    (void)st;
    NEED_PIDS();
    vh_cgroup_cfg cfg = {dir};
    vh_cgroup cg;
    vh_err e;
    assert_int_equal(vh_cgroup_open(&cfg, "probe", "127.0.0.9", 4194304, &cg, &e), 0);
    int in = 0;
    assert_int_equal(bomb_in(&cg, &in), 64);
    vh_cgroup_leave(&cg);
}

/* Another connection's leave removed the group between our open and our
 * enter: enter makes it again, with its limit, and the child is inside. */
static void test_enter_after_removal(void **st)
{
    (void)st;
    NEED_PIDS();
    vh_cgroup_cfg cfg = {dir};
    vh_cgroup cg;
    vh_err e;
    assert_int_equal(vh_cgroup_open(&cfg, "probe", "127.0.0.3", 3, &cg, &e), 0);
    assert_int_equal(rmdir(group_file(&cfg, "probe", "127.0.0.3", NULL)), 0);
    int in = 0;
    assert_int_equal(bomb_in(&cg, &in), 2);
    assert_true(in);
    vh_cgroup_leave(&cg);
    struct stat sb;
    assert_int_equal(stat(group_file(&cfg, "probe", "127.0.0.3", NULL), &sb), -1);
}

/* leave while another connection's process is inside: the group stays
 * (EBUSY), that connection's leave removes it. */
static void test_leave_busy(void **st)
{
    (void)st;
    NEED_PIDS();
    vh_cgroup_cfg cfg = {dir};
    vh_cgroup a, b;
    vh_err e;
    assert_int_equal(vh_cgroup_open(&cfg, "http", "::1", 10, &a, &e), 0);
    assert_int_equal(vh_cgroup_open(&cfg, "http", "::1", 10, &b, &e), 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t c = fork();
    if (c == 0) {
        char x;
        close(go[1]);
        if (vh_cgroup_enter(&b, &e) < 0)
            _exit(1);
        (void)!read(go[0], &x, 1);
        _exit(0);
    }
    close(go[0]);
    vh_cgroup_close(&b);
    char procs[64] = "";
    for (int i = 0; i < 200 && !procs[0]; i++) {
        read_text(group_file(&cfg, "http", "::1", "cgroup.procs"), procs, sizeof procs);
        if (!procs[0])
            usleep(5000);
    }
    assert_int_equal(atoi(procs), c);
    vh_cgroup_leave(&a); /* "our" tree ended; the other still runs */
    struct stat sb;
    assert_int_equal(stat(group_file(&cfg, "http", "::1", NULL), &sb), 0);
    close(go[1]);
    waitpid(c, NULL, 0);
    assert_int_equal(vh_cgroup_open(&cfg, "http", "::1", 10, &b, &e), 0);
    vh_cgroup_leave(&b);
    assert_int_equal(stat(group_file(&cfg, "http", "::1", NULL), &sb), -1);
}

/* Two connections of one domain entering and leaving at once, many
 * times: every entered process is inside the group, nothing fails, and
 * no group is left behind. */
static void test_race_enter_leave(void **st)
{
    (void)st;
    NEED_PIDS();
    vh_cgroup_cfg cfg = {dir};
    enum { WORKERS = 3, ROUNDS = 150 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = fork();
        if (w[i] == 0) {
            int bad = 0;
            for (int r = 0; r < ROUNDS; r++) {
                vh_cgroup cg;
                vh_err e;
                if (vh_cgroup_open(&cfg, "ftp", "127.0.0.4", 50, &cg, &e) < 0) {
                    fprintf(stderr, "open: %s\n", e.msg);
                    bad++;
                    continue;
                }
                pid_t c = fork();
                if (c == 0) {
                    char self[4096], name[256];
                    snprintf(name, sizeof name, "%s", cg.name);
                    if (vh_cgroup_enter(&cg, &e) < 0) {
                        fprintf(stderr, "enter: %s\n", e.msg);
                        _exit(1);
                    }
                    _exit(read_text("/proc/self/cgroup", self, sizeof self) == 0 && strstr(self, name) ? 0 : 3);
                }
                int status = 0;
                waitpid(c, &status, 0);
                bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                vh_cgroup_leave(&cg);
            }
            _exit(bad > 255 ? 255 : bad);
        }
    }
    for (int i = 0; i < WORKERS; i++) {
        int status = 0;
        waitpid(w[i], &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / (WORKERS * ROUNDS);
    print_message("# %d x open+fork+enter+leave, %d in parallel: %.0f us per connection (wall, incl. fork)\n",
                  WORKERS * ROUNDS, WORKERS, us);
    struct stat sb;
    assert_int_equal(stat(group_file(&cfg, "ftp", "127.0.0.4", NULL), &sb), -1);
}

static double us_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e6 + (double)(b.tv_nsec - a->tv_nsec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The cost of each call, as virtuald pays it per root-service
 * connection: medians (the move has RCU-grace-period tails). */
static void test_cost(void **st)
{
    (void)st;
    NEED_PIDS();
    vh_cgroup_cfg cfg = {dir};
    enum { N = 200 };
    static double t_open[N], t_enter[N], t_leave[N];
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    for (int i = 0; i < N; i++) {
        vh_cgroup cg;
        vh_err e;
        struct timespec a;
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(vh_cgroup_open(&cfg, "http", "127.0.0.5", 1024, &cg, &e), 0);
        t_open[i] = us_since(&a);
        pid_t c = fork();
        if (c == 0) {
            clock_gettime(CLOCK_MONOTONIC, &a);
            double d = vh_cgroup_enter(&cg, &e) == 0 ? us_since(&a) : -1;
            _exit(write(pfd[1], &d, sizeof d) == sizeof d ? 0 : 1);
        }
        assert_int_equal(read(pfd[0], &t_enter[i], sizeof t_enter[i]), (ssize_t)sizeof t_enter[i]);
        assert_true(t_enter[i] >= 0);
        waitpid(c, NULL, 0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        vh_cgroup_leave(&cg);
        t_leave[i] = us_since(&a);
    }
    close(pfd[0]);
    close(pfd[1]);
    qsort(t_open, N, sizeof *t_open, cmp_double);
    qsort(t_enter, N, sizeof *t_enter, cmp_double);
    qsort(t_leave, N, sizeof *t_leave, cmp_double);
    print_message(
        "# medians (p90): vh_cgroup_open (trust DIR, controller, mkdir, pids.max, open procs) %.1f us (%.1f); "
        "vh_cgroup_enter (the move) %.1f us (%.1f); vh_cgroup_leave (rmdir) %.1f us (%.1f)\n",
        t_open[N / 2], t_open[9 * N / 10], t_enter[N / 2], t_enter[9 * N / 10], t_leave[N / 2], t_leave[9 * N / 10]);
}

static void test_fail_closed(void **st)
{
    (void)st;
    vh_cgroup cg;
    vh_err e;
    /* no cgroup at all: a fresh machine's empty directory */
    vh_cgroup_cfg plain = {unit_path("plain/virtuald")};
    assert_int_equal(vh_cgroup_open(&plain, "ftp", "127.0.0.2", 10, &cg, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_non_null(strstr(e.msg, "no pids cgroup"));
    assert_int_equal(cg.dir_fd, -1);
    struct stat sb;
    assert_int_equal(stat(unit_path("plain/virtuald"), &sb), -1); /* not created outside a cgroup */
    vh_cgroup_cfg plain2 = {unit_path("plain")};
    assert_int_equal(vh_cgroup_open(&plain2, "ftp", "127.0.0.2", 10, &cg, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    /* the root of a v1 hierarchy: no pids.max to tell pids from others */
    if (!skip_why) {
        vh_cgroup_cfg root = {hier};
        int rc = vh_cgroup_open(&root, "ftp", "127.0.0.2", 10, &cg, &e);
        if (rc == 0)
            vh_cgroup_close(&cg);
        else
            assert_non_null(strstr(e.msg, "no pids cgroup"));
    }
    /* a missing parent */
    vh_cgroup_cfg missing = {unit_path("nothere/virtuald")};
    assert_int_equal(vh_cgroup_open(&missing, "ftp", "127.0.0.2", 10, &cg, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    /* no limit is no limit */
    vh_cgroup_cfg cfg = {dir};
    assert_int_equal(vh_cgroup_open(&cfg, "ftp", "127.0.0.2", 0, &cg, &e), -1);
    assert_int_equal(e.code, VH_EX_SOFTWARE);
    NEED_PIDS();
    /* DIR a user could write */
    assert_int_equal(vh_cgroup_open(&cfg, "ftp", "127.0.0.2", 10, &cg, &e), 0);
    vh_cgroup_leave(&cg);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(vh_cgroup_open(&cfg, "ftp", "127.0.0.2", 10, &cg, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_non_null(strstr(e.msg, "writable by"));
    assert_int_equal(chmod(dir, 0755), 0);
    /* a domain group a user owns (pre-created, delegated) */
    const char *g = group_file(&cfg, "ftp", "127.0.0.2", NULL);
    assert_int_equal(mkdir(g, 0755), 0);
    assert_int_equal(chown(g, 65534, 65534), 0);
    assert_int_equal(vh_cgroup_open(&cfg, "ftp", "127.0.0.2", 10, &cg, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_non_null(strstr(e.msg, "owned by uid 65534"));
    assert_int_equal(cg.dir_fd, -1);
    assert_int_equal(rmdir(g), 0);
}

/* A cgroup v1 hierarchy without the pids controller (a named one). */
static void test_no_pids_controller(void **st)
{
    (void)st;
    char named[400];
    snprintf(named, sizeof named, "%s", unit_path("named"));
    mkdir(named, 0755);
    char opts[64];
    snprintf(opts, sizeof opts, "none,name=vhunit%d", (int)getpid());
    if (mount("vhnamed", named, "cgroup", 0, opts) < 0) {
        print_message("skipped: cannot mount a named cgroup v1 hierarchy: %s\n", strerror(errno));
        skip();
    }
    char d[500];
    snprintf(d, sizeof d, "%s/virtuald", named);
    vh_cgroup_cfg cfg = {d};
    vh_cgroup cg;
    vh_err e;
    int rc = vh_cgroup_open(&cfg, "ftp", "127.0.0.2", 10, &cg, &e);
    char name[256];
    vh_cgroup_name("ftp", "127.0.0.2", name, sizeof name, NULL);
    char g[800];
    snprintf(g, sizeof g, "%s/%s", d, name);
    rmdir(g);
    rmdir(d);
    umount(named);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_non_null(strstr(e.msg, "without the pids controller"));
}

/* cgroup v2: DIR's children get pids.max only when DIR's
 * cgroup.subtree_control holds pids; open enables it. Where the kernel
 * has pids on v2 the group gets its limit; where pids is bound to v1 (as
 * on the test machine) enabling fails and the root service is refused,
 * naming Delegate=pids. Either way the v2 path runs. */
static void test_v2(void **st)
{
    (void)st;
    char h2[400], d2[500];
    snprintf(h2, sizeof h2, "%s", unit_path("cg2"));
    mkdir(h2, 0755);
    if (mount("vhcg2", h2, "cgroup2", 0, NULL) < 0) {
        print_message("skipped: cannot mount cgroup2: %s\n", strerror(errno));
        skip();
    }
    char ctl[600], buf[512] = "";
    snprintf(ctl, sizeof ctl, "%s/cgroup.controllers", h2);
    read_text(ctl, buf, sizeof buf);
    int has_pids = strstr(buf, "pids") != NULL;
    snprintf(d2, sizeof d2, "%s/unit-cgroup2.%d", h2, (int)getpid());
    vh_cgroup_cfg cfg = {d2};
    vh_cgroup cg;
    vh_err e;
    int rc = vh_cgroup_open(&cfg, "ftp", "127.0.0.2", 7, &cg, &e);
    char max[32] = "";
    read_text(group_file(&cfg, "ftp", "127.0.0.2", "pids.max"), max, sizeof max);
    if (rc == 0)
        vh_cgroup_leave(&cg);
    rmdir(group_file(&cfg, "ftp", "127.0.0.2", NULL));
    rmdir(d2);
    umount(h2);
    if (has_pids) {
        assert_int_equal(rc, 0);
        assert_string_equal(max, "7\n");
    } else {
        print_message("# pids is not on cgroup v2 here: the refusal path runs\n");
        assert_int_equal(rc, -1);
        assert_int_equal(e.code, VH_EX_CONFIG);
        assert_non_null(strstr(e.msg, "cannot enable the pids controller"));
        assert_non_null(strstr(e.msg, "Delegate=pids"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_limit_enforced_and_removed),
        cmocka_unit_test(test_control_unbounded),
        cmocka_unit_test(test_enter_after_removal),
        cmocka_unit_test(test_leave_busy),
        cmocka_unit_test(test_race_enter_leave),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_fail_closed),
        cmocka_unit_test(test_no_pids_controller),
        cmocka_unit_test(test_v2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
