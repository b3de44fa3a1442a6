/* nest.h - jails inside other jails, and the database inside a jail
 * (THREATS K8), over every row of the database.
 *
 * A jail inside another domain's jail can be swapped by the outer
 * domain's root service (rename the inner directory, put its own in its
 * place): the inner domain's next connection runs the outer tenant's
 * code as the inner domain's user. A database, its -wal/-shm or its
 * lookup index inside a jail can be rewritten by that jail's root
 * service. Both are refused by every command that writes rows (add,
 * import, migrate-inetd: checked inside their transaction, before the
 * commit) and reported by check.
 *
 * Two rows with the same root are one jail shared by two services of
 * one tenant: not nested. The root "/" is no jail at all and is left
 * out, as is every row the operator marked unjailed (sql/003 section 1:
 * no jail either, on purpose). */
#ifndef VH_NEST_H
#define VH_NEST_H

#include "vherr.h"

#include <stddef.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* One finding: inner is below outer; or, when inner is NULL, the
 * database file dbfile is below the jail outer. */
typedef void (*vh_nest_cb)(void *ctx, const char *outer, const char *inner, const char *dbfile);

/* Read every distinct root of db (in the caller's transaction), and
 * report each root that lies below another one, and dbfile (an absolute
 * path, or NULL to skip) when it lies below a root. SQLite sorts the
 * roots (bounded memory: its sorter spills to temporary files); the pass
 * holds one root per level of nesting. Returns the number of findings,
 * or -1 with e filled. */
long vh_nest_scan(sqlite3 *db, const char *dbfile, vh_nest_cb cb, void *ctx, vh_err *e);

/* The findings that involve root only (a row with that root already in
 * the table, as add has it in its transaction): the rows whose root
 * lies above or below it, and dbfile below it. One scan of the table,
 * no sort. Returns their number, or -1 with e filled. */
long vh_nest_one(sqlite3 *db, const char *root, const char *dbfile, vh_nest_cb cb, void *ctx, vh_err *e);

/* Issue 13: is root no jail at all - "/", a directory that holds dbfile
 * (absolute, or NULL to skip), or one that holds another domain's
 * (jailed) root? Such a root is written only by an explicit --unjailed,
 * and stored with unjailed = 1. cache, when not NULL, keeps the
 * statement for the next call (the caller finalizes *cache; start it
 * NULL). Returns 1 with why (n bytes) saying which, 0 when root is a
 * jail, or -1 with e filled. */
int vh_nest_no_jail(sqlite3 *db, sqlite3_stmt **cache, const char *root, const char *dbfile, char *why, size_t n,
                    vh_err *e);

/* sql/008, bases (the shared system layers). A base inside a domain's
 * jail (or that jail itself) can be changed by the jail's root service,
 * for every domain the base serves; a jail inside a base gives its root
 * service the base to write. cb gets the base, the jail, and 1 when the
 * jail holds the base (0: the base holds the jail). Rows marked
 * unjailed and the root "/" are no jails and left out, as above. */
typedef void (*vh_nest_base_cb)(void *ctx, const char *base, const char *jail, int jail_holds_base);

/* The jails that hold base or lie below it. Returns their number, or -1
 * with e filled. */
long vh_nest_base(sqlite3 *db, const char *base, vh_nest_base_cb cb, void *ctx, vh_err *e);

/* The bases of the table that hold root (a jail), are root, or lie
 * below it. Returns their number, or -1. */
long vh_nest_root_bases(sqlite3 *db, const char *root, vh_nest_base_cb cb, void *ctx, vh_err *e);

/* vh_nest_base for every base of the table (check, import). */
long vh_nest_bases_scan(sqlite3 *db, vh_nest_base_cb cb, void *ctx, vh_err *e);

/* Is inner strictly below outer (as paths: "/a/b" is below "/a", not
 * below "/a/b" nor "/ab")? Both absolute and normalised. */
int vh_nest_below(const char *outer, const char *inner);

#endif
