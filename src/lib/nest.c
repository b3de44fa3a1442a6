#include "nest.h"

#include "db.h"
#include "exitcodes.h"

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

/* Byte order, but with '/' before every other byte: then everything
 * below a directory sorts right after it ("/a", "/a/b", "/a-x"), and one
 * pass with a stack of open ancestors finds every nesting. */
static int path_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a, *y = *(const unsigned char *const *)b;
    for (;; x++, y++) {
        unsigned cx = *x == '/' ? 1 : *x, cy = *y == '/' ? 1 : *y;
        if (cx != cy || !cx)
            return (int)cx - (int)cy;
    }
}

/* Not DISTINCT: SQLite would build a temporary b-tree; equal roots end
 * up side by side after the sort below and are skipped there. */
static const char roots_sql[] = "SELECT root FROM domains WHERE root <> '/'";

long vh_nest_scan(sqlite3 *db, const char *dbfile, vh_nest_cb cb, void *ctx, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    char **v = NULL;
    size_t n = 0, cap = 0;
    long found = -1;
    int rc = sqlite3_prepare_v2(db, roots_sql, (int)sizeof roots_sql, &st, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, "reading the jails", e);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (!r)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                vh_fail(e, VH_EX_OSERR, "out of memory reading the jails");
                goto out;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[n] = strdup(r))) {
            vh_fail(e, VH_EX_OSERR, "out of memory reading the jails");
            goto out;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        vh_db_fail(db, rc, "reading the jails", e);
        goto out;
    }
    qsort(v, n, sizeof *v, path_cmp);
    found = 0;
    /* the stack of jails the current one may lie below: each entry is
     * below the one before it */
    size_t *stack = malloc((n ? n : 1) * sizeof *stack), top = 0;
    if (!stack) {
        found = -1;
        vh_fail(e, VH_EX_OSERR, "out of memory reading the jails");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(v[i], v[i - 1]) == 0)
            continue; /* one jail, several rows */
        while (top && !vh_nest_below(v[stack[top - 1]], v[i]))
            top--;
        if (top) {
            found++;
            if (cb)
                cb(ctx, v[stack[top - 1]], v[i], NULL);
        }
        stack[top++] = i;
    }
    free(stack);
    /* the database: any of its ancestors a jail? (its sidecars and the
     * index are in the same directory) */
    if (dbfile && dbfile[0] == '/') {
        for (size_t i = 0; i < n; i++)
            if ((!i || strcmp(v[i], v[i - 1]) != 0) && vh_nest_below(v[i], dbfile)) {
                found++;
                if (cb)
                    cb(ctx, v[i], NULL, dbfile);
            }
    }
out:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return found;
}
