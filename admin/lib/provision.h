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
 * (virtuald sets them by number). The host's and the jail's
 * /etc/shadow are never read. What more is copied (run-time modules,
 * packages, files, a profile's accounts, directories and skeletons) is
 * in vh_prov_more below. Everything written is owned by root and not
 * writable by group or others (but a profile's directories, which get
 * the owner and mode it gives); set-uid and set-gid bits are never
 * copied; no host file that other host users cannot read is copied.
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

#include <stddef.h>
#include <stdint.h>

/* A service account a profile names (user NAME home=... shell=...),
 * resolved on the host by the caller: merged like a --user, with its
 * home and shell when the entry is new (NULL: "/" and "/nonexistent"). */
typedef struct vh_prov_account {
    const char *name, *group; /* the user and its primary group */
    uint32_t uid, gid;
    const char *home, *shell;
} vh_prov_account;

typedef struct vh_prov_group {
    const char *name;
    uint32_t gid;
} vh_prov_group;

/* A directory made when missing, with this owner and mode (at most
 * 01777: no set-uid/set-gid); an existing directory is left as it is. */
typedef struct vh_prov_dir {
    const char *path;
    unsigned mode;
    uint32_t uid, gid;
} vh_prov_dir;

/* A file written root:root with mode (at most 0755) when, and only
 * when, nothing is at path in the jail (the tenant's file is never
 * overwritten: renameat2 RENAME_NOREPLACE). */
typedef struct vh_prov_skel {
    const char *path;
    unsigned mode;
    const char *data;
    size_t len;
} vh_prov_skel;

/* Everything beyond programs and run-as users (issue 14 point 2, and
 * what a profile asks for, point 3). All paths are absolute host paths,
 * normalised; each lands at the same path in the jail.
 *
 * - files: copied as they are (host symlinks followed); an ELF file is
 *   walked as a module (its libraries follow).
 * - packages: the runtime files of installed Debian packages
 *   (dpkg-query -L): regular files under /bin /sbin /lib /lib64 /usr/bin
 *   /usr/sbin /usr/lib /usr/libexec and /etc (not init scripts, systemd
 *   units, cron, logrotate, defaults, locale data or debug symbols); an
 *   ELF program with its interpreter and libraries, an ELF object with
 *   its libraries, anything else as it is (#! interpreters are not
 *   followed: name them with a program). A host symlink whose target is a
 *   plain name (git's git-core/git-add -> git) is made as the same
 *   symlink in the jail, which cannot lead out of the directory; any
 *   other symlink is copied as the file it points to. Files under /etc
 *   are written only when absent (the tenant's config is kept).
 * - pam: PAM services whose stacks (/etc/pam.d/SERVICE, @include and
 *   include/substack followed) are written when absent and whose modules
 *   are walked. A program linking libpam adds its own name's service
 *   when /etc/pam.d has it, and "other" (PAM's fallback).
 * - gconv: copy the gconv modules even when no object imports iconv_open.
 * Always, when a program links the C library: the NSS modules the
 * host's nsswitch.conf names for passwd, group and shadow (and files),
 * a jail /etc/nsswitch.conf with those lines when it has none, and the
 * C.UTF-8 locale (/usr/lib/locale/C.utf8). */
typedef struct vh_prov_more {
    const char *const *files;
    int nfiles;
    const char *const *packages;
    int npackages;
    const char *const *pam;
    int npam;
    int gconv;
    const vh_prov_account *accounts;
    int naccounts;
    const vh_prov_group *groups;
    int ngroups;
    const vh_prov_dir *dirs;
    int ndirs;
    const vh_prov_skel *skels;
    int nskels;
} vh_prov_more;

/* A regular file provision put in the jail from a host file (written,
 * or found already as it should be), for the manifest (issue 14 point
 * 4, manifest.h). Not reported: configuration written only when the
 * jail has none (a package's or profile's /etc files, PAM stacks,
 * nsswitch.conf: the tenant's once there), symlinks, devices,
 * directories, the account files. */
typedef struct vh_prov_copied {
    const char *in;            /* its path inside the jail */
    const char *host;          /* the host file it was copied from */
    const char *kind;          /* "program", "interpreter", "library" or "file" */
    const char *source;        /* the request that brought it: "program PATH", "file PATH", "package NAME",
                                  "pam SERVICE", "nss", "locale", "gconv" */
    const unsigned char *data; /* the bytes written (valid during the call) */
    size_t len;
    unsigned mode; /* as written (0755 at most) */
} vh_prov_copied;

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
    int written, unchanged;   /* out: counts */
    const vh_prov_more *more; /* NULL: programs and users only */
    /* Called for each file of the manifest (vh_prov_copied); may be NULL. */
    void (*copied)(void *ctx, const vh_prov_copied *c);
} vh_provision;

/* Returns 0, or -1 with e naming the object and the remedy. On failure
 * what was written stays (each file complete: written then renamed). */
int vh_provision_run(vh_provision *p, vh_err *e);

/* The host's /etc/ld.so.conf directories (include lines and globs
 * followed), into dirs (each malloc'd, caller frees); returns the count,
 * at most max. A missing file gives 0. */
int vh_provision_ldconf_dirs(const char *conf, char **dirs, int max);

/* Is path a clean absolute host path (no "." or ".." component, no "//",
 * no control character, shorter than PATH_MAX)? 1 or 0. */
int vh_provision_clean_path(const char *path);

/* Why provision refuses to copy host file path with this stat into a
 * jail, or NULL: a secret (not readable by others, or /etc/shadow and
 * the like), or not a regular file. */
const char *vh_provision_refuse_host(const char *path, mode_t mode);

#endif
