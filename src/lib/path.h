/* path.h - the one path-safety checker, shared by virtuald (database
 * trust, jail entry) and vhostctl (add, check).
 *
 * A path is trusted when every component from "/" down is reached without
 * following a symlink, owned by root and not writable by group or others
 * (OpenSSH's ChrootDirectory and StrictModes rule, THREATS A8, A11, E1-E5).
 * The walk opens each component with O_PATH|O_NOFOLLOW relative to its
 * parent's descriptor, so what is checked is what the caller then uses:
 * nobody can swap a component between check and use (A9). */
#ifndef VH_PATH_H
#define VH_PATH_H

#include "vherr.h"

#include <sys/stat.h>

enum vh_path_want { VH_WANT_DIR, VH_WANT_FILE };

/* One bit per kind of finding (jailkit's bitmask idea). */
enum vh_path_problem {
    VH_PATH_MISSING = 1 << 0, /* a component does not exist */
    VH_PATH_SYMLINK = 1 << 1, /* a component is a symlink */
    VH_PATH_NOTDIR = 1 << 2,  /* a parent, or a wanted directory, is no directory */
    VH_PATH_NOTREG = 1 << 3,  /* a wanted file is not a regular file */
    VH_PATH_OWNER = 1 << 4,   /* not owned by root */
    VH_PATH_GROUPW = 1 << 5,  /* writable by group */
    VH_PATH_OTHERW = 1 << 6,  /* writable by others (sticky or not) */
    VH_PATH_IO = 1 << 7,      /* open/stat failed otherwise */
    VH_PATH_INVALID = 1 << 8, /* not an absolute normalised path */
    VH_PATH_EXPOSED = 1 << 9, /* host users reach it and set-uid works there (K7) */
};

/* Flags of vh_path_walk_flags. */
enum vh_path_flag {
    /* THREATS K7: a root service can plant a set-uid-root file in its
     * jail; a host user must not be able to run it. Require the last
     * component to be on a nosuid file system, or some ancestor to be a
     * directory others cannot search: owned by root, without o+x, and
     * without g+x unless its group is root's (the service itself never
     * walks the ancestors: it enters the jail by descriptor). Costs one
     * fstatvfs, and only when no ancestor hides the jail. */
    VH_PATH_CHECK_EXPOSED = 1 << 0,
};

/* Called once per finding; path is the component's full path so far, msg
 * names the fault and the fix. st is NULL when nothing could be stat'ed. */
typedef void (*vh_path_cb)(void *ctx, int problem, const char *path, const struct stat *st, const char *msg);

/* Walk path (absolute, normalised) and report every finding through cb
 * (may be NULL). Ownership findings do not stop the walk; a missing
 * component, a symlink or a non-directory parent do. Returns the bitwise
 * OR of the findings, 0 when the path is trusted. When the result is 0
 * and fd_out is not NULL, *fd_out is an O_PATH descriptor of the last
 * component (close-on-exec; the caller closes it) and *st_out its stat. */
int vh_path_walk(const char *path, enum vh_path_want want, vh_path_cb cb, void *ctx, int *fd_out, struct stat *st_out);

/* vh_path_walk with flags (enum vh_path_flag); vh_path_walk is this
 * with 0. VH_PATH_EXPOSED is reported after the walk, with the
 * ownership findings (it does not stop the walk, and the descriptor is
 * not returned when it is found). */
int vh_path_walk_flags(const char *path, enum vh_path_want want, unsigned flags, vh_path_cb cb, void *ctx, int *fd_out,
                       struct stat *st_out);

/* vh_path_walk, stopping at the first finding: returns 0, or -1 with e
 * filled with code and the finding's message. */
int vh_path_trust(const char *path, enum vh_path_want want, int code, int *fd_out, struct stat *st_out, vh_err *e);

/* vh_path_trust with flags (enum vh_path_flag): what virtuald calls to
 * refuse an exposed jail at run time (VH_PATH_CHECK_EXPOSED). */
int vh_path_trust_flags(const char *path, enum vh_path_want want, unsigned flags, int code, int *fd_out,
                        struct stat *st_out, vh_err *e);

/* K7 in pieces, for writers of many rows that cache the answer per
 * parent directory (import): 1 when some ancestor of path (not path
 * itself) is a directory others cannot search (see
 * VH_PATH_CHECK_EXPOSED), else 0 (also when an ancestor cannot be
 * opened: then nothing hides it). */
int vh_path_ancestors_hide(const char *path);

/* 1 when path's file system is mounted nosuid, else 0. */
int vh_path_nosuid(const char *path);

/* The message for a finding on one stat'ed object, as vh_path_walk gives
 * it: used by checks of objects outside a walk (database sidecars). */
int vh_path_judge(const char *path, const struct stat *st, char *msg, size_t n);

/* A shared scratch directory such as /tmp, /var/tmp or /dev/shm: a
 * directory with the sticky bit that others may write. It is refused
 * as an ancestor like any writable one, but the remedy is to move what
 * is below it, never to chmod it (issue 13 point 6). */
int vh_path_is_scratch(const struct stat *st);

#endif
