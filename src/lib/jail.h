/* jail.h - entering a jail without following symlinks. */
#ifndef VH_JAIL_H
#define VH_JAIL_H

#include "row.h"
#include "vherr.h"

#include <sys/stat.h>

typedef struct vh_jail {
    const char *root; /* the row's root, validated */
    int fd;           /* O_PATH descriptor from the trusted walk */
    dev_t dev;        /* identity of the directory that was checked */
    ino_t ino;
    /* sql/008: the row's base, or NULL; checked like the jail */
    const char *base;
    int basefd; /* O_PATH descriptor from the trusted walk, -1 without a base */
    dev_t base_dev;
    ino_t base_ino;
    /* issue 11: a user namespace (userns.h) whose mapping the jail's and
     * the base's binds take (idmapped mounts); -1: plain binds. Not
     * owned: the caller closes it. */
    int idmap_fd;
} vh_jail;

/* The directories a base provides, where it has them (a directory, not
 * a symlink): its code. /etc is never among them: the tenant's
 * identities and the service's config are the jail's own. */
#define VH_BASE_DIRS                                                                                                   \
    {                                                                                                                  \
        "bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr"                                                        \
    }
#define VH_BASE_NDIRS 7

/* Walk row->root with the path checker (every component root-owned, not
 * group/other-writable, no symlink: THREATS A8, A11) and keep a
 * descriptor to it; the row's base (sql/008), when it has one, too, by
 * the same rules (K7 included). A root of "/" is refused unless the row is unjailed
 * (sql/003 section 1); so is a jail host users reach on a file system
 * that honours set-uid (K7), a check an unjailed row skips: the operator
 * chose that root on purpose. row must outlive j. Returns 0, or -1 with
 * VH_EX_OSFILE. */
int vh_jail_open(const vh_row *row, vh_jail *j, vh_err *e);

/* Every jailed row, run-as or root: a private mount namespace whose
 * root is the jail. unshare(CLONE_NEWNS | extra_ns_flags), make every
 * mount private, bind the jail on itself, walk to it again through the
 * new mount and check it is the same directory; with a base, bind each
 * directory the base provides (VH_BASE_DIRS) over the jail's directory
 * of that name, read-only, nosuid and nodev; then pivot_root into it
 * and detach the old root, so no path leads out, even through the
 * service's own chroot calls (A1), nor from a directory another service
 * of the jail passes it: a chroot (in the host's namespace or in a copy
 * of it) would leave the jail's directory on a mount the receiver's
 * root is not, and ".." from it would climb into the host's tree
 * (test_red_base_chroot.sh). Closes j->fd and j->basefd. Returns 0 or
 * -1. With rootfd not NULL, *rootfd is then an O_PATH, close-on-exec
 * descriptor of the new "/" (the jail's top; -1 for a root of "/", which
 * is no jail), for the service's Landlock rule (scope.h). With
 * j->idmap_fd >= 0 the jail's bind and the base's are idmapped mounts
 * of that user namespace's mapping (open_tree, mount_setattr,
 * move_mount): a file system without idmapped mounts refuses. */
int vh_jail_pivot(vh_jail *j, int extra_ns_flags, int *rootfd, vh_err *e);

void vh_jail_close(vh_jail *j);

/* Would the directory dirfd take an idmapped mount of user namespace
 * usernsfd's mapping, as a root service's jail must (issue 11)? A
 * detached copy of its mount gets the mapping and is dropped: nothing
 * is mounted. 0, or the errno (EINVAL: the file system takes none). */
int vh_jail_idmap_probe(int dirfd, int usernsfd);

/* Leave any outer chroot: chroot into dirfd (a directory below the
 * current root), climb ".." from the old root until it stops changing,
 * chroot there. Root and cwd are then the top of the mount namespace.
 * Returns 0 or -1 with e filled. */
int vh_jail_climb(int dirfd, vh_err *e);

/* After entering the jail ("/" is the jail): the directories on the
 * service's PATH and their parents (/bin, /sbin, /usr, /usr/bin,
 * /usr/sbin, /usr/local, /usr/local/bin), the libraries' (/lib, /lib64,
 * /usr/lib, /usr/lib64) and /etc, where present, must be owned by root
 * and not writable by group or others, or the tenant chooses what runs
 * (THREATS A11). root is the host path, for the message. Returns 0, or -1
 * with VH_EX_OSFILE. owner is root as this process sees the jail: 0, or
 * VH_USERNS_BASE through a root service's idmapped mount (userns.h),
 * where on disk it is 0 and nothing else can show as it. */
int vh_jail_check_system_dirs(const char *root, uid_t owner, vh_err *e);

/* After entering the jail: the file execvp will run for program (itself
 * when it holds a '/', else the first regular file of that name in the
 * directories of path) must be owned by root and not writable by group
 * or others (A11). No such file: 0 (execvp reports it). */
int vh_jail_check_program(const char *root, const char *program, const char *path, uid_t owner, vh_err *e);

#endif
