/* race_k9 - THREATS K9: a hostile root service races `provision` in its
 * jail (temporary names, renames, symlinks and hard links to host files
 * and directories) while provision runs again and again.
 *
 *   race_k9 MODE JAIL HOST RUNS SECONDS [TARGET...]
 *
 * JAIL is a provisioned jail; HOST a directory outside it (on the same
 * file system, so that hard links work) holding the decoy file
 * HOST/decoy and the decoy directory HOST/dir; TARGETs are more host
 * files the racer points its links at (the lookup index). Before each run
 * the jail's /dev nodes and /etc files are removed, so every run creates
 * them under temporary names: the window the racer aims at.
 *
 * MODE:
 *   provision  vh_provision_run, the library's way: must change nothing
 *              outside the jail (the script compares the decoys)
 *   naive      positive control: the old install_device (mknodat under a
 *              temporary name, then fchmodat by that name, which follows
 *              a symlink) - the racer must fool it; stops at the first
 *              run that changed a decoy's mode
 *
 * Stops after RUNS runs or SECONDS seconds and prints
 * "mode=M runs=R ok=K refused=F escaped=X". The racer is a child
 * chrooted into the jail, as root (see racer()). */
#include "vherr.h"
#include "provision.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static const char *jail, *host;
static char *const *targets;
static int ntargets;

static void die(const char *what)
{
    fprintf(stderr, "race_k9: %s: %s\n", what, strerror(errno));
    exit(2);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the racer ---------------------------------------------------- */

/* The racer is chrooted into the jail, like the service it plays: its
 * own paths stay inside, but its symlinks name host paths (followed by
 * anything on the host that opens them by name), and it hard-links host
 * files through descriptors it was handed before the chroot (linkat
 * with AT_EMPTY_PATH) - more than a real service gets. */
static int hostfds[64]; /* decoy, then the targets */
static int nhostfds;

/* A fresh bait at .k9bait in dfd: a symlink to a host file or directory,
 * or a hard link to a host file. */
static void bait(int dfd, unsigned k)
{
    char t[4096];
    unlinkat(dfd, ".k9bait", 0);
    unlinkat(dfd, ".k9bait", AT_REMOVEDIR);
    switch (k % 4) {
    case 0: snprintf(t, sizeof t, "%s/decoy", host); break;
    case 1: snprintf(t, sizeof t, "%s/dir", host); break;
    case 2:
        if (ntargets) {
            snprintf(t, sizeof t, "%s", targets[k / 4 % (unsigned)ntargets]);
            break;
        }
        /* fall through */
    default:
        if (linkat(hostfds[k / 4 % (unsigned)nhostfds], "", dfd, ".k9bait", AT_EMPTY_PATH) == 0)
            return;
        snprintf(t, sizeof t, "%s/decoy", host);
    }
    if (symlinkat(t, dfd, ".k9bait") < 0)
        return; /* the next round tries again */
}

/* Swap a bait with every temporary name that may exist now: the names
 * are predictable (the provisioning pid and a counter), and an exchange
 * fails unless both exist, so this spins cheaply until one appears. */
static void swap_tmps(int dfd, pid_t pid, unsigned *k)
{
    char name[64];
    for (unsigned seq = 0; seq < 8; seq++) {
        snprintf(name, sizeof name, ".vh-provision.%ld.%u", (long)pid, seq);
        if (renameat2(dfd, ".k9bait", dfd, name, RENAME_EXCHANGE) == 0)
            bait(dfd, ++*k); /* the victim's node now sits at .k9bait */
    }
}

/* Put directory "/k9d" back as d, whatever provision made meanwhile. */
static void restore(const char *d)
{
    if (rename("/k9d", d) == 0)
        return;
    if (renameat2(AT_FDCWD, "/k9d", AT_FDCWD, d, RENAME_EXCHANGE) == 0 && unlink("/k9d") == 0)
        return;
    char junk[64];
    static unsigned n;
    snprintf(junk, sizeof junk, "/k9junk%u", n++);
    rename("/k9d", junk);
}

/* The coarser attacks, now and then: a target replaced by a link to the
 * host, a directory of the jail exchanged with a symlink to a host
 * directory for a moment, a directory renamed away and back, or away
 * with a symlink put in its place. */
static void structural(unsigned r)
{
    char t[4096];
    const char *dirs[] = {"/dev", "/etc"};
    const char *files[] = {"/dev/null", "/dev/zero", "/etc/passwd", "/etc/group"};
    const char *d = dirs[r % 2];
    unlink("/k9l");
    switch (r / 2 % 4) {
    case 0:
        snprintf(t, sizeof t, "%s/decoy", host);
        if (r & 8 ? linkat(hostfds[0], "", AT_FDCWD, "/k9l", AT_EMPTY_PATH) : symlink(t, "/k9l"))
            break;
        rename("/k9l", files[r / 8 % 4]);
        break;
    case 1:
        snprintf(t, sizeof t, "%s/dir", host);
        if (symlink(t, "/k9l") == 0 && renameat2(AT_FDCWD, "/k9l", AT_FDCWD, d, RENAME_EXCHANGE) == 0) {
            usleep(200);
            renameat2(AT_FDCWD, "/k9l", AT_FDCWD, d, RENAME_EXCHANGE);
        }
        break;
    case 2:
        if (rename(d, "/k9d") == 0) {
            usleep(100);
            restore(d);
        }
        break;
    default:
        snprintf(t, sizeof t, "%s/dir", host);
        if (rename(d, "/k9d") == 0) {
            if (symlink(t, d) == 0) {
                usleep(200);
                unlink(d);
            }
            restore(d);
        }
    }
}

static void racer(pid_t victim)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char p[4096];
    snprintf(p, sizeof p, "%s/decoy", host);
    if ((hostfds[nhostfds++] = open(p, O_PATH | O_CLOEXEC)) < 0)
        die(p);
    for (int i = 0; i < ntargets && nhostfds < 64; i++)
        if ((hostfds[nhostfds++] = open(targets[i], O_PATH | O_CLOEXEC)) < 0)
            die(targets[i]);
    if (chdir(jail) < 0 || chroot(".") < 0)
        die("chroot");
    unsigned k = 0;
    for (unsigned r = 0;; r++) {
        for (int i = 0; i < 2; i++) {
            int dfd = open(i ? "/etc" : "/dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (dfd < 0)
                continue;
            bait(dfd, ++k);
            for (int spin = 0; spin < 200; spin++)
                swap_tmps(dfd, victim, &k);
            close(dfd);
        }
        if (r % 16 == 15)
            structural(r / 16);
    }
}

/* ---- the two installers ------------------------------------------- */

/* The old install_device, kept as the control: right up to fchmodat by
 * name, which follows whatever the racer put at tmp. */
static int naive_device(int jfd, const char *name, unsigned minor, unsigned *seq)
{
    int dfd = openat(jfd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".vh-provision.%ld.%u", (long)getpid(), (*seq)++);
    int r = mknodat(dfd, tmp, S_IFCHR | 0600, makedev(1, minor));
    if (r == 0 && (fchownat(dfd, tmp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(dfd, tmp, 0666, 0) < 0 ||
                   renameat(dfd, tmp, dfd, name) < 0))
        r = -1;
    unlinkat(dfd, tmp, 0);
    close(dfd);
    return r;
}

static int naive_run(int jfd)
{
    unsigned seq = 0;
    int r = naive_device(jfd, "null", 3, &seq);
    r |= naive_device(jfd, "zero", 5, &seq);
    return r | naive_device(jfd, "urandom", 9, &seq);
}

/* Has any decoy's mode or owner moved from what it was at the start? */
static int escaped(const struct stat *before, int n)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        const char *p = i < ntargets ? targets[i] : NULL;
        char buf[4096];
        if (!p) {
            snprintf(buf, sizeof buf, "%s/%s", host, i == ntargets ? "decoy" : "dir");
            p = buf;
        }
        if (stat(p, &st) < 0 || st.st_mode != before[i].st_mode || st.st_uid != before[i].st_uid ||
            st.st_gid != before[i].st_gid)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: race_k9 provision|naive JAIL HOST RUNS SECONDS [TARGET...]\n");
        return 2;
    }
    const char *mode = argv[1];
    jail = argv[2];
    host = argv[3];
    long runs = atol(argv[4]);
    double limit = atof(argv[5]);
    targets = argv + 6;
    ntargets = argc - 6;
    int naive = strcmp(mode, "naive") == 0;
    if (!naive && strcmp(mode, "provision") != 0)
        return 2;

    struct stat before[64];
    int nd = ntargets + 2;
    if (nd > 64)
        return 2;
    for (int i = 0; i < nd; i++) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s/%s", host, i == ntargets ? "decoy" : "dir");
        if (stat(i < ntargets ? targets[i] : buf, &before[i]) < 0)
            die(i < ntargets ? targets[i] : buf);
    }

    pid_t self = getpid();
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0)
        racer(self);

    int jfd = open(jail, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (jfd < 0)
        die(jail);
    /* Removed through the directories' own descriptors: the racer may
     * have made "dev" a symlink to a host directory this instant. */
    const char *gone[][4] = {{"dev", "null", "zero", "urandom"}, {"etc", "passwd", "group", NULL}};
    long n = 0, ok = 0, refused = 0, esc = 0;
    double end = now() + limit;
    for (; n < runs && now() < end; n++) {
        for (int i = 0; i < 2; i++) {
            int dfd = openat(jfd, gone[i][0], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            for (int j = 1; dfd >= 0 && j < 4 && gone[i][j]; j++)
                unlinkat(dfd, gone[i][j], 0);
            if (dfd >= 0)
                close(dfd);
        }
        int r;
        if (naive) {
            r = naive_run(jfd);
        } else {
            vh_err e;
            vh_provision p = {jail, NULL, 0, NULL, 0, NULL, NULL, 0, 0, NULL, NULL};
            r = vh_provision_run(&p, &e);
            if (r < 0 && getenv("RACE_K9_VERBOSE"))
                fprintf(stderr, "race_k9: %s\n", e.msg);
        }
        if (r == 0)
            ok++;
        else
            refused++;
        if (escaped(before, nd)) {
            esc++;
            if (naive) {
                n++;
                break;
            }
        }
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    printf("mode=%s runs=%ld ok=%ld refused=%ld escaped=%ld\n", mode, n, ok, refused, esc);
    return 0;
}
