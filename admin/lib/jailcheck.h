/* jailcheck.h - everything `vhostctl check` verifies about a domain's
 * jail (PRODUCT §7; THREATS A4-A8, A11-A13), reported as findings.
 *
 *  - the path: vh_path_walk, the very checker virtuald runs on every
 *    connection (missing, not a directory, symlink on the way, not owned
 *    by root, writable by group or others, all the way up), and that
 *    host users cannot run a set-uid file planted in the jail (K7:
 *    nosuid, or an ancestor others cannot search);
 *  - the identity: the run-as user and group still exist on the host
 *    with the stored numbers; a root service is a warning;
 *  - the deep scan (vhostctl only, never at runtime): the tree below
 *    ROOT, walked with openat/statx, never following a symlink, never
 *    leaving ROOT's mount: mount points, world-writable directories
 *    without the sticky bit, set-uid/set-gid files, file capabilities,
 *    device nodes other than null, zero, full, random, urandom and tty,
 *    regular files with links outside the jail, sockets, and what the
 *    run-as user could change among the jail's programs and libraries;
 *    and, for a root service, what others than root can change among
 *    them: files and directories under etc, lib*, usr, bin and sbin
 *    (one of these that is a symlink: its target, followed inside the
 *    jail, the directories on the way and the tree below it) not owned
 *    by root, or (when a run-as domain shares the jail) writable by
 *    group or others: an error, root for the tenant;
 *  - the locale: with host_lang, whether the jail has it (env.h);
 *  - programs: each --program, its #! or ELF interpreter and every
 *    library it needs (deps.h), resolved inside the jail; for a root
 *    service each of them, wherever it is, and the directories on the
 *    way to it, under the same tenant-writable rule.
 *
 * Kinds (finding.h) are listed with their fixes in doc/jails.md. */
#ifndef VH_JAILCHECK_H
#define VH_JAILCHECK_H

#include "finding.h"
#include "row.h"

#define VH_JAILCHECK_MAX_DEPTH 256 /* deeper directories are an error, not a crash */

typedef struct vh_jailcheck {
    const char *domain;          /* label of every finding */
    const vh_row *row;           /* root and run-as identity (has_user) */
    const char *const *programs; /* names as the service is started: absolute or searched in PATH */
    int nprograms;
    int identity; /* compare the run-as user with the host; warn on root */
    int deep;     /* walk the tree below ROOT */
    long entries; /* out: entries seen by the deep scan */
    int base;     /* ROOT is a base (sql/008): what its bound directories hold reaches every jail of it */
} vh_jailcheck;

/* What only `vhostctl check` knows (issue 13 points 3 and 4); NULL
 * members, or no such struct: not checked. */
typedef struct vh_jailcheck_more {
    const char *shared_with; /* a run-as domain with the same jail (its label), for a root service */
    const char *host_lang;   /* the host's default LANG: warn when the jail lacks that locale */
} vh_jailcheck_more;

/* Run the checks selected in jc on jc->row->root and report every
 * finding through cb. Returns the worst severity (0 none, 1 warnings,
 * 2 errors); failures of the checker itself (out of memory, an
 * unreadable directory) are reported as error findings too. */
int vh_jailcheck_run(vh_jailcheck *jc, vh_finding_cb cb, void *ctx);

/* The same, with more (may be NULL). */
int vh_jailcheck_run_more(vh_jailcheck *jc, const vh_jailcheck_more *more, vh_finding_cb cb, void *ctx);

/* The character devices a jail may hold: null 1:3, zero 1:5, full 1:7,
 * random 1:8, urandom 1:9, tty 5:0. */
int vh_jailcheck_device_ok(unsigned major, unsigned minor);

#endif
