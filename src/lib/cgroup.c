#include "cgroup.h"

#include "addr.h"
#include "exitcodes.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* How often a group that another connection removed between our mkdir
 * and our write is created again. Each round needs that connection's
 * whole leave to fall between two of our system calls; more than a few
 * in a row means something else is wrong. */
#define VH_CG_TRIES 16
/* rmdir of a group whose processes have all exited but that the kernel
 * still reports busy for a moment: a few short waits, then leave it to
 * the domain's next connection. */
#define VH_CG_RMDIR_TRIES 10

static void hex(const char *s, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (; *s; s++) {
        *out++ = digits[(unsigned char)*s >> 4];
        *out++ = digits[(unsigned char)*s & 15];
    }
    *out = '\0';
}

int vh_cgroup_name(const char *service, const char *address, char *out, size_t n, vh_err *e)
{
    /* A host name or wildcard key (issue 17) is written as it is, after
     * "n": its bytes (letters, digits, '-', '.', a leading '*') are safe in
     * a file name, and doubling up to 253 of them would not fit. The hex
     * of any other key starts with a hex digit, never 'n': one name per
     * key either way. */
    int kind = vh_key_kind(address);
    int raw = kind == VH_KEY_NAME || kind == VH_KEY_WILDCARD;
    size_t need = 3 + 2 * strlen(service) + 1 + (raw ? 1 + strlen(address) : 2 * strlen(address));
    if (need > VH_CGROUP_NAME_MAX || need >= n)
        return vh_fail(e, VH_EX_SOFTWARE,
                       "the running file and pids cgroup name of domain %s/%s would be %zu bytes, more than %d - "
                       "give it a shorter key",
                       service, address, need, VH_CGROUP_NAME_MAX);
    memcpy(out, "vh-", 3);
    hex(service, out + 3);
    size_t at = 3 + 2 * strlen(service);
    out[at] = '-';
    if (raw) {
        out[at + 1] = 'n';
        memcpy(out + at + 2, address, strlen(address) + 1);
    } else {
        hex(address, out + at + 1);
    }
    return 0;
}

/* Write text into dfd/rel. Returns 0 or -errno. */
static int write_at(int dfd, const char *rel, const char *text)
{
    int fd = openat(dfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int err = w == (ssize_t)len ? 0 : (w < 0 ? errno : EIO);
    close(fd);
    return -err;
}

static int is_cgroup_fs(int fd, int *v2)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return 0;
    *v2 = sf.f_type == CGROUP2_SUPER_MAGIC;
    return sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* DIR missing: create its last component, but only below a trusted
 * cgroup directory (a pids hierarchy's root, /sys/fs/cgroup/pids). */
static int create_dir(const char *dir, vh_err *e)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(dir, '/');
    if (!slash || slash == dir || (size_t)(slash - dir) >= sizeof parent)
        return vh_fail(e, VH_EX_CONFIG, "pids cgroup %s does not exist - mount a pids cgroup hierarchy there", dir);
    memcpy(parent, dir, (size_t)(slash - dir));
    parent[slash - dir] = '\0';
    int pfd = -1, v2 = 0;
    if (vh_path_trust(parent, VH_WANT_DIR, VH_EX_CONFIG, &pfd, NULL, e) < 0)
        return -1;
    if (!is_cgroup_fs(pfd, &v2)) {
        close(pfd);
        return vh_fail(e, VH_EX_CONFIG,
                       "no pids cgroup: %s is no cgroup directory - mount the pids controller there "
                       "(mount -t cgroup -o pids pids %s), or on cgroup v2 start virtuald with --pids-cgroup "
                       "naming a delegated group (virtuald(8))",
                       parent, parent);
    }
    int rc = mkdirat(pfd, slash + 1, 0755);
    int err = errno;
    close(pfd);
    if (rc < 0 && err != EEXIST)
        return vh_fail(e, VH_EX_OSERR, "cannot create pids cgroup %s: %s", dir, strerror(err));
    return 0;
}

/* Trust DIR (creating it when missing), check it is a cgroup. */
static int open_dir(const char *dir, vh_cgroup *cg, vh_err *e)
{
    if (vh_path_walk(dir, VH_WANT_DIR, NULL, NULL, &cg->dir_fd, NULL) == VH_PATH_MISSING && create_dir(dir, e) < 0)
        return -1;
    if (cg->dir_fd < 0 && vh_path_trust(dir, VH_WANT_DIR, VH_EX_CONFIG, &cg->dir_fd, NULL, e) < 0)
        return -1;
    if (!is_cgroup_fs(cg->dir_fd, &cg->v2))
        return vh_fail(e, VH_EX_CONFIG,
                       "no pids cgroup: %s is no cgroup directory - mount the pids controller on its parent, "
                       "or start virtuald with --pids-cgroup naming one (virtuald(8))",
                       dir);
    return 0;
}

/* cgroup v2: pids.max exists in DIR's children only when DIR's
 * cgroup.subtree_control holds pids. */
static int enable_v2(vh_cgroup *cg, vh_err *e)
{
    int rc = write_at(cg->dir_fd, "cgroup.subtree_control", "+pids");
    if (rc < 0)
        return vh_fail(e, VH_EX_CONFIG,
                       "cannot enable the pids controller for the children of %s (%s) - delegate pids to it "
                       "(systemd: Delegate=pids in the super-server's unit; else echo +pids > "
                       "its parent's cgroup.subtree_control)",
                       cg->dir, strerror(-rc));
    return 0;
}

/* One attempt to make DIR/NAME with its limit and open its procs file.
 * Returns 0, 1 when the group vanished meanwhile (try again), or -1. */
static int make_group(vh_cgroup *cg, int *enabled, vh_err *e)
{
    if (mkdirat(cg->dir_fd, cg->name, 0755) < 0 && errno != EEXIST)
        return vh_fail(e, VH_EX_OSERR, "cannot create pids cgroup %s/%s: %s", cg->dir, cg->name, strerror(errno));
    int g = openat(cg->dir_fd, cg->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (g < 0)
        return errno == ENOENT
                   ? 1
                   : vh_fail(e, VH_EX_OSERR, "cannot open pids cgroup %s/%s: %s", cg->dir, cg->name, strerror(errno));
    int rc = -1;
    struct stat st;
    char path[PATH_MAX + 300], msg[2 * PATH_MAX + 700];
    snprintf(path, sizeof path, "%s/%s", cg->dir, cg->name);
    if (fstat(g, &st) < 0) {
        vh_fail(e, VH_EX_OSERR, "cannot stat pids cgroup %s: %s", path, strerror(errno));
        goto out;
    }
    /* Only root can create in a trusted DIR; a group someone chown'ed or
     * chmod'ed (delegated) could be joined or emptied by its owner. */
    if (vh_path_judge(path, &st, msg, sizeof msg) != 0) {
        vh_fail(e, VH_EX_CONFIG, "%s", msg);
        goto out;
    }
    char max[16];
    snprintf(max, sizeof max, "%u", (unsigned)cg->max_procs);
    int w = write_at(g, "pids.max", max);
    if (w == -ENOENT && faccessat(g, "cgroup.procs", F_OK, 0) == 0) {
        /* The group lives, but has no pids.max: no pids controller. */
        if (cg->v2 && !*enabled) {
            *enabled = 1;
            rc = enable_v2(cg, e) < 0 ? -1 : 1;
            goto out;
        }
        vh_fail(e, VH_EX_CONFIG,
                "no pids cgroup: %s has no pids.max - %s is a cgroup hierarchy without the pids controller; "
                "mount one (mount -t cgroup -o pids) and point --pids-cgroup at it",
                path, cg->dir);
        goto out;
    }
    if (w == -ENOENT || w == -ENODEV) {
        rc = 1;
        goto out;
    }
    if (w < 0) {
        vh_fail(e, VH_EX_OSERR, "cannot write pids.max of %s: %s", path, strerror(-w));
        goto out;
    }
    cg->procs_fd = openat(g, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (cg->procs_fd < 0) {
        if (errno == ENOENT || errno == ENODEV)
            rc = 1;
        else
            vh_fail(e, VH_EX_OSERR, "cannot open %s/cgroup.procs: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(g);
    return rc;
}

/* make_group until it holds, bounded. */
static int make_group_retry(vh_cgroup *cg, vh_err *e)
{
    int enabled = 0;
    for (int i = 0; i < VH_CG_TRIES; i++) {
        int rc = make_group(cg, &enabled, e);
        if (rc <= 0)
            return rc;
    }
    return vh_fail(e, VH_EX_TEMPFAIL, "pids cgroup %s/%s vanished %d times while being set up - try again", cg->dir,
                   cg->name, VH_CG_TRIES);
}

/* The pids controller must reach DIR's children, checked without creating
 * anything. v2: pids in DIR's cgroup.subtree_control (enabled here when
 * missing). v1: DIR itself has pids.max (a group below the hierarchy's
 * root; the root has no pids.max in any hierarchy, so it cannot be told
 * from one without pids and is refused). */
static int check_controller(vh_cgroup *cg, vh_err *e)
{
    if (cg->v2) {
        char buf[256] = "";
        int fd = openat(cg->dir_fd, "cgroup.subtree_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = '\0';
            for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n"))
                if (strcmp(w, "pids") == 0)
                    return 0;
        }
        return enable_v2(cg, e);
    }
    if (faccessat(cg->dir_fd, "pids.max", F_OK, 0) == 0)
        return 0;
    return vh_fail(e, VH_EX_CONFIG,
                   "no pids cgroup: %s has no pids.max - it is the root of a cgroup hierarchy, or one without the "
                   "pids controller; point --pids-cgroup at a group below a pids hierarchy's root "
                   "(mount -t cgroup -o pids)",
                   cg->dir);
}

int vh_cgroup_open(const vh_cgroup_cfg *cfg, const char *service, const char *address, uint32_t max_procs,
                   vh_cgroup *cg, vh_err *e)
{
    const char *dir = cfg && cfg->dir ? cfg->dir : VH_CGROUP_DEFAULT_DIR;
    memset(cg, 0, sizeof *cg);
    cg->dir_fd = cg->procs_fd = -1;
    cg->max_procs = max_procs;
    snprintf(cg->dir, sizeof cg->dir, "%s", dir);
    if (max_procs == 0)
        return vh_fail(e, VH_EX_SOFTWARE, "process limit 0 for domain %s/%s: at least 1 is needed", service, address);
    if (vh_cgroup_name(service, address, cg->name, sizeof cg->name, e) < 0 || open_dir(dir, cg, e) < 0 ||
        check_controller(cg, e) < 0 || make_group_retry(cg, e) < 0) {
        vh_cgroup_close(cg);
        return -1;
    }
    return 0;
}

int vh_cgroup_enter(vh_cgroup *cg, vh_err *e)
{
    int rc = -1;
    for (int i = 0; i < VH_CG_TRIES; i++) {
        /* Only after a lost race: then it opens below DIR's descriptor,
         * never a path in the jail (A10 allows no other open here). */
        if (cg->procs_fd < 0 && make_group_retry(cg, e) < 0)
            goto out;
        /* "0": the writer itself, whatever PID namespace it is in. */
        if (write(cg->procs_fd, "0", 1) == 1) {
            rc = 0;
            goto out;
        }
        if (errno != ENODEV && errno != ENOENT) {
            vh_fail(e, VH_EX_OSERR, "cannot enter pids cgroup %s/%s: %s", cg->dir, cg->name, strerror(errno));
            goto out;
        }
        /* Removed by another connection's leave since it was opened. */
        close(cg->procs_fd);
        cg->procs_fd = -1;
    }
    vh_fail(e, VH_EX_TEMPFAIL, "pids cgroup %s/%s vanished %d times while entering it - try again", cg->dir, cg->name,
            VH_CG_TRIES);
out:
    vh_cgroup_close(cg);
    return rc;
}

/* Does the group still hold a process? (1 when it cannot be told.) */
static int populated(const vh_cgroup *cg)
{
    char rel[VH_CGROUP_NAME_MAX + 16], c;
    snprintf(rel, sizeof rel, "%s/cgroup.procs", cg->name);
    int fd = openat(cg->dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno != ENOENT;
    ssize_t n = read(fd, &c, 1);
    close(fd);
    return n != 0;
}

void vh_cgroup_leave(vh_cgroup *cg)
{
    if (cg->procs_fd >= 0) {
        close(cg->procs_fd);
        cg->procs_fd = -1;
    }
    for (int i = 0; cg->dir_fd >= 0 && i < VH_CG_RMDIR_TRIES; i++) {
        if (unlinkat(cg->dir_fd, cg->name, AT_REMOVEDIR) == 0 || errno != EBUSY)
            break;
        /* Busy: another connection's tree is inside (it removes the
         * group when it ends), or ours has only just exited. */
        if (populated(cg))
            break;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    vh_cgroup_close(cg);
}

void vh_cgroup_close(vh_cgroup *cg)
{
    if (cg->procs_fd >= 0)
        close(cg->procs_fd);
    if (cg->dir_fd >= 0)
        close(cg->dir_fd);
    cg->procs_fd = cg->dir_fd = -1;
}
