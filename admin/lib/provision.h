/* provision.h - build or complete a jail that works the first time
 * (jailkit's jk_init/jk_cp, for one program at a time).
 *
 * For each program: the program at its own path, its #! or ELF
 * interpreter and every library it needs, followed recursively (deps.h),
 * resolved on the host and copied as regular files under the names the
 * search found them by (host symlinks are followed to the real content;
 * a library found only through the host's /etc/ld.so.conf directories
 * goes to /usr/lib in the jail, a directory the jail's ld.so searches
 * without a cache). Plus /dev/null, /dev/zero, /dev/urandom (0666) and
 * root, each run-as user and its primary group MERGED into the jail's
 * /etc/passwd and /etc/group: entries the jail has are kept as they are
 * (other services' users), missing ones appended; the same name with
 * another id, or the same id under another name, is an error naming
 * both, and so is a line that is not a plain passwd(5)/group(5) entry
 * (empty lines and # comments are kept). Both files are read (through
 * the jail's /etc descriptor, no symlink, no FIFO or device, at most
 * 1 MiB) and merged before anything at all is written: such an error
 * leaves the jail as it was. Supplementary groups are not listed
 * (virtuald sets them by number). /etc/shadow is never touched.
 * Nothing else. Everything written is owned by root and not writable by
 * group or others; set-uid and set-gid bits are never copied.
 *
 * Safe to run on a jail whose (root) service races it (THREATS K9):
 * every directory is opened one component at a time relative to its
 * parent's descriptor, never following a symlink and never crossing a
 * mount point (either is refused, naming it and the remedy); files are
 * written into root-owned directories not writable by others only,
 * created under a temporary name with O_EXCL, given owner and mode
 * through their descriptor and renamed over the target relative to the
 * same directory descriptor, so a symlink planted anywhere is replaced,
 * never followed, and nothing outside the jail is ever changed.
 * Idempotent: a file already as it should be is not touched. */
#ifndef VH_PROVISION_H
#define VH_PROVISION_H

#include "row.h"
#include "vherr.h"

typedef struct vh_provision {
    const char *root;            /* absolute, normalised; created 0755 when missing */
    const char *const *programs; /* absolute host paths */
    int nprograms;
    const vh_row *users; /* run-as identities (rows with has_user), nusers of them */
    int nusers;
    /* Called for each change made ("created", "updated") and each file
     * left as it was ("unchanged"); may be NULL. */
    void (*note)(void *ctx, const char *what, const char *path);
    void *ctx;
    int written, unchanged; /* out: counts */
} vh_provision;

/* Returns 0, or -1 with e naming the object and the remedy. On failure
 * what was written stays (each file complete: written then renamed). */
int vh_provision_run(vh_provision *p, vh_err *e);

/* The host's /etc/ld.so.conf directories (include lines and globs
 * followed), into dirs (each malloc'd, caller frees); returns the count,
 * at most max. A missing file gives 0. */
int vh_provision_ldconf_dirs(const char *conf, char **dirs, int max);

#endif
