#include "path.h"

#include "exitcodes.h"
#include "valid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int vh_path_is_scratch(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && (st->st_mode & S_IWOTH);
}

/* Ownership and mode rule for one component. Returns the problem bits
 * and writes the first message into msg. */
int vh_path_judge(const char *path, const struct stat *st, char *msg, size_t n)
{
    char shown[PATH_MAX + 64];
    int bits = 0;
    vh_printable(path, shown, sizeof shown);
    msg[0] = '\0';
    if (st->st_uid == 0 && vh_path_is_scratch(st)) {
        snprintf(msg, n,
                 "%s is a shared scratch directory (mode %04o: sticky, writable by every user): every user can "
                 "create names in it before root does - move what is below it to a directory only root can write, such "
                 "as /srv or /var/lib",
                 shown, (unsigned)(st->st_mode & 07777));
        return (st->st_mode & S_IWGRP ? VH_PATH_GROUPW : 0) | VH_PATH_OTHERW;
    }
    if (st->st_uid != 0) {
        bits |= VH_PATH_OWNER;
        snprintf(msg, n, "%s is owned by uid %u, should be uid 0 - chown root %s", shown, (unsigned)st->st_uid, shown);
    }
    if (st->st_mode & S_IWGRP) {
        if (!bits)
            snprintf(msg, n, "%s is writable by group (gid %u, mode %04o) - chmod g-w %s", shown, (unsigned)st->st_gid,
                     (unsigned)(st->st_mode & 07777), shown);
        bits |= VH_PATH_GROUPW;
    }
    if (st->st_mode & S_IWOTH) {
        if (!bits)
            snprintf(msg, n, "%s is writable by others (mode %04o) - chmod o-w %s", shown,
                     (unsigned)(st->st_mode & 07777), shown);
        bits |= VH_PATH_OTHERW;
    }
    return bits;
}

static void report(vh_path_cb cb, void *ctx, int bits, const char *path, const struct stat *st, const char *msg)
{
    if (cb)
        cb(ctx, bits, path, st, msg);
}

/* May others search this ancestor? Root's group is root's own. */
static int hides(const struct stat *st)
{
    return st->st_uid == 0 && !(st->st_mode & S_IXOTH) && (!(st->st_mode & S_IXGRP) || st->st_gid == 0);
}

/* K7: the last component, reached and trusted so far, hidden by no
 * ancestor: is set-uid honoured on its file system? */
static int exposed(int fd, const char *path, const char *shown, vh_path_cb cb, void *ctx, const struct stat *st)
{
    struct statvfs sv;
    char msg[3 * PATH_MAX + 400], parent[PATH_MAX];
    if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOSUID))
        return 0;
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, "/");
    char pshown[PATH_MAX + 64];
    vh_printable(parent, pshown, sizeof pshown);
    /* never "chmod o-x /tmp" (issue 13 point 6) */
    struct stat pst;
    if (stat(parent, &pst) == 0 && vh_path_is_scratch(&pst))
        snprintf(msg, sizeof msg,
                 "%s is reachable by every host user and its file system honours set-uid: a set-uid file a root "
                 "service plants there runs as root for anyone - move it out of the shared scratch directory %s, "
                 "below a directory others cannot search (0750 or 0700 root)",
                 shown, pshown);
    else
        snprintf(
            msg, sizeof msg,
            "%s is reachable by every host user and its file system honours set-uid: a set-uid file a root service "
            "plants there runs as root for anyone - chmod o-x %s (the jails' parent: 0750 or 0700 root), or mount "
            "the jails' file system with nosuid",
            shown, pshown);
    report(cb, ctx, VH_PATH_EXPOSED, path, st, msg);
    return VH_PATH_EXPOSED;
}

int vh_path_walk(const char *path, enum vh_path_want want, vh_path_cb cb, void *ctx, int *fd_out, struct stat *st_out)
{
    return vh_path_walk_flags(path, want, 0, cb, ctx, fd_out, st_out);
}

int vh_path_walk_flags(const char *path, enum vh_path_want want, unsigned flags, vh_path_cb cb, void *ctx, int *fd_out,
                       struct stat *st_out)
{
    int hidden = 0; /* some ancestor others cannot search (K7) */
    char so_far[PATH_MAX];
    char msg[2 * PATH_MAX + 160];
    char shown[PATH_MAX + 64];
    struct stat st;
    int found = 0;
    vh_err e;

    if (fd_out)
        *fd_out = -1;
    if (vh_valid_path(path, &e) < 0) {
        report(cb, ctx, VH_PATH_INVALID, path, NULL, e.msg);
        return VH_PATH_INVALID;
    }
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(msg, sizeof msg, "cannot open /: %s", strerror(errno));
        report(cb, ctx, VH_PATH_IO, "/", NULL, msg);
        if (fd >= 0)
            close(fd);
        return VH_PATH_IO;
    }
    strcpy(so_far, "/");
    hidden = hides(&st);
    int bits = vh_path_judge("/", &st, msg, sizeof msg);
    if (bits) {
        found |= bits;
        report(cb, ctx, bits, "/", &st, msg);
    }

    const char *c = path + 1;
    size_t used = 0; /* length of so_far without the leading "/" handling */
    while (*c) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        char name[NAME_MAX + 1];
        if (n > NAME_MAX) {
            snprintf(msg, sizeof msg, "a component of %s is longer than %d bytes", path, NAME_MAX);
            report(cb, ctx, VH_PATH_INVALID, path, NULL, msg);
            found |= VH_PATH_INVALID;
            goto fail;
        }
        memcpy(name, c, n);
        name[n] = '\0';
        if (used == 0)
            used = (size_t)snprintf(so_far, sizeof so_far, "/%s", name);
        else
            used += (size_t)snprintf(so_far + used, sizeof so_far - used, "/%s", name);
        vh_printable(so_far, shown, sizeof shown);

        int last = end == NULL;
        int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int err = errno;
            if (err == ENOENT) {
                snprintf(msg, sizeof msg, "%s does not exist - create it (root-owned, mode 0755)%s", shown,
                         last ? "" : " or fix the path");
                found |= VH_PATH_MISSING;
                report(cb, ctx, VH_PATH_MISSING, so_far, NULL, msg);
            } else if (err == ENOTDIR) {
                snprintf(msg, sizeof msg, "a parent of %s is not a directory - fix the path", shown);
                found |= VH_PATH_NOTDIR;
                report(cb, ctx, VH_PATH_NOTDIR, so_far, NULL, msg);
            } else {
                snprintf(msg, sizeof msg, "cannot open %s: %s", shown, strerror(err));
                found |= VH_PATH_IO;
                report(cb, ctx, VH_PATH_IO, so_far, NULL, msg);
            }
            goto fail;
        }
        close(fd);
        fd = next;
        if (fstat(fd, &st) < 0) {
            snprintf(msg, sizeof msg, "cannot stat %s: %s", shown, strerror(errno));
            found |= VH_PATH_IO;
            report(cb, ctx, VH_PATH_IO, so_far, NULL, msg);
            goto fail;
        }
        if (S_ISLNK(st.st_mode)) {
            snprintf(msg, sizeof msg,
                     "%s is a symbolic link - use the real path it points to, with no symlink on the way", shown);
            found |= VH_PATH_SYMLINK;
            report(cb, ctx, VH_PATH_SYMLINK, so_far, &st, msg);
            goto fail;
        }
        if (!last || want == VH_WANT_DIR) {
            if (!S_ISDIR(st.st_mode)) {
                snprintf(msg, sizeof msg, "%s is not a directory - %s", shown,
                         last ? "give a directory" : "fix the path");
                found |= VH_PATH_NOTDIR;
                report(cb, ctx, VH_PATH_NOTDIR, so_far, &st, msg);
                goto fail;
            }
        } else if (!S_ISREG(st.st_mode)) {
            snprintf(msg, sizeof msg, "%s is not a regular file", shown);
            found |= VH_PATH_NOTREG;
            report(cb, ctx, VH_PATH_NOTREG, so_far, &st, msg);
            goto fail;
        }
        bits = vh_path_judge(so_far, &st, msg, sizeof msg);
        if (bits) {
            found |= bits;
            report(cb, ctx, bits, so_far, &st, msg);
        }
        if (last)
            break;
        hidden |= hides(&st);
        c = end + 1;
    }
    if ((flags & VH_PATH_CHECK_EXPOSED) && !hidden && strcmp(path, "/") != 0)
        found |= exposed(fd, so_far, shown, cb, ctx, &st);
    if (found)
        goto fail;
    if (st_out)
        *st_out = st;
    if (fd_out)
        *fd_out = fd;
    else
        close(fd);
    return 0;
fail:
    close(fd);
    return found;
}

struct first {
    char msg[sizeof(((vh_err *)0)->msg)];
    int seen;
};

static void keep_first(void *ctx, int problem, const char *path, const struct stat *st, const char *msg)
{
    (void)problem;
    (void)path;
    (void)st;
    struct first *f = ctx;
    if (!f->seen++)
        snprintf(f->msg, sizeof f->msg, "%s", msg);
}

int vh_path_trust(const char *path, enum vh_path_want want, int code, int *fd_out, struct stat *st_out, vh_err *e)
{
    return vh_path_trust_flags(path, want, 0, code, fd_out, st_out, e);
}

int vh_path_trust_flags(const char *path, enum vh_path_want want, unsigned flags, int code, int *fd_out,
                        struct stat *st_out, vh_err *e)
{
    struct first f = {.seen = 0};
    if (vh_path_walk_flags(path, want, flags, keep_first, &f, fd_out, st_out) == 0)
        return 0;
    return vh_fail(e, code, "%s", f.msg);
}

int vh_path_ancestors_hide(const char *path)
{
    if (path[0] != '/')
        return 0;
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return 0;
    int hidden = fstat(fd, &st) == 0 && hides(&st);
    const char *c = path + 1;
    for (;;) {
        const char *end = strchr(c, '/');
        if (!end || hidden) /* the last component is the jail itself */
            break;
        size_t n = (size_t)(end - c);
        char name[NAME_MAX + 1];
        if (n == 0 || n > NAME_MAX)
            break;
        memcpy(name, c, n);
        name[n] = '\0';
        int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        if (fd < 0 || fstat(fd, &st) < 0)
            break;
        hidden = S_ISDIR(st.st_mode) && hides(&st);
        c = end + 1;
    }
    if (fd >= 0)
        close(fd);
    return hidden;
}

int vh_path_nosuid(const char *path)
{
    struct statvfs sv;
    return statvfs(path, &sv) == 0 && (sv.f_flag & ST_NOSUID);
}
