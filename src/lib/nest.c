#include "nest.h"

#include "db.h"
#include "exitcodes.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

int vh_nest_below(const char *outer, const char *inner)
{
    size_t n = strlen(outer);
    if (n <= 1) /* "/" is no jail (nest.h) */
        return 0;
    return strncmp(outer, inner, n) == 0 && inner[n] == '/';
}

/* SQLite sorts (its sorter spills to temporary files: memory stays
 * bounded at any row count), in byte order but with '/' turned into
 * char(1), so that everything below a directory sorts right after it
 * ("/a", "/a/b", "/a-x"); one pass with a stack of open ancestors then
 * finds every nesting, holding only that stack. */
static const char roots_sql[] = "SELECT DISTINCT replace(root, '/', char(1)) AS k FROM domains WHERE root <> '/' "
                                "ORDER BY k";

struct frame {
    char *root;
};

long vh_nest_scan(sqlite3 *db, const char *dbfile, vh_nest_cb cb, void *ctx, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    struct frame stack[PATH_MAX / 2 + 1]; /* a root has at most PATH_MAX/2 components */
    size_t top = 0;
    long found = -1;
    char cur[PATH_MAX];
    int rc = sqlite3_prepare_v2(db, roots_sql, (int)sizeof roots_sql, &st, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, "reading the jails", e);
        goto out;
    }
    found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        if (!k || len <= 0 || (size_t)len >= sizeof cur)
            continue;
        for (int i = 0; i <= len; i++)
            cur[i] = k[i] == 1 ? '/' : k[i];
        while (top && !vh_nest_below(stack[top - 1].root, cur))
            free(stack[--top].root);
        if (top) {
            found++;
            if (cb)
                cb(ctx, stack[top - 1].root, cur, NULL);
        }
        /* the database: below this jail? (its sidecars and the index
         * are in the same directory) */
        if (dbfile && vh_nest_below(cur, dbfile)) {
            found++;
            if (cb)
                cb(ctx, cur, NULL, dbfile);
        }
        if (top == sizeof stack / sizeof stack[0] || !(stack[top].root = strdup(cur))) {
            found = -1;
            vh_fail(e, VH_EX_OSERR, "out of memory reading the jails");
            goto out;
        }
        top++;
    }
    if (rc != SQLITE_DONE) {
        found = -1;
        vh_db_fail(db, rc, "reading the jails", e);
    }
out:
    while (top)
        free(stack[--top].root);
    sqlite3_finalize(st);
    return found;
}

/* One root against the others: a full scan without a sort (no index
 * on root), for add. substr() works on characters, not bytes: the same
 * on both sides of each comparison, and ASCII '/' can not be inside a
 * multi-byte UTF-8 sequence. */
static const char one_sql[] =
    "SELECT DISTINCT root FROM domains WHERE root <> '/' AND root <> ?1 AND "
    "(substr(?1, 1, length(root) + 1) = root || '/' OR substr(root, 1, length(?1) + 1) = ?1 || '/')";

long vh_nest_one(sqlite3 *db, const char *root, const char *dbfile, vh_nest_cb cb, void *ctx, vh_err *e)
{
    if (strcmp(root, "/") == 0)
        return 0;
    long found = 0;
    if (dbfile && vh_nest_below(root, dbfile)) {
        found++;
        if (cb)
            cb(ctx, root, NULL, dbfile);
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, one_sql, (int)sizeof one_sql, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return vh_db_fail(db, rc, "reading the jails", e);
    }
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (!r)
            continue;
        int outer = vh_nest_below(r, root);
        if (!outer && !vh_nest_below(root, r))
            continue; /* not nested as paths: SQL's view was looser */
        found++;
        if (cb)
            cb(ctx, outer ? r : root, outer ? root : r, NULL);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the jails", e);
    return found;
}
