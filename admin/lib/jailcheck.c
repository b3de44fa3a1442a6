#include "jailcheck.h"

#include "jail.h"
#include "userns.h"

#include "deps.h"
#include "env.h"
#include "path.h"
#include "rootfd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

int vh_jailcheck_device_ok(unsigned major, unsigned minor)
{
    return (major == 1 && (minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9)) ||
           (major == 5 && minor == 0);
}

/* Regular files with more than one link, by inode: how many of their
 * links the scan met inside the jail (THREATS A7). */
struct link {
    ino_t ino;
    nlink_t nlink, found;
    char *path; /* the first one met, for the message */
};

struct ctx {
    vh_jailcheck *jc;
    vh_jailcheck_more more; /* all NULL when not given */
    vh_finding_cb cb;
    void *cbctx;
    int worst;
    const char *root;     /* the jail on the host */
    vh_cred cred;         /* the run-as identity, when has_user */
    const vh_cred *credp; /* NULL: root service */
    /* deep scan */
    char rel[2 * PATH_MAX]; /* current path below the root, "" or "/a/b" */
    size_t rlen;
    uint64_t mnt_id;
    int have_mnt;
    dev_t dev;
    struct link *links;
    size_t nlinks, caplinks;
    int links_oom;
    int jailfd; /* the jail's root, for lookups inside it (rootfd.h) */
    int tree;   /* the deep scan ran: it judged the standard code directories */
    /* inodes already reported under the code rules: the deep scan, a
     * symlinked code directory and the dependency walk can meet one
     * file by several paths; it is said once */
    struct said {
        dev_t dev;
        ino_t ino;
    } * said;
    size_t nsaid, capsaid;
    char hp[2 * PATH_MAX + 16]; /* scratch for scan_dir: not on its recursive stack */
};

static void emit(struct ctx *c, enum vh_severity sev, const char *kind, const char *path, const char *fix,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void emit(struct ctx *c, enum vh_severity sev, const char *kind, const char *path, const char *fix,
                 const char *fmt, ...)
{
    char problem[2 * PATH_MAX + 512], shownpath[4 * PATH_MAX], shownfix[8 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    char shownproblem[4 * sizeof problem];
    vh_printable(problem, shownproblem, sizeof shownproblem);
    vh_printable(path, shownpath, sizeof shownpath);
    vh_printable(fix, shownfix, sizeof shownfix);
    vh_finding f = {c->jc->domain, sev, kind, shownpath, shownproblem, shownfix};
    if ((int)sev > c->worst)
        c->worst = (int)sev;
    c->cb(c->cbctx, &f);
}

/* The host path of a path inside the jail. */
static void host_path(const struct ctx *c, const char *in, char *out, size_t n)
{
    if (strcmp(c->root, "/") == 0)
        snprintf(out, n, "%s", *in ? in : "/");
    else
        snprintf(out, n, "%s%s%s", c->root, *in && *in != '/' ? "/" : "", in);
}

/* ---- the path: the runtime's own checker ------------------------- */

static void path_finding(void *ctx, int problem, const char *path, const struct stat *st, const char *msg)
{
    struct ctx *c = ctx;
    char fix[2 * PATH_MAX + 64];
    /* Ownership and mode: one finding per fault, each with its fix. */
    if (st && (problem & (VH_PATH_OWNER | VH_PATH_GROUPW | VH_PATH_OTHERW))) {
        /* /tmp and its kind: the remedy is to move the jail, never to
         * chmod the shared directory (issue 13 point 6) */
        if (!(problem & VH_PATH_OWNER) && vh_path_is_scratch(st)) {
            snprintf(fix, sizeof fix,
                     "move the jail out of %s, below a directory only root can write (such as /srv), and re-add "
                     "its domains",
                     path);
            emit(c, VH_SEV_ERROR, "other-writable", path, fix,
                 "jail path component is a shared scratch directory (mode %04o: sticky, writable by every user)",
                 (unsigned)(st->st_mode & 07777));
            return;
        }
        if (problem & VH_PATH_OWNER) {
            snprintf(fix, sizeof fix, "chown root %s", path);
            emit(c, VH_SEV_ERROR, "owner", path, fix,
                 "jail path component is owned by uid %u, not root: its owner could swap the jail",
                 (unsigned)st->st_uid);
        }
        if (problem & VH_PATH_GROUPW) {
            snprintf(fix, sizeof fix, "chmod g-w %s", path);
            emit(c, VH_SEV_ERROR, "group-writable", path, fix,
                 "jail path component is writable by group %u (mode %04o)", (unsigned)st->st_gid,
                 (unsigned)(st->st_mode & 07777));
        }
        if (problem & VH_PATH_OTHERW) {
            snprintf(fix, sizeof fix, "chmod o-w %s", path);
            emit(c, VH_SEV_ERROR, "other-writable", path, fix, "jail path component is writable by others (mode %04o)",
                 (unsigned)(st->st_mode & 07777));
        }
        return;
    }
    /* The rest: the checker's own message is "fault - fix". */
    const char *kind = problem & VH_PATH_MISSING   ? "missing"
                       : problem & VH_PATH_EXPOSED ? "exposed"
                       : problem & VH_PATH_SYMLINK ? "symlink"
                       : problem & VH_PATH_NOTDIR  ? "not-directory"
                       : problem & VH_PATH_INVALID ? "invalid-path"
                                                   : "unreadable";
    char text[sizeof(((vh_err *)0)->msg) + 2 * PATH_MAX];
    snprintf(text, sizeof text, "%s", msg);
    const char *remedy = vh_finding_split_remedy(text);
    if (!remedy)
        remedy = "fix the jail path";
    emit(c, VH_SEV_ERROR, kind, path, remedy, "%s", text);
}

/* The jail directory for the deep scan: the trusted fd when the path is
 * clean; when only ownership or modes are wrong, still the directory,
 * opened without following any symlink, so that the scan can report
 * the rest. -1 when the path itself is broken. */
static int check_path(struct ctx *c)
{
    int fd = -1;
    struct stat st;
    /* an unjailed row: the operator chose a root that is no jail, and
     * virtuald skips K7 for it (the `unjailed` warning says so) */
    unsigned flags = c->jc->row->unjailed == 1 ? 0 : VH_PATH_CHECK_EXPOSED;
    int bits = vh_path_walk_flags(c->root, VH_WANT_DIR, flags, path_finding, c, &fd, &st);
    if (bits == 0)
        return fd;
    if (bits & ~(VH_PATH_OWNER | VH_PATH_GROUPW | VH_PATH_OTHERW | VH_PATH_EXPOSED))
        return -1;
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return -1;
    fd = vh_rootfd_open_nofollow(root, c->root, O_PATH | O_DIRECTORY, 0);
    close(root);
    return fd;
}

/* ---- a root service's user namespace (issue 11) ------------------- */

/* virtuald binds a root service's jail (and base) as an idmapped mount
 * of the service's user namespace, and refuses the connection where the
 * file system takes none: say so before. One probe per file system (a
 * million rows share a few). */
static void check_idmap(struct ctx *c, int fd)
{
    static struct {
        dev_t dev;
        int err;
    } seen[16];
    static int nseen;
    static int nsfd = -1;
    struct stat st;
    const vh_row *r = c->jc->row;
    char fix[2 * PATH_MAX + 256];
    int dirs[2] = {fd, -1};
    const char *names[2] = {c->root, r->base[0] ? r->base : NULL};
    if (names[1])
        dirs[1] = open(names[1], O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    for (int i = 0; i < 2; i++) {
        if (dirs[i] < 0 || fstat(dirs[i], &st) < 0)
            continue;
        int err = -1;
        for (int k = 0; k < nseen; k++)
            if (seen[k].dev == st.st_dev)
                err = seen[k].err;
        if (err < 0) {
            vh_err e;
            if (nsfd < 0 && vh_userns_make(dirs[i], 1, &nsfd, &e) < 0) {
                snprintf(fix, sizeof fix,
                         "allow user namespaces (user.max_user_namespaces), or give the domain a "
                         "run-as user (vhostctl set %s %s --user U)",
                         r->service, r->address);
                emit(c, VH_SEV_ERROR, "no-userns", c->root, fix,
                     "a root service runs as root of a user namespace of its own, and none can be made here: %s",
                     e.msg);
                break;
            }
            err = vh_jail_idmap_probe(dirs[i], nsfd);
            if (nseen < (int)(sizeof seen / sizeof seen[0])) {
                seen[nseen].dev = st.st_dev;
                seen[nseen].err = err;
                nseen++;
            }
        }
        if (err == 0)
            continue;
        snprintf(fix, sizeof fix,
                 "move it to a file system that takes idmapped mounts (ext4, xfs, btrfs; tmpfs from Linux 6.3), or "
                 "give the domain a run-as user (vhostctl set %s %s --user U)",
                 r->service, r->address);
        if (err == ENOSYS) /* a kernel before 5.2, or a tool around vhostctl (valgrind) */
            emit(c, VH_SEV_WARNING, "no-idmap", names[i], fix,
                 "cannot tell whether %s %s takes an idmapped mount (open_tree or mount_setattr: %s): virtuald "
                 "binds a root service's jail so, and refuses the domain where the kernel cannot",
                 i ? "the base" : "the jail", names[i], strerror(err));
        else
            emit(c, VH_SEV_ERROR, "no-idmap", names[i], fix,
                 "%s %s is on a file system that takes no idmapped mount (%s): virtuald binds a root service's "
                 "jail so, for its user namespace, and refuses every connection of the domain",
                 i ? "the base" : "the jail", names[i], strerror(err));
    }
    if (dirs[1] >= 0)
        close(dirs[1]);
}

/* ---- the identity ------------------------------------------------- */

static void check_identity(struct ctx *c)
{
    const vh_row *r = c->jc->row;
    char fix[4 * PATH_MAX];
    if (!r->has_user) {
        snprintf(fix, sizeof fix, "give the domain a run-as user (vhostctl set %s %s --user U)", r->service,
                 r->address);
        emit(c, VH_SEV_WARNING, "runs-as-root", r->root, fix,
             "the service runs as root (in its own mount, PID and IPC namespaces): a compromise is root in the jail");
        return;
    }
    snprintf(fix, sizeof fix, "restore it on the host, or store the host's current ids (vhostctl set %s %s --user %s)",
             r->service, r->address, r->user);
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    if (getpwnam_r(r->user, &pw, buf, sizeof buf, &pwp) != 0 || !pwp) {
        emit(c, VH_SEV_ERROR, "user-gone", r->root, fix, "run-as user '%s' (uid %u) no longer exists on the host",
             r->user, (unsigned)r->uid);
        return;
    }
    if (pw.pw_uid != r->uid)
        emit(c, VH_SEV_ERROR, "uid-changed", r->root, fix,
             "run-as user '%s' is uid %u on the host, but the domain stores uid %u", r->user, (unsigned)pw.pw_uid,
             (unsigned)r->uid);
    /* A group stored as digits had no name when the domain was added. */
    int numeric = r->group[0] && strspn(r->group, "0123456789") == strlen(r->group);
    struct group gr, *grp = NULL;
    if (!numeric) {
        if (getgrnam_r(r->group, &gr, buf, sizeof buf, &grp) != 0 || !grp)
            emit(c, VH_SEV_ERROR, "group-gone", r->root, fix, "run-as group '%s' (gid %u) no longer exists on the host",
                 r->group, (unsigned)r->gid);
        else if (gr.gr_gid != r->gid)
            emit(c, VH_SEV_ERROR, "gid-changed", r->root, fix,
                 "run-as group '%s' is gid %u on the host, but the domain stores gid %u", r->group, (unsigned)gr.gr_gid,
                 (unsigned)r->gid);
    }
    gid_t list[VH_MAX_GROUPS + 1];
    int n = VH_MAX_GROUPS + 1;
    if (getgrouplist(r->user, r->gid, list, &n) < 0) {
        emit(c, VH_SEV_WARNING, "groups-changed", r->root, fix, "run-as user '%s' is now in more than %d groups",
             r->user, VH_MAX_GROUPS);
        return;
    }
    int same = 1;
    for (int i = 0; i < n && same; i++) {
        int found = 0;
        for (int k = 0; k < r->ngroups; k++)
            found |= r->groups[k] == list[i];
        same = found;
    }
    for (int k = 0; k < r->ngroups && same; k++) {
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= r->groups[k] == list[i];
        same = found;
    }
    if (!same)
        emit(c, VH_SEV_WARNING, "groups-changed", r->root, fix,
             "run-as user '%s' has other supplementary groups on the host than the domain stores", r->user);
}

/* ---- the deep scan ------------------------------------------------ */

static int top_is_code(const char *rel)
{
    /* rel is "/name..." at the top level: directories whose content the
     * service executes or the dynamic linker reads. */
    static const char *const code[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc"};
    const char *name = rel + 1;
    size_t n = strcspn(name, "/");
    for (size_t i = 0; i < sizeof code / sizeof code[0]; i++)
        if (strlen(code[i]) == n && strncmp(name, code[i], n) == 0)
            return 1;
    return 0;
}

/* A directory the service's PATH goes through (VH_SAFE_PATH, and the
 * sbin directories a root service's programs use), or one above such a
 * directory (renaming /usr replaces /usr/bin). */
static int on_path(const char *rel)
{
    static const char *const dirs[] = {"/bin",      "/sbin",      "/usr",          "/usr/bin",
                                       "/usr/sbin", "/usr/local", "/usr/local/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (strcmp(rel, dirs[i]) == 0)
            return 1;
    return 0;
}

/* May the run-as user change this object (not through root)? */
static const char *runas_can_change(const struct ctx *c, uid_t uid, gid_t gid, mode_t mode)
{
    if (!c->credp || S_ISLNK(mode))
        return NULL;
    if (uid == c->cred.uid)
        return "is owned by the run-as user";
    if ((mode & S_IWGRP) && vh_deps_cred_in_group(&c->cred, gid))
        return "is writable by a group of the run-as user";
    if (mode & S_IWOTH)
        return "is writable by others, the run-as user included";
    return NULL;
}

static void note_link(struct ctx *c, ino_t ino, nlink_t nlink, const char *path)
{
    if (c->links_oom)
        return;
    if (c->nlinks * 2 >= c->caplinks) {
        size_t cap = c->caplinks ? c->caplinks * 2 : 1024;
        struct link *n = calloc(cap, sizeof *n);
        if (!n) {
            c->links_oom = 1;
            return;
        }
        for (size_t i = 0; i < c->caplinks; i++) {
            if (!c->links[i].path)
                continue;
            size_t h = (size_t)(c->links[i].ino * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (n[h].path)
                h = (h + 1) & (cap - 1);
            n[h] = c->links[i];
        }
        free(c->links);
        c->links = n;
        c->caplinks = cap;
    }
    size_t h = (size_t)(ino * 0x9E3779B97F4A7C15ull) & (c->caplinks - 1);
    while (c->links[h].path && c->links[h].ino != ino)
        h = (h + 1) & (c->caplinks - 1);
    if (c->links[h].path) {
        c->links[h].found++;
        return;
    }
    c->links[h].path = strdup(path);
    if (!c->links[h].path) {
        c->links_oom = 1;
        return;
    }
    c->links[h].ino = ino;
    c->links[h].nlink = nlink;
    c->links[h].found = 1;
    c->nlinks++;
}

/* Issue 13 point 3: a root service trusts what is under etc, lib*, usr,
 * bin and sbin of its jail. Such an object owned by another uid belongs
 * to a tenant (a run-as domain, or whoever unpacked the jail); when a
 * run-as domain shares the jail, one writable by group or others is
 * within its reach too. Either way: root for the tenant. (A symlink's
 * own owner and mode change nothing; a world-writable directory without
 * sticky bit is already an error of its own.) */
static int root_trusts(struct ctx *c, uid_t uid, gid_t gid, mode_t mode, const char *hp)
{
    int foreign = uid != 0;
    int writable = (mode & (S_IWGRP | S_IWOTH)) != 0;
    if (!foreign && !(writable && c->more.shared_with))
        return 0;
    if (S_ISDIR(mode) && (mode & S_IWOTH) && !(mode & S_ISVTX))
        return 0;
    char fix[4 * PATH_MAX + 256], with[256] = "";
    if (c->more.shared_with)
        snprintf(with, sizeof with, " (run-as domain %s shares this jail)", c->more.shared_with);
    snprintf(fix, sizeof fix, "chown root:root %s && chmod go-w %s", hp, hp);
    emit(c, VH_SEV_ERROR, "tenant-writable", hp, fix,
         "%s %s (uid %u, gid %u, mode %04o) and the root service trusts it%s: whoever can change it is root in the "
         "jail",
         S_ISDIR(mode) ? "directory" : "file",
         foreign ? "is owned by another uid than root" : "is writable by group or others", (unsigned)uid, (unsigned)gid,
         (unsigned)(mode & 07777), with);
    return 1;
}

/* Has the file (dev, ino) been reported under the code rules? With
 * add, remember it (out of memory: it may be said twice, no harm). */
static int said_before(struct ctx *c, dev_t dev, ino_t ino, int add)
{
    for (size_t i = 0; i < c->nsaid; i++)
        if (c->said[i].dev == dev && c->said[i].ino == ino)
            return 1;
    if (!add)
        return 0;
    if (c->nsaid == c->capsaid) {
        size_t cap = c->capsaid ? c->capsaid * 2 : 16;
        struct said *n = realloc(c->said, cap * sizeof *n);
        if (!n)
            return 0;
        c->said = n;
        c->capsaid = cap;
    }
    c->said[c->nsaid].dev = dev;
    c->said[c->nsaid].ino = ino;
    c->nsaid++;
    return 0;
}

/* The code rules for one object: for a root service, root_trusts (an
 * error); for a run-as service, what it could change itself (a
 * warning). Returns whether a finding was made. (A world-writable
 * directory without sticky bit is an error of its own, not said twice.) */
static int judge_code(struct ctx *c, uid_t uid, gid_t gid, mode_t mode, const char *hp)
{
    if (S_ISLNK(mode))
        return 0; /* a symlink's own owner and mode change nothing */
    if (!c->credp)
        return root_trusts(c, uid, gid, mode, hp);
    const char *why = runas_can_change(c, uid, gid, mode);
    if (!why || (S_ISDIR(mode) && (mode & S_IWOTH) && !(mode & S_ISVTX) && uid != c->cred.uid))
        return 0;
    char fix[4 * PATH_MAX + 128];
    snprintf(fix, sizeof fix, "chown root:root %s && chmod go-w %s", hp, hp);
    emit(c, VH_SEV_WARNING, "runas-writable", hp, fix,
         "%s (uid %u, gid %u, mode %04o): the service could change its own programs or libraries", why, (unsigned)uid,
         (unsigned)gid, (unsigned)(mode & 07777));
    return 1;
}

static void check_entry(struct ctx *c, int dfd, const char *name, const struct statx *sx, int code)
{
    char hp[2 * PATH_MAX + 16], fix[4 * PATH_MAX + 128];
    host_path(c, c->rel, hp, sizeof hp);
    mode_t mode = sx->stx_mode;
    unsigned perm = mode & 07777;

    if (S_ISDIR(mode) && (mode & S_IWOTH) && !(mode & S_ISVTX)) {
        snprintf(fix, sizeof fix, "chmod o-w %s (or chmod +t %s for a shared scratch directory)", hp, hp);
        emit(c, VH_SEV_ERROR, "world-writable-dir", hp, fix,
             "directory is writable by others without the sticky bit (mode %04o): anyone can replace its files", perm);
    }
    if (!S_ISDIR(mode) && (mode & S_ISUID)) {
        snprintf(fix, sizeof fix, "chmod u-s %s (or remove it from the jail)", hp);
        emit(c, VH_SEV_ERROR, "setuid", hp, fix,
             "set-uid file (owner uid %u, mode %04o): it runs with its owner's rights", (unsigned)sx->stx_uid, perm);
    }
    if (!S_ISDIR(mode) && (mode & S_ISGID) && (mode & S_IXGRP)) {
        snprintf(fix, sizeof fix, "chmod g-s %s (or remove it from the jail)", hp);
        emit(c, VH_SEV_ERROR, "setgid", hp, fix, "set-gid file (group %u, mode %04o): it runs with its group's rights",
             (unsigned)sx->stx_gid, perm);
    }
    if (S_ISREG(mode)) {
        if (sx->stx_nlink > 1)
            note_link(c, (ino_t)sx->stx_ino, sx->stx_nlink, hp);
        /* File capabilities (A6): the xattr is read through an fd on
         * the file itself, opened without following anything. */
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = fgetxattr(fd, "security.capability", NULL, 0);
            if (n >= 0) {
                snprintf(fix, sizeof fix, "setcap -r %s (or remove it from the jail)", hp);
                emit(c, VH_SEV_ERROR, "capabilities", hp, fix,
                     "file has file capabilities (security.capability): running it grants privileges");
            }
            close(fd);
        }
    }
    if (S_ISBLK(mode) || (S_ISCHR(mode) && !vh_jailcheck_device_ok(sx->stx_rdev_major, sx->stx_rdev_minor))) {
        snprintf(fix, sizeof fix, "rm %s", hp);
        emit(c, VH_SEV_ERROR, "device", hp, fix,
             "%s device %u:%u: only null, zero, full, random, urandom and tty belong in a jail",
             S_ISBLK(mode) ? "block" : "character", sx->stx_rdev_major, sx->stx_rdev_minor);
    }
    /* sql/008: a read-only bind stops no FIFO and no socket (the kernel
     * checks it only for files, directories and symlinks). In a base's
     * bound directories one is a single object in every jail of the
     * base: a channel from one tenant to another. */
    int in_base = c->jc->base && top_is_code(c->rel) && strncmp(c->rel, "/etc", 4) != 0;
    if (in_base && (S_ISFIFO(mode) || S_ISSOCK(mode))) {
        snprintf(fix, sizeof fix, "rm %s", hp);
        emit(c, VH_SEV_ERROR, S_ISFIFO(mode) ? "fifo" : "socket", hp, fix,
             "%s in a base: every jail of the base opens the same one, read-only bind or not - a channel "
             "between tenants",
             S_ISFIFO(mode) ? "FIFO" : "socket");
    } else if (S_ISSOCK(mode)) {
        snprintf(fix, sizeof fix, "rm %s, unless the service must talk to the process behind it", hp);
        emit(c, VH_SEV_WARNING, "socket", hp, fix, "socket in the jail: a way to talk to a process outside");
    }
    /* A11: a directory on PATH that someone other than root can write
     * (not root-owned, or writable by group or others) lets that
     * someone - the run-as user, a group of it, another host user of a
     * root service's jail - put a program of its own where the service
     * and its scripts look first: an error for every kind of service.
     * (A world-writable one without sticky bit is said once, above.) */
    if (S_ISDIR(mode) && on_path(c->rel) && (sx->stx_uid != 0 || (mode & (S_IWGRP | S_IWOTH)))) {
        if (!((mode & S_IWOTH) && !(mode & S_ISVTX))) {
            snprintf(fix, sizeof fix, "chown root:root %s && chmod go-w %s", hp, hp);
            emit(c, VH_SEV_ERROR, "path-writable", hp, fix,
                 "directory on the service's PATH is writable by others than root (uid %u, gid %u, mode %04o): the "
                 "tenant could put programs of its own there",
                 (unsigned)sx->stx_uid, (unsigned)sx->stx_gid, perm);
        }
        return;
    }
    if (code && judge_code(c, sx->stx_uid, sx->stx_gid, mode, hp))
        said_before(c, makedev(sx->stx_dev_major, sx->stx_dev_minor), (ino_t)sx->stx_ino, 1);
}

/* ---- code reached by another name (issue 13 point 3) ------------- */

/* Follow path inside the jail one component at a time, as the
 * service's own lookup goes (an absolute symlink starts again at the
 * jail, ".." stops there, at most 40 symlinks), every step opened
 * below the jail without following anything (rootfd.h); judge every
 * real directory on the way and the object reached under the code
 * rules: whoever can rename one of them, or the symlink in it, can
 * swap what the service loads. What is under a standard code directory
 * is left to the deep scan when it ran (it judges each of them by its
 * real name). out (n bytes) receives the real path, "" for the jail;
 * *last the object's stat. Returns 0, or -1 with errno when the path
 * does not lead anywhere. */
static int follow_judge(struct ctx *c, const char *path, char *out, size_t n, struct stat *last)
{
    size_t cap = 2 * PATH_MAX;
    char *todo = malloc(cap), *tmp = malloc(cap), hp[2 * PATH_MAX + 16];
    int links = 0, rc = -1;
    size_t dl = 0, pos = 0;
    out[0] = '\0';
    if (!todo || !tmp || fstat(c->jailfd, last) < 0)
        goto out;
    if ((size_t)snprintf(todo, cap, "%s", path) >= cap) {
        errno = ENAMETOOLONG;
        goto out;
    }
    for (;;) {
        while (todo[pos] == '/')
            pos++;
        if (!todo[pos])
            break;
        const char *comp = todo + pos;
        size_t cl = strcspn(comp, "/"), next = pos + cl;
        pos = next;
        if (cl == 1 && comp[0] == '.')
            continue;
        if (cl == 2 && comp[0] == '.' && comp[1] == '.') {
            char *up = strrchr(out, '/');
            if (up) { /* never above the jail */
                *up = '\0';
                dl = (size_t)(up - out);
            }
            continue;
        }
        if (dl + 1 + cl >= n) {
            errno = ENAMETOOLONG;
            goto out;
        }
        out[dl] = '/';
        memcpy(out + dl + 1, comp, cl);
        out[dl + 1 + cl] = '\0';
        struct stat st;
        int fd = vh_rootfd_open_nofollow(c->jailfd, out, O_PATH | O_NOFOLLOW, 0);
        if (fd < 0)
            goto out;
        if (fstat(fd, &st) < 0) {
            close(fd);
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            char tgt[PATH_MAX];
            ssize_t tl = readlinkat(fd, "", tgt, sizeof tgt - 1);
            close(fd);
            if (tl <= 0 || ++links > 40) {
                errno = ELOOP;
                goto out;
            }
            tgt[tl] = '\0';
            out[dl] = '\0'; /* the link's directory, judged already */
            if (tgt[0] == '/')
                out[dl = 0] = '\0';
            if ((size_t)snprintf(tmp, cap, "%s/%s", tgt, todo + next) >= cap) {
                errno = ENAMETOOLONG;
                goto out;
            }
            char *t = todo;
            todo = tmp;
            tmp = t;
            pos = 0;
            continue;
        }
        close(fd);
        dl += 1 + cl;
        *last = st;
        if ((c->tree && top_is_code(out)) || said_before(c, st.st_dev, st.st_ino, 0))
            continue;
        host_path(c, out, hp, sizeof hp);
        if (judge_code(c, st.st_uid, st.st_gid, st.st_mode, hp))
            said_before(c, st.st_dev, st.st_ino, 1);
    }
    rc = 0;
out:
    free(todo);
    free(tmp);
    return rc;
}

/* The code rules over the tree below dfd (which is consumed), rel its
 * path inside the jail; never following a symlink, never leaving the
 * jail's mount (a mount point is the deep scan's error). From the jail
 * itself (a code link to "/"), the standard code directories are
 * skipped: the deep scan judged them. */
static void code_scan(struct ctx *c, int dfd, char *rel, size_t rlen, int depth)
{
    DIR *d = fdopendir(dfd);
    char hp[2 * PATH_MAX + 16];
    if (!d) {
        close(dfd);
        return; /* the deep scan reports unreadable directories */
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        size_t nl = strlen(name);
        if (rlen + 1 + nl >= 2 * PATH_MAX)
            continue;
        rel[rlen] = '/';
        memcpy(rel + rlen + 1, name, nl + 1);
        struct statx sx;
        if ((rlen == 0 && top_is_code(rel)) || statx(dirfd(d), name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                                                     STATX_BASIC_STATS | (c->have_mnt ? STATX_MNT_ID : 0), &sx) < 0)
            goto next;
        int other = c->have_mnt && (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id != c->mnt_id
                                                                : makedev(sx.stx_dev_major, sx.stx_dev_minor) != c->dev;
        if (other || (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
            goto next;
        dev_t dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
        if (!said_before(c, dev, (ino_t)sx.stx_ino, 0)) {
            host_path(c, rel, hp, sizeof hp);
            if (judge_code(c, sx.stx_uid, sx.stx_gid, sx.stx_mode, hp))
                said_before(c, dev, (ino_t)sx.stx_ino, 1);
        }
        if (S_ISDIR(sx.stx_mode) && depth + 1 < VH_JAILCHECK_MAX_DEPTH) {
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                code_scan(c, sub, rel, rlen + 1 + nl, depth + 1);
        }
    next:
        rel[rlen] = '\0';
    }
    closedir(d);
}

/* A code directory of the jail's top that is a symlink (lib64 ->
 * data/lib64; bin -> usr/bin on merged-/usr systems): what the service
 * and its dynamic linker load through it is its target, resolved inside
 * the jail as they resolve it. The target, the directories on the way
 * and the tree below it are judged as code; a target that is itself a
 * standard code directory is walked by the deep scan already. A
 * dangling link loads nothing. */
static void code_link(struct ctx *c, const char *rel)
{
    char hp[2 * PATH_MAX + 16];
    char *target = malloc(2 * PATH_MAX);
    struct stat st;
    if (!target || follow_judge(c, rel, target, 2 * PATH_MAX, &st) < 0) {
        if (target && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
            goto out;
        host_path(c, rel, hp, sizeof hp);
        emit(c, VH_SEV_ERROR, "unreadable", hp, "check the symlink and its target",
             "cannot follow the symlink inside the jail: %s (what it points to was not checked)", strerror(errno));
        goto out;
    }
    if ((target[0] && top_is_code(target)) || !S_ISDIR(st.st_mode))
        goto out;
    int dfd = vh_rootfd_open_nofollow(c->jailfd, target, O_RDONLY | O_DIRECTORY, 0);
    if (dfd >= 0)
        code_scan(c, dfd, target, strlen(target), 0);
out:
    free(target);
}

static void scan_dir(struct ctx *c, int dfd, int depth, int code)
{
    DIR *d = fdopendir(dfd);
    char *hp = c->hp;
    if (!d) {
        host_path(c, c->rel, hp, sizeof c->hp);
        emit(c, VH_SEV_ERROR, "unreadable", hp, "make it readable by root, or remove it",
             "cannot read directory: %s (its content was not checked)", strerror(errno));
        close(dfd);
        return;
    }
    size_t base = c->rlen;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        size_t nl = strlen(name);
        if (base + 1 + nl >= sizeof c->rel) {
            host_path(c, c->rel, hp, sizeof c->hp);
            emit(c, VH_SEV_ERROR, "too-deep", hp, "flatten the tree",
                 "a path below this directory is longer than %zu bytes", sizeof c->rel);
            continue;
        }
        c->rel[base] = '/';
        memcpy(c->rel + base + 1, name, nl + 1);
        c->rlen = base + 1 + nl;
        c->jc->entries++;
        int sub_code = depth == 0 ? top_is_code(c->rel) : code;

        struct statx sx;
        if (statx(dirfd(d), name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_BASIC_STATS | (c->have_mnt ? STATX_MNT_ID : 0), &sx) < 0) {
            host_path(c, c->rel, hp, sizeof c->hp);
            emit(c, VH_SEV_ERROR, "unreadable", hp, "check the file system", "cannot stat: %s", strerror(errno));
            goto next;
        }
        /* A mount below ROOT (A4, A12): a way out, or procfs/sysfs. The
         * mount id catches bind mounts of the same file system too. */
        int other = c->have_mnt && (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id != c->mnt_id
                                                                : makedev(sx.stx_dev_major, sx.stx_dev_minor) != c->dev;
        if (other || (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
            host_path(c, c->rel, hp, sizeof c->hp);
            char fix[4 * PATH_MAX];
            snprintf(fix, sizeof fix, "umount %s (and remove it from fstab or the unit that mounts it)", hp);
            emit(c, VH_SEV_ERROR, "mount-point", hp, fix,
                 "a file system is mounted here (device %u:%u): a way out of the jail (procfs, sysfs, a bind "
                 "mount); its content was not checked",
                 sx.stx_dev_major, sx.stx_dev_minor);
            goto next;
        }
        check_entry(c, dirfd(d), name, &sx, sub_code);
        if (depth == 0 && sub_code && S_ISLNK(sx.stx_mode))
            code_link(c, c->rel);
        if (S_ISDIR(sx.stx_mode)) {
            if (depth + 1 >= VH_JAILCHECK_MAX_DEPTH) {
                host_path(c, c->rel, hp, sizeof c->hp);
                emit(c, VH_SEV_ERROR, "too-deep", hp, "flatten the tree",
                     "directories nest deeper than %d levels here; their content was not checked",
                     VH_JAILCHECK_MAX_DEPTH);
                goto next;
            }
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                host_path(c, c->rel, hp, sizeof c->hp);
                emit(c, VH_SEV_ERROR, "unreadable", hp, "make it readable by root, or remove it",
                     "cannot open directory: %s (its content was not checked)", strerror(errno));
                goto next;
            }
            scan_dir(c, sub, depth + 1, sub_code);
        }
    next:
        c->rel[base] = '\0';
        c->rlen = base;
        errno = 0;
    }
    if (errno) {
        host_path(c, c->rel, hp, sizeof c->hp);
        emit(c, VH_SEV_ERROR, "unreadable", hp, "check the file system", "reading the directory failed: %s",
             strerror(errno));
    }
    closedir(d);
}

static void check_tree(struct ctx *c, int jailfd)
{
    int fd = openat(jailfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        emit(c, VH_SEV_ERROR, "unreadable", c->root, "make it readable by root", "cannot open the jail: %s",
             strerror(errno));
        return;
    }
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0) {
        emit(c, VH_SEV_ERROR, "unreadable", c->root, "check the file system", "cannot stat the jail: %s",
             strerror(errno));
        close(fd);
        return;
    }
    c->have_mnt = (sx.stx_mask & STATX_MNT_ID) != 0;
    c->mnt_id = sx.stx_mnt_id;
    c->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    c->rel[0] = '\0';
    c->rlen = 0;
    c->tree = 1;
    scan_dir(c, fd, 0, 0);

    for (size_t i = 0; i < c->caplinks; i++) {
        struct link *l = &c->links[i];
        if (!l->path)
            continue;
        if (l->found < l->nlink) {
            char fix[4 * PATH_MAX];
            snprintf(fix, sizeof fix, "replace it with a copy of its own: cp -p %s %s.new && mv %s.new %s", l->path,
                     l->path, l->path, l->path);
            emit(c, VH_SEV_ERROR, "hard-link", l->path, fix,
                 "file has %lu links but only %lu inside the jail: it is shared with a file outside",
                 (unsigned long)l->nlink, (unsigned long)l->found);
        }
        free(l->path);
    }
    free(c->links);
    c->links = NULL;
    c->caplinks = c->nlinks = 0;
    if (c->links_oom)
        emit(c, VH_SEV_ERROR, "unreadable", c->root, "retry with more memory",
             "out of memory while counting hard links: some were not checked");
}

/* ---- the locale (issue 13 point 4) --------------------------------- */

static int exists_below(void *ctx, const char *path, int want_dir)
{
    int fd = vh_rootfd_open(*(const int *)ctx, path, O_PATH, 0);
    if (fd < 0)
        return 0;
    struct stat st;
    int ok = fstat(fd, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    close(fd);
    return ok;
}

/* The super-server's environment is not known here; the host's default
 * locale (what systemd and init scripts give it) is the likely one.
 * The same rule as virtuald's (env.h), asked inside the jail. */
static void check_locale(struct ctx *c, int jailfd)
{
    const char *lang = c->more.host_lang;
    if (!lang || !*lang || vh_env_locale_present(lang, exists_below, &jailfd))
        return;
    char hp[2 * PATH_MAX + 16], fix[6 * PATH_MAX + 256];
    host_path(c, VH_LOCALE_DIR, hp, sizeof hp);
    snprintf(fix, sizeof fix,
             "copy the locale into the jail (mkdir -p %s && cp -a " VH_LOCALE_DIR "/NAME %s/, NAME as in locale -a), "
             "or let the service run in C",
             hp, hp);
    emit(c, VH_SEV_WARNING, "locale-missing", hp, fix,
         "the host's default locale %s is not in the jail: a super-server started with LANG=%s passes the service "
         "LANG=C instead (virtuald(8) ENVIRONMENT)",
         lang, lang);
}

/* ---- programs ----------------------------------------------------- */

struct prog {
    struct ctx *c;
    const char *name;
    char hint[PATH_MAX];
    char outside[PATH_MAX]; /* a bare name found on the host only outside VH_SAFE_PATH */
};

static const char *dep_kind_word(enum vh_dep_kind k)
{
    switch (k) {
    case VH_DEP_PROGRAM: return "program";
    case VH_DEP_SCRIPT:
    case VH_DEP_INTERP: return "interpreter";
    case VH_DEP_LIBRARY: return "library";
    }
    return "program";
}

static int dep_finding(void *ctx, const vh_dep *d)
{
    struct prog *p = ctx;
    struct ctx *c = p->c;
    char hp[2 * PATH_MAX + 16], kind[32], fix[8 * PATH_MAX];
    snprintf(fix, sizeof fix, "vhostctl provision %s --program %s", c->root, p->hint);
    if (!d->path && d->kind == VH_DEP_PROGRAM && !d->by && p->outside[0])
        snprintf(fix, sizeof fix,
                 "%s is %s on the host, outside the service's PATH (" VH_SAFE_PATH "): start the service as %s "
                 "in the super-server's line, then vhostctl provision %s --program %s and check --program %s",
                 p->name, p->outside, p->outside, c->root, p->outside, p->outside);
    if (!d->path) {
        snprintf(kind, sizeof kind, "missing-%s", dep_kind_word(d->kind));
        host_path(c, d->name[0] == '/' ? d->name : d->by ? d->by : "", hp, sizeof hp);
        if (d->by)
            emit(c, VH_SEV_ERROR, kind, hp, fix, "%s %s needed by %s %s in the jail", vh_deps_kind_name(d->kind),
                 d->name, d->by, d->problem);
        else
            emit(c, VH_SEV_ERROR, kind, hp, fix, "%s %s %s in the jail", vh_deps_kind_name(d->kind), d->name,
                 d->problem);
        return 0;
    }
    host_path(c, d->path, hp, sizeof hp);
    if (d->problem) {
        snprintf(kind, sizeof kind, "bad-%s", dep_kind_word(d->kind));
        if (strstr(d->problem, "executable") || strstr(d->problem, "readable"))
            snprintf(fix, sizeof fix, "chmod a+rx %s", hp);
        emit(c, VH_SEV_ERROR, kind, hp, fix, "%s %s%s%s %s", vh_deps_kind_name(d->kind), d->path,
             d->by ? " needed by " : "", d->by ? d->by : "", d->problem);
        return 0;
    }
    /* Found, for a root service: owned by a tenant, or (shared jail)
     * writable by group or others, wherever it is in the jail and
     * whatever the name it was found by (issue 13 point 3). Judged
     * where it really is, with the directories above it. */
    if (!c->credp) {
        char real[2 * PATH_MAX];
        struct stat st;
        if (follow_judge(c, d->path, real, sizeof real, &st) < 0)
            emit(c, VH_SEV_ERROR, "unreadable", hp, "check the file and the directories above it",
                 "cannot follow %s %s inside the jail again: %s (its owner was not checked)",
                 vh_deps_kind_name(d->kind), d->path, strerror(errno));
        return 0;
    }
    /* Found: could the service rewrite it? Objects in the standard code
     * directories are seen by the deep scan already. */
    if (d->st && !(c->jc->deep && top_is_code(d->path))) {
        const char *why = runas_can_change(c, d->st->st_uid, d->st->st_gid, d->st->st_mode);
        if (why) {
            snprintf(fix, sizeof fix, "chown root:root %s && chmod go-w %s", hp, hp);
            emit(c, VH_SEV_WARNING, "runas-writable", hp, fix,
                 "%s %s (uid %u, mode %04o): the service could change its own code", vh_deps_kind_name(d->kind), why,
                 (unsigned)d->st->st_uid, (unsigned)(d->st->st_mode & 07777));
        }
    }
    return 0;
}

/* The host path an operator would give to provision: the name itself
 * when absolute, else its first match along virtuald's PATH on the host
 * (VH_SAFE_PATH: where the service's bare NAME is looked up in the
 * jail). Only there: a copy provisioned from /usr/sbin lands in the
 * jail's /usr/sbin, where the service's PATH never finds it (issue 13
 * point 6); *outside is then set to that host path. */
static void program_hint(const char *name, char *out, size_t n, char *outside, size_t on)
{
    outside[0] = '\0';
    if (name[0] == '/') {
        snprintf(out, n, "%s", name);
        return;
    }
    char p[PATH_MAX];
    for (const char *d = VH_SAFE_PATH; *d;) {
        size_t len = strcspn(d, ":");
        snprintf(p, sizeof p, "%.*s/%s", (int)len, d, name);
        if (len && access(p, X_OK) == 0) {
            snprintf(out, n, "%s", p);
            return;
        }
        d += len + (d[len] == ':');
    }
    const char *sbin[] = {"/usr/local/sbin", "/usr/sbin", "/sbin"};
    for (size_t i = 0; i < sizeof sbin / sizeof sbin[0] && !outside[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", sbin[i], name);
        if (access(p, X_OK) == 0)
            snprintf(outside, on, "%s", p);
    }
    snprintf(out, n, "\"$(command -v %s)\"", name);
}

static void check_programs(struct ctx *c, int jailfd)
{
    vh_deps_opts o = {c->credp, NULL, 0};
    for (int i = 0; i < c->jc->nprograms; i++) {
        struct prog p = {c, c->jc->programs[i], "", ""};
        program_hint(p.name, p.hint, sizeof p.hint, p.outside, sizeof p.outside);
        vh_err e;
        if (vh_deps_walk(jailfd, p.name, &o, dep_finding, &p, &e) < 0)
            emit(c, VH_SEV_ERROR, "unreadable", c->root, "see the message", "checking program %s failed: %s", p.name,
                 e.msg);
    }
}

int vh_jailcheck_run(vh_jailcheck *jc, vh_finding_cb cb, void *cbctx)
{
    return vh_jailcheck_run_more(jc, NULL, cb, cbctx);
}

int vh_jailcheck_run_more(vh_jailcheck *jc, const vh_jailcheck_more *more, vh_finding_cb cb, void *cbctx)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (!c) {
        vh_finding f = {jc->domain, VH_SEV_ERROR, "unreadable", jc->row->root, "out of memory", "retry"};
        cb(cbctx, &f);
        return VH_SEV_ERROR;
    }
    c->jc = jc;
    if (more)
        c->more = *more;
    c->cb = cb;
    c->cbctx = cbctx;
    c->root = jc->row->root;
    jc->entries = 0;
    if (jc->row->has_user) {
        c->cred.uid = jc->row->uid;
        c->cred.gid = jc->row->gid;
        c->cred.groups = jc->row->groups;
        c->cred.ngroups = jc->row->ngroups;
        c->credp = &c->cred;
    }
    if (jc->identity)
        check_identity(c);
    int slash = strcmp(c->root, "/") == 0;
    const vh_row *r = jc->row;
    char fix[4 * PATH_MAX + 512];
    if (r->unjailed == 1) {
        /* issue 13: accepted on purpose, said every time */
        snprintf(fix, sizeof fix,
                 "give the domain a jail of its own (vhostctl provision; vhostctl set %s %s --root DIR), or keep it "
                 "so on purpose",
                 r->service, r->address);
        emit(c, VH_SEV_WARNING, "unjailed", c->root, fix,
             "the operator marked this root as no jail (--unjailed): the service runs on the host's file system "
             "there, and virtuald skips the set-uid exposure check (THREATS K7)");
    } else if (slash) {
        /* a row from before issue 13: virtuald refuses it */
        snprintf(fix, sizeof fix,
                 "give the domain a jail (vhostctl set %s %s --root DIR), or run it without one on purpose "
                 "(vhostctl set %s %s --unjailed on)",
                 r->service, r->address, r->service, r->address);
        emit(c, VH_SEV_ERROR, "root-is-slash", "/", fix,
             "the jail is the host's root directory: no isolation at all, and virtuald refuses the domain; the deep "
             "scan is skipped");
    }
    int fd = check_path(c);
    c->jailfd = fd;
    /* a domain's row (check, add), not a directory provision builds nor
     * a base alone: whether a root service will use it is the row's */
    if (fd >= 0 && jc->identity && vh_row_userns(r))
        check_idmap(c, fd);
    if (fd >= 0) {
        if (jc->deep && !slash && r->unjailed != 1)
            check_tree(c, fd);
        check_programs(c, fd);
        if (!slash)
            check_locale(c, fd);
        close(fd);
    }
    int worst = c->worst;
    free(c->said);
    free(c);
    return worst;
}
