/* deps.h - what a program needs to start: itself, a script's
 * interpreter, its ELF interpreter and every library, followed
 * recursively, found the way the dynamic linker would find them inside
 * a root (a jail, or "/" for the host). Read from the ELF headers
 * (elfread.h), never by running anything.
 *
 * Library search for a DT_NEEDED name without '/', needed by object O:
 * O's DT_RPATH (only when O has no DT_RUNPATH), the program's DT_RPATH
 * (only when the program has no DT_RUNPATH), O's DT_RUNPATH ($ORIGIN and
 * ${ORIGIN} expand to O's directory; elements with other $TOKENs are
 * skipped), then the standard directories /lib/TRIPLE, /usr/lib/TRIPLE,
 * /lib, /usr/lib, /lib64, /usr/lib64 (TRIPLE from O's machine), then
 * the caller's extra directories. A candidate of another ELF class or
 * machine is skipped, as ld.so skips it. No ld.so.cache is read: a jail
 * has none unless someone put one there. */
#ifndef VH_DEPS_H
#define VH_DEPS_H

#include "vherr.h"

#include <stdint.h>
#include <sys/stat.h>

enum vh_dep_kind {
    VH_DEP_PROGRAM, /* the program itself */
    VH_DEP_SCRIPT,  /* the interpreter named by a #! line */
    VH_DEP_INTERP,  /* the ELF interpreter (PT_INTERP) */
    VH_DEP_LIBRARY, /* a DT_NEEDED library */
};

const char *vh_deps_kind_name(enum vh_dep_kind k);

typedef struct vh_dep {
    enum vh_dep_kind kind;
    const char *name;      /* what was asked for: program name, #! or PT_INTERP path, DT_NEEDED */
    const char *path;      /* where it was found inside the root, as named by the search; NULL when missing */
    const char *by;        /* the object that asked for it; NULL for the program */
    int fd;                /* read-only fd on the found file (valid during the call), or -1 */
    const struct stat *st; /* its stat, or NULL */
    int extra;             /* found in one of the caller's extra directories */
    const char *problem;   /* NULL: found and usable; else what is wrong, one phrase */
} vh_dep;

/* Return non-zero to stop the walk. */
typedef int (*vh_dep_cb)(void *ctx, const vh_dep *d);

/* Who will run the program: permission checks are made for this
 * identity (NULL: root, which needs one x bit to execute). */
typedef struct vh_cred {
    uint32_t uid, gid;
    const uint32_t *groups;
    int ngroups;
} vh_cred;

typedef struct vh_deps_opts {
    const vh_cred *cred;           /* NULL: root */
    const char *const *extra_dirs; /* searched after the standard ones; may be NULL */
    int nextra;
} vh_deps_opts;

/* Walk program (absolute path, or a bare name searched in VH_SAFE_PATH
 * like execvp) inside rootfd. Every object is reported once through cb,
 * found or not; a missing object is reported once per name. Returns 0
 * (problems go to cb), or -1 with e when the walk itself failed (out of
 * memory, no openat2). */
int vh_deps_walk(int rootfd, const char *program, const vh_deps_opts *o, vh_dep_cb cb, void *ctx, vh_err *e);

/* The same for a module a program loads at run time (dlopen: a PAM or
 * NSS module, a gconv module, a library given to provision --file)
 * rather than a program: path is absolute, reported as a VH_DEP_LIBRARY
 * with no "by" (an ELF file readable by cred; no x bit needed), then its
 * libraries are followed as a program's. */
int vh_deps_walk_module(int rootfd, const char *path, const vh_deps_opts *o, vh_dep_cb cb, void *ctx, vh_err *e);

/* Is gid cred's primary or one of its supplementary groups? */
int vh_deps_cred_in_group(const vh_cred *cred, uint32_t gid);

/* May cred (NULL: root) read / execute a file with this stat? */
int vh_deps_cred_may(const vh_cred *cred, const struct stat *st, int want_exec);

#endif
