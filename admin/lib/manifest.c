#include "manifest.h"

#include "db.h"
#include "exitcodes.h"
#include "rootfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void file_free(vh_manifest_file *f)
{
    free(f->path);
    free(f->host);
    free(f->kind);
    free(f->source);
}

int vh_manifest_add_file(vh_manifest *m, const char *path, const char *host, const char *kind, const char *source,
                         const char *sha, unsigned mode, uint64_t size)
{
    vh_manifest_file nf = {strdup(path), strdup(host), strdup(kind), strdup(source), "", mode, size};
    if (!nf.path || !nf.host || !nf.kind || !nf.source) {
        file_free(&nf);
        return -1;
    }
    snprintf(nf.sha, sizeof nf.sha, "%s", sha);
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->f[i].path, path) == 0) {
            file_free(&m->f[i]);
            m->f[i] = nf;
            return 0;
        }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        vh_manifest_file *n = realloc(m->f, cap * sizeof *n);
        if (!n) {
            file_free(&nf);
            return -1;
        }
        m->f = n;
        m->cap = cap;
    }
    m->f[m->n++] = nf;
    m->sorted = 0;
    return 0;
}

int vh_manifest_add_req(vh_manifest *m, const char *what, const char *name)
{
    for (size_t i = 0; i < m->nr; i++)
        if (strcmp(m->r[i].what, what) == 0 && strcmp(m->r[i].name, name) == 0)
            return 0;
    if (m->nr == m->capr) {
        size_t cap = m->capr ? 2 * m->capr : 16;
        vh_manifest_req *n = realloc(m->r, cap * sizeof *n);
        if (!n)
            return -1;
        m->r = n;
        m->capr = cap;
    }
    vh_manifest_req *r = &m->r[m->nr];
    snprintf(r->what, sizeof r->what, "%s", what);
    if (!(r->name = strdup(name)))
        return -1;
    m->nr++;
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const vh_manifest_file *)a)->path, ((const vh_manifest_file *)b)->path);
}

void vh_manifest_sort(vh_manifest *m)
{
    if (!m->sorted && m->n > 1)
        qsort(m->f, m->n, sizeof *m->f, by_path);
    m->sorted = 1;
}

const vh_manifest_file *vh_manifest_find(vh_manifest *m, const char *path)
{
    vh_manifest_sort(m);
    if (!m->n)
        return NULL;
    vh_manifest_file key = {.path = (char *)path};
    return bsearch(&key, m->f, m->n, sizeof *m->f, by_path);
}

void vh_manifest_free(vh_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        file_free(&m->f[i]);
    for (size_t i = 0; i < m->nr; i++)
        free(m->r[i].name);
    free(m->f);
    free(m->r);
    memset(m, 0, sizeof *m);
}

/* ---- the database ---- */

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, vh_err *e)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : vh_db_fail(db, rc, "the jail manifest", e);
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int vh_manifest_load(sqlite3 *db, const char *jail, vh_manifest *m, vh_err *e)
{
    vh_manifest_free(m);
    sqlite3_stmt *st = NULL;
    if (prep(db, "SELECT what, name FROM jail_provisions WHERE jail = ?1 ORDER BY what, name", &st, e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, jail, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (vh_manifest_add_req(m, col(st, 0), col(st, 1)) < 0) {
            sqlite3_finalize(st);
            return vh_fail(e, VH_EX_OSERR, "out of memory");
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the jail manifest", e);
    if (prep(db,
             "SELECT path, host_path, kind, source, sha256, mode, size FROM jail_files WHERE jail = ?1 ORDER BY path",
             &st, e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, jail, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (vh_manifest_add_file(m, col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4),
                                 (unsigned)sqlite3_column_int(st, 5), (uint64_t)sqlite3_column_int64(st, 6)) < 0) {
            sqlite3_finalize(st);
            return vh_fail(e, VH_EX_OSERR, "out of memory");
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the jail manifest", e);
    m->sorted = 1; /* ORDER BY path, and no duplicates (the key) */
    return m->n || m->nr ? 1 : 0;
}

int vh_manifest_store(sqlite3 *db, const char *jail, const vh_manifest *m, const char *const *drop, size_t ndrop,
                      vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE;
    if (prep(db,
             "INSERT INTO jail_provisions (jail, what, name) VALUES (?1, ?2, ?3) ON CONFLICT (jail, what, name) DO "
             "UPDATE SET time = excluded.time",
             &st, e) < 0)
        return -1;
    for (size_t i = 0; i < m->nr && rc == SQLITE_DONE; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, jail, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->r[i].what, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, m->r[i].name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "recording the jail's requests", e);
    if (prep(db,
             "INSERT INTO jail_files (jail, path, host_path, kind, source, sha256, mode, size) VALUES (?1, ?2, ?3, "
             "?4, ?5, ?6, ?7, ?8) ON CONFLICT (jail, path) DO UPDATE SET host_path = excluded.host_path, kind = "
             "excluded.kind, source = excluded.source, sha256 = excluded.sha256, mode = excluded.mode, size = "
             "excluded.size, time = excluded.time",
             &st, e) < 0)
        return -1;
    for (size_t i = 0; i < m->n && rc == SQLITE_DONE; i++) {
        const vh_manifest_file *f = &m->f[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, jail, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, f->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, f->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, f->source, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, f->sha, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, (int)(f->mode & 0777));
        sqlite3_bind_int64(st, 8, (sqlite3_int64)f->size);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "recording the jail's files", e);
    if (!ndrop)
        return 0;
    if (prep(db, "DELETE FROM jail_files WHERE jail = ?1 AND path = ?2", &st, e) < 0)
        return -1;
    for (size_t i = 0; i < ndrop && rc == SQLITE_DONE; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, jail, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, drop[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : vh_db_fail(db, rc, "updating the jail's files", e);
}

long vh_manifest_jails(sqlite3 *db, char ***jails, vh_err *e)
{
    *jails = NULL;
    sqlite3_stmt *st = NULL;
    if (prep(db, "SELECT jail FROM jail_provisions UNION SELECT jail FROM jail_files ORDER BY 1", &st, e) < 0)
        return -1;
    long n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            long nc = cap ? 2 * cap : 16;
            char **nj = realloc(*jails, (size_t)nc * sizeof *nj);
            if (!nj)
                break;
            *jails = nj;
            cap = nc;
        }
        if (!((*jails)[n] = strdup(col(st, 0))))
            break;
        n++;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
        for (long i = 0; i < n; i++)
            free((*jails)[i]);
        free(*jails);
        *jails = NULL;
        return rc == SQLITE_ROW ? vh_fail(e, VH_EX_OSERR, "out of memory")
                                : vh_db_fail(db, rc, "listing the jails with a manifest", e);
    }
    return n;
}

/* ---- comparing ---- */

void vh_manifest_diff(vh_manifest *old, vh_manifest *now, vh_manifest_diff_cb cb, void *ctx)
{
    vh_manifest_sort(old);
    vh_manifest_sort(now);
    size_t i = 0, k = 0;
    while (i < old->n || k < now->n) {
        int c = i == old->n ? 1 : k == now->n ? -1 : strcmp(old->f[i].path, now->f[k].path);
        if (c < 0) {
            cb(ctx, VH_MF_DROPPED, &old->f[i++], NULL);
        } else if (c > 0) {
            cb(ctx, VH_MF_ADDED, NULL, &now->f[k++]);
        } else {
            cb(ctx, strcmp(old->f[i].sha, now->f[k].sha) == 0 ? VH_MF_SAME : VH_MF_CHANGED, &old->f[i], &now->f[k]);
            i++;
            k++;
        }
    }
}

enum vh_manifest_state vh_manifest_judge(const char *recorded, const char *jail, const char *host)
{
    if (!jail)
        return VH_MS_JAIL_MISSING;
    if (!host)
        return VH_MS_HOST_GONE;
    if (strcmp(jail, host) == 0)
        return VH_MS_OK;
    if (strcmp(jail, recorded) == 0)
        return VH_MS_STALE;
    if (strcmp(host, recorded) == 0)
        return VH_MS_JAIL_CHANGED;
    return VH_MS_BOTH_CHANGED;
}

void vh_manifest_short(const char *sha, char out[13])
{
    snprintf(out, 13, "%.12s", sha);
}

/* ---- checksums of files ---- */

struct slot {
    char *host;
    int state; /* 1 a regular file (sha), 0 gone, -1 unreadable (err) */
    int err;
    uint64_t size;
    char sha[VH_SHA256_HEX];
};

struct vh_manifest_cache {
    struct slot *s;
    size_t cap, n; /* open addressing, cap a power of two */
};

vh_manifest_cache *vh_manifest_cache_new(void)
{
    return calloc(1, sizeof(vh_manifest_cache));
}

void vh_manifest_cache_free(vh_manifest_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->cap; i++)
        free(c->s[i].host);
    free(c->s);
    free(c);
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct slot *cache_slot(vh_manifest_cache *c, const char *host)
{
    if (!c->cap)
        return NULL;
    for (size_t i = (size_t)fnv(host) & (c->cap - 1);; i = (i + 1) & (c->cap - 1))
        if (!c->s[i].host || strcmp(c->s[i].host, host) == 0)
            return &c->s[i];
}

static int cache_grow(vh_manifest_cache *c)
{
    size_t cap = c->cap ? 2 * c->cap : 256;
    struct slot *old = c->s;
    size_t oldcap = c->cap;
    if (!(c->s = calloc(cap, sizeof *c->s))) {
        c->s = old;
        return -1;
    }
    c->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].host)
            *cache_slot(c, old[i].host) = old[i];
    free(old);
    return 0;
}

static int sha_of(int fd, char sha[VH_SHA256_HEX], uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode))
        return 0;
    return vh_sha256_fd(fd, sha, size) < 0 ? -1 : 1;
}

int vh_manifest_host_sha(vh_manifest_cache *c, const char *host, char sha[VH_SHA256_HEX], uint64_t *size)
{
    struct slot *s = c ? cache_slot(c, host) : NULL;
    *size = 0;
    if (s && s->host) {
        snprintf(sha, VH_SHA256_HEX, "%s", s->sha);
        *size = s->size;
        errno = s->err;
        return s->state;
    }
    int fd = open(host, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    int r, err = 0;
    sha[0] = '\0';
    if (fd < 0) {
        err = errno;
        r = err == ENOENT || err == ENOTDIR ? 0 : -1;
    } else {
        r = sha_of(fd, sha, size);
        err = r < 0 ? errno : 0;
        close(fd);
    }
    /* at most half full; a failed growth only costs a second read */
    if (c && ((c->n + 1) * 2 <= c->cap || cache_grow(c) == 0)) {
        s = cache_slot(c, host);
        if (s && (s->host = strdup(host)) != NULL) {
            s->state = r;
            s->err = err;
            snprintf(s->sha, sizeof s->sha, "%s", sha);
            s->size = *size;
            c->n++;
        }
    }
    errno = err;
    return r;
}

int vh_manifest_jail_sha(int rootfd, const char *path, uint64_t max, char sha[VH_SHA256_HEX])
{
    sha[0] = '\0';
    /* looked at before it is opened: a device or FIFO the tenant put
     * there is never opened for reading */
    struct stat st, fst;
    int pfd = vh_rootfd_open_nofollow(rootfd, path, O_PATH, 0);
    if (pfd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -1;
    int r = fstat(pfd, &st);
    int err = errno;
    close(pfd);
    if (r < 0) {
        errno = err;
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        return 0;
    if ((uint64_t)st.st_size > max) { /* not what was copied, whatever its bytes: never read */
        snprintf(sha, VH_SHA256_HEX, "size %llu", (unsigned long long)st.st_size);
        return 1;
    }
    int fd = vh_rootfd_open_nofollow(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -1;
    if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
        close(fd);
        return 0; /* swapped meanwhile: no copy of ours */
    }
    r = vh_sha256_fd(fd, sha, NULL) < 0 ? -1 : 1;
    err = errno;
    close(fd);
    errno = err;
    return r;
}
