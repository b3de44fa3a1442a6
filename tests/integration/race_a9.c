/* race_a9 - THREATS A9: a racer swaps a directory on the jail path with a
 * symlink (to a directory outside that holds a marker) while jails are
 * entered, thousands of times.
 *
 *   race_a9 setup BASE              make the fixture under BASE (root, 0755)
 *   race_a9 racer BASE              swap until killed (for the real-binary trials)
 *   race_a9 trials MODE N BASE      run N trials with a racer of its own and
 *                                   print "mode=M trials=N refused=R real=J escaped=X"
 *
 * The fixture: BASE/jails/sw and BASE/jails/alt are exchanged atomically
 * (renameat2 RENAME_EXCHANGE), so the parent "sw" on the jail path
 * BASE/jails/sw/j is at every instant either the real directory or a
 * symlink to BASE/outside; likewise BASE/leaf/j and BASE/leaf/alt swap the
 * last component itself. Real jails hold REAL, the outside ones OUTSIDE
 * (and, for the real-binary trials, a busybox and a page: the script
 * copies those in).
 *
 * MODE, each trial in a forked child:
 *   pivot    virtuald's way for every row (vh_jail_open + vh_jail_pivot in a
 *            new mount ns): must never escape
 *   naive    positive control: the same path checker, then chroot(path):
 *            a check-then-use design that the racer defeats
 * A trial "escaped" when the child's new root is not the real jail.
 * Child exit: 10 refused, 0 real jail, 20 outside, 30 neither. */
#include "vherr.h"
#include "jail.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static void die(const char *what)
{
    fprintf(stderr, "race_a9: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void mkdirs(const char *base, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        die(p);
    chmod(p, 0755);
}

static void touch(const char *base, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die(p);
    close(fd);
}

static void link_to(const char *target, const char *base, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    unlink(p);
    if (symlink(target, p) < 0)
        die(p);
}

static void setup(const char *base)
{
    char t[4096];
    mkdirs(base, "jails");
    mkdirs(base, "jails/sw");
    mkdirs(base, "jails/sw/j");
    touch(base, "jails/sw/j/REAL");
    mkdirs(base, "outside");
    mkdirs(base, "outside/j");
    touch(base, "outside/j/OUTSIDE");
    snprintf(t, sizeof t, "%s/outside", base);
    link_to(t, base, "jails/alt");
    mkdirs(base, "leaf");
    mkdirs(base, "leaf/j");
    touch(base, "leaf/j/REAL");
    snprintf(t, sizeof t, "%s/outside/j", base);
    link_to(t, base, "leaf/alt");
}

static int xchg(int dfd, const char *a, const char *b)
{
    return (int)syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE);
}

/* Swap both pairs forever. */
static void __attribute__((noreturn)) racer(const char *base)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/jails", base);
    int d1 = open(p, O_PATH | O_DIRECTORY);
    snprintf(p, sizeof p, "%s/leaf", base);
    int d2 = open(p, O_PATH | O_DIRECTORY);
    if (d1 < 0 || d2 < 0)
        die("racer: open");
    for (;;) {
        if (xchg(d1, "sw", "alt") < 0 || xchg(d2, "j", "alt") < 0)
            die("racer: renameat2");
    }
}

/* The state of the fixture after the racer: each pair may be left
 * swapped; put the real directories back. */
static void restore(const char *base)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/jails/sw", base);
    if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
        snprintf(p, sizeof p, "%s/jails", base);
        int d = open(p, O_PATH | O_DIRECTORY);
        if (d < 0 || xchg(d, "sw", "alt") < 0)
            die("restore jails");
        close(d);
    }
    snprintf(p, sizeof p, "%s/leaf/j", base);
    if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
        snprintf(p, sizeof p, "%s/leaf", base);
        int d = open(p, O_PATH | O_DIRECTORY);
        if (d < 0 || xchg(d, "j", "alt") < 0)
            die("restore leaf");
        close(d);
    }
}

static int where_am_i(void)
{
    if (access("/REAL", F_OK) == 0)
        return 0;
    if (access("/OUTSIDE", F_OK) == 0)
        return 20;
    return 30;
}

static int trial(const char *mode, const char *path)
{
    vh_jail j;
    vh_err e;
    if (strcmp(mode, "naive") == 0) {
        /* Check the path (the same trusted walker), then use the path
         * again: between the two the racer may swap a component. */
        if (vh_path_trust(path, VH_WANT_DIR, 72, NULL, NULL, &e) < 0)
            return 10;
        if (chroot(path) < 0 || chdir("/") < 0)
            return 10;
        return where_am_i();
    }
    vh_row row;
    vh_row_init(&row);
    snprintf(row.root, sizeof row.root, "%s", path);
    if (vh_jail_open(&row, &j, &e) < 0)
        return 10;
    if (strcmp(mode, "pivot") != 0 || vh_jail_pivot(&j, 0, NULL, &e) < 0)
        return 10;
    return where_am_i();
}

static void trials(const char *mode, long n, const char *base)
{
    char paths[2][4096];
    snprintf(paths[0], sizeof paths[0], "%s/jails/sw/j", base);
    snprintf(paths[1], sizeof paths[1], "%s/leaf/j", base);
    pid_t r = fork();
    if (r < 0)
        die("fork racer");
    if (r == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        racer(base);
    }
    long refused = 0, real = 0, escaped = 0, neither = 0, real_by_path[2] = {0, 0};
    for (long i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0)
            die("fork trial");
        if (c == 0)
            _exit(trial(mode, paths[i & 1]));
        int st;
        if (waitpid(c, &st, 0) < 0)
            die("waitpid");
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 99;
        if (code == 10)
            refused++;
        else if (code == 0)
            real++, real_by_path[i & 1]++;
        else if (code == 20)
            escaped++;
        else
            neither++;
    }
    kill(r, SIGKILL);
    waitpid(r, NULL, 0);
    restore(base);
    printf("mode=%s trials=%ld refused=%ld real=%ld escaped=%ld neither=%ld real_parent_swapped=%ld "
           "real_leaf_swapped=%ld\n",
           mode, n, refused, real, escaped, neither, real_by_path[0], real_by_path[1]);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "setup") == 0) {
        setup(argv[2]);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "racer") == 0) {
        racer(argv[2]);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "restore") == 0) {
        restore(argv[2]);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "trials") == 0) {
        trials(argv[2], atol(argv[3]), argv[4]);
        return 0;
    }
    fprintf(stderr, "usage: race_a9 setup|racer|restore BASE | trials fd|pivot|naive N BASE\n");
    return 64;
}
