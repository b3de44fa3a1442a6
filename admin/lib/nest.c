#include "nest.h"

#include "db.h"
#include "exitcodes.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
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
                                "AND unjailed = 0 ORDER BY k";

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

/* One root against the others, for add, through the index on root
 * (sql/002): each ancestor of root by equality, then every row below it
 * as the range ["root/", "root0") - '0' follows '/' in byte order, so
 * that range is exactly the paths that begin with "root/". */
static const char outer_sql[] = "SELECT 1 FROM domains WHERE root = ?1 AND unjailed = 0 LIMIT 1";
static const char inner_sql[] = "SELECT DISTINCT root FROM domains WHERE root >= ?1 AND root < ?2 AND unjailed = 0";

/* The jails around path (rows' roots, unjailed rows aside): each of
 * path's ancestors that is one (and path itself when self) through
 * outer_sql, then every jail below it through inner_sql's range; hit(ctx,
 * jail, above) for each, above 1 for an ancestor (or path), 0 for one
 * below. path is absolute and shorter than PATH_MAX. How many, or -1
 * with e. */
typedef void (*jail_hit)(void *ctx, const char *jail, int above);

static long jails_around(sqlite3 *db, const char *path, int self, jail_hit hit, void *ctx, vh_err *e)
{
    size_t len = strlen(path);
    char prefix[PATH_MAX + 2], upper[PATH_MAX + 2];
    long found = 0;
    sqlite3_stmt *st = NULL;
    /* the ancestors: "/a" and "/a/b" of "/a/b/c" (and "/a/b/c") */
    int rc = sqlite3_prepare_v2(db, outer_sql, (int)sizeof outer_sql, &st, NULL);
    for (size_t i = 1; rc == SQLITE_OK && i <= len; i++) {
        if (i < len ? path[i] != '/' : !self)
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, prefix, (int)i, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            found++;
            hit(ctx, prefix, 1);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the jails", e);
    /* the descendants */
    memcpy(prefix, path, len);
    memcpy(upper, path, len);
    prefix[len] = '/';
    upper[len] = '0';
    if ((rc = sqlite3_prepare_v2(db, inner_sql, (int)sizeof inner_sql, &st, NULL)) != SQLITE_OK) {
        sqlite3_finalize(st);
        return vh_db_fail(db, rc, "reading the jails", e);
    }
    sqlite3_bind_text(st, 1, prefix, (int)len + 1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, upper, (int)len + 1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (!r || !vh_nest_below(path, r))
            continue; /* not nested as paths */
        found++;
        hit(ctx, r, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the jails", e);
    return found;
}

struct one_hit {
    vh_nest_cb cb;
    void *ctx;
    const char *root;
};

static void one_hit(void *ctx, const char *jail, int above)
{
    const struct one_hit *h = ctx;
    if (h->cb)
        h->cb(h->ctx, above ? jail : h->root, above ? h->root : jail, NULL);
}

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
    size_t len = strlen(root);
    if (len > PATH_MAX)
        return vh_fail(e, VH_EX_DATAERR, "jail path too long: %zu bytes", len);
    struct one_hit h = {cb, ctx, root};
    long around = jails_around(db, root, 0, one_hit, &h, e);
    return around < 0 ? -1 : found + around;
}

int vh_nest_no_jail(sqlite3 *db, sqlite3_stmt **cache, const char *root, const char *dbfile, char *why, size_t n,
                    vh_err *e)
{
    if (strcmp(root, "/") == 0) {
        snprintf(why, n, "it is the host's root directory");
        return 1;
    }
    if (dbfile && vh_nest_below(root, dbfile)) {
        snprintf(why, n, "it holds the database %s", dbfile);
        return 1;
    }
    size_t len = strlen(root);
    char prefix[PATH_MAX + 2], upper[PATH_MAX + 2];
    if (len + 2 > sizeof prefix)
        return vh_fail(e, VH_EX_DATAERR, "jail path too long: %zu bytes", len);
    memcpy(prefix, root, len);
    memcpy(upper, root, len);
    prefix[len] = '/';
    upper[len] = '0';
    sqlite3_stmt *st = cache ? *cache : NULL;
    if (!st) {
        int rc =
            sqlite3_prepare_v3(db, inner_sql, (int)sizeof inner_sql, cache ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
        if (rc != SQLITE_OK)
            return vh_db_fail(db, rc, "reading the jails", e);
        if (cache)
            *cache = st;
    }
    int rc;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, prefix, (int)len + 1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, upper, (int)len + 1, SQLITE_STATIC);
    int found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && vh_nest_below(root, r)) {
            snprintf(why, n, "it holds the jail %s of another domain", r);
            found = 1;
            break;
        }
    }
    if (cache) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st); /* nothing may point into prefix */
    } else {
        sqlite3_finalize(st);
    }
    if (!found && rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the jails", e);
    return found;
}

/* sql/008: bases against jails. The bases are few (one per system
 * layer) and read through the partial index domains_base. */
static const char bases_sql[] = "SELECT DISTINCT base FROM domains WHERE base IS NOT NULL";

struct base_hit {
    vh_nest_base_cb cb;
    void *ctx;
    const char *base;
};

static void base_hit(void *ctx, const char *jail, int above)
{
    const struct base_hit *h = ctx;
    if (h->cb)
        h->cb(h->ctx, h->base, jail, above);
}

long vh_nest_base(sqlite3 *db, const char *base, vh_nest_base_cb cb, void *ctx, vh_err *e)
{
    size_t len = strlen(base);
    if (len < 2 || len > PATH_MAX)
        return vh_fail(e, VH_EX_DATAERR, "base path %s is no directory a base can be", base);
    /* the jails that hold it (base itself and each of its ancestors),
     * then the jails it holds */
    struct base_hit h = {cb, ctx, base};
    return jails_around(db, base, 1, base_hit, &h, e);
}

long vh_nest_root_bases(sqlite3 *db, const char *root, vh_nest_base_cb cb, void *ctx, vh_err *e)
{
    if (strcmp(root, "/") == 0)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, bases_sql, (int)sizeof bases_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the bases", e);
    long found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 0);
        if (!b)
            continue;
        int holds = strcmp(b, root) == 0 || vh_nest_below(root, b);
        if (holds || vh_nest_below(b, root)) {
            found++;
            if (cb)
                cb(ctx, b, root, holds);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the bases", e);
    return found;
}

long vh_nest_bases_scan(sqlite3 *db, vh_nest_base_cb cb, void *ctx, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, bases_sql, (int)sizeof bases_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the bases", e);
    long found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 0);
        char base[PATH_MAX];
        if (!b || snprintf(base, sizeof base, "%s", b) >= (int)sizeof base)
            continue;
        long n = vh_nest_base(db, base, cb, ctx, e);
        if (n < 0) {
            sqlite3_finalize(st);
            return -1;
        }
        found += n;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the bases", e);
    return found;
}
