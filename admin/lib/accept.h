/* accept.h - findings of `vhostctl check` that the operator has judged
 * and accepted, with a reason (sql/003 section 3, table accepted).
 *
 * An acceptance names a finding kind and a subject: a domain (scope
 * "domain", subject "SERVICE ADDRESS") or a jail (scope "jail", subject
 * the root path, every domain served from it), and optionally one path
 * (the PATH column of check; empty: every path). Only warnings of the
 * kinds in vh_accept_kinds can be accepted (doc/jails.md "Accepting a
 * finding" says why the others never can): an error is never covered,
 * even when its kind is listed, so a kind that a later check raises to
 * an error for some domains is shown again. */
#ifndef VH_ACCEPT_H
#define VH_ACCEPT_H

#include "finding.h"
#include "row.h"
#include "vherr.h"

#include <limits.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

#define VH_ACCEPT_KIND_MAX 64
#define VH_ACCEPT_REASON_MAX 1024

/* The kinds an operator may accept, NULL-terminated. */
extern const char *const vh_accept_kinds[];

/* 1 when kind may be accepted, else 0. */
int vh_accept_kind_ok(const char *kind);

/* 0 when kind may be accepted, else -1 with e (VH_EX_DATAERR) naming
 * the acceptable kinds. */
int vh_accept_check_kind(const char *kind, vh_err *e);

typedef struct vh_accepted {
    char kind[VH_ACCEPT_KIND_MAX];
    int jail;                          /* 0: scope domain, 1: scope jail */
    char subject[PATH_MAX];            /* "SERVICE ADDRESS", or the jail's root */
    char path[PATH_MAX];               /* "" every path of the subject, else this one */
    char reason[VH_ACCEPT_REASON_MAX]; /* why, as the operator wrote it */
    uint32_t uid;                      /* who: vhostctl's real uid */
    char login[VH_NAME_MAX];           /* and login name */
    char time[32];                     /* when, UTC, ISO 8601 */
    int live;                          /* out of vh_accept_see_row: its subject exists */
    int readded;                       /* ... its domain was removed and added again since */
    long used;                         /* out of vh_accept_match: findings it covered */
} vh_accepted;

typedef struct vh_accept_list {
    vh_accepted *a;
    size_t n;
} vh_accept_list;

/* The subject of a domain acceptance: "SERVICE ADDRESS". */
void vh_accept_domain_subject(const char *service, const char *address, char *out, size_t n);

/* Store a (kind, scope, subject, path, reason, uid, login; the time is
 * now) in the caller's write transaction. An acceptance of the same key
 * is replaced (new reason, who and when): *replaced says so. A kind not
 * in vh_accept_kinds is VH_EX_DATAERR naming the acceptable ones. 0 or
 * -1 with e. */
int vh_accept_put(sqlite3 *db, const vh_accepted *a, int *replaced, vh_err *e);

/* Delete the acceptance of exactly this key; none is VH_EX_NOHOST. */
int vh_accept_remove(sqlite3 *db, const char *kind, int jail, const char *subject, const char *path, vh_err *e);

/* Whether the subject exists now: a row (service, address), or a row
 * whose root is the jail. 1, 0, or -1 with e. With root not NULL, 1
 * also fills root (size n) with the subject's jail. */
int vh_accept_subject_exists(sqlite3 *db, int jail, const char *subject, char *root, size_t n, vh_err *e);

/* Whether path is the jail root or lies below it: every finding that can
 * be accepted names one of those. */
int vh_accept_path_in(const char *root, const char *path);

/* Every acceptance, ordered by scope, subject, kind, path, into l (freed
 * by vh_accept_free). 0 or -1 with e. */
int vh_accept_load(sqlite3 *db, vh_accept_list *l, vh_err *e);
void vh_accept_free(vh_accept_list *l);

/* Mark live the acceptances whose subject is row (its key or its root);
 * a domain acceptance older than the row (created) does not name it: the
 * domain was removed and added again (readded), and it covers nothing. */
void vh_accept_see_row(vh_accept_list *l, const vh_row *row);

/* The acceptance that covers finding f of the domain row, or NULL: f is
 * a warning of an acceptable kind, the acceptance names that kind, row's
 * key (domain) or root (jail), and f's path or every path. Counts it. */
vh_accepted *vh_accept_match(vh_accept_list *l, const vh_row *row, const vh_finding *f);

/* The domain (service, address) changed what a finding is about - its
 * jail or its run-as identity (vhostctl set): its acceptances judged the
 * old one, so they go, in the caller's transaction. Returns how many, or
 * -1 with e. */
int vh_accept_withdraw_domain(sqlite3 *db, const char *service, const char *address, vh_err *e);

#endif
