#include "ixwrite.h"

#include "atomic.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fd.h"
#include "ix.h"
#include "ixfmt.h"
#include "ixstamp.h"
#include "addr.h"
#include "select.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* The state of the database (ixstamp.h), as vh_ixstamp_now will see it, through a connection that
 * holds SQLite's write lock (vhostctl, which also holds the -shm): the
 * database header and the WAL index through SQLite's own file handle and
 * mapping, the file's inode and times through an O_PATH descriptor -
 * never a descriptor of ours whose close would drop SQLite's POSIX locks
 * (closing an O_PATH descriptor releases none). */
static const char *ident_sqlite(sqlite3 *db, const char *dbpath, vh_ixfmt_stamp *id)
{
    sqlite3_file *f = NULL;
    unsigned char dbhdr[VH_SQLITE_DBHDR_SIZE], shm[VH_SQLITE_SHM_READ];
    struct stat st;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
        f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
        return "no file handle";
    int frames = vh_ixstamp_wal_frames(dbpath);
    if (frames < 0)
        return "cannot tell the -wal file's size";
    if (f->pMethods->xRead(f, dbhdr, sizeof dbhdr, 0) != SQLITE_OK)
        return "cannot read the database header";
    int pfd = open(dbpath, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0)
        return "cannot open the database path";
    int ok = fstat(pfd, &st) == 0, moved = 1;
    close(pfd);
    if (!ok)
        return "cannot stat the database";
    /* the path still names the file SQLite has open */
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || moved)
        return "the database file was moved or replaced";
    if (!frames)
        return vh_ixstamp_canon(NULL, dbhdr, &st, id);
    volatile void *region = NULL;
    if (f->pMethods->xShmMap(f, 0, VH_SQLITE_SHM_PGSZ, 0, &region) != SQLITE_OK || !region)
        return "no WAL index";
    memcpy(shm, (const void *)region, sizeof shm);
    return vh_ixstamp_canon(shm, dbhdr, &st, id);
}

/* A PRAGMA's integer value on db into *out; -1 when it cannot be read. */
static int pragma_i64(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* A record for the current row of st (the columns of vh_select_sql) in
 * *buf (grown as needed); its length, or 0 when the row is too large to
 * index, -1 out of memory. */
static size_t rec_build(sqlite3_stmt *st, unsigned char **buf, size_t *cap, uint64_t *hash)
{
    vh_ixfmt_col c[VH_IXFMT_NCOLS];
    for (int i = 0; i < VH_IXFMT_NCOLS; i++) {
        c[i].type = sqlite3_column_type(st, i);
        c[i].ival = sqlite3_column_int64(st, i);
        c[i].text = (const char *)sqlite3_column_text(st, i);
        c[i].len = (uint32_t)sqlite3_column_bytes(st, i);
    }
    size_t n = vh_ixfmt_rec_size(c);
    if (n > VH_IXFMT_REC_MAX)
        return 0;
    if (n > *cap) {
        unsigned char *nb = realloc(*buf, n);
        if (!nb)
            return (size_t)-1;
        *buf = nb;
        *cap = n;
    }
    return vh_ixfmt_rec_encode(c, *buf, hash);
}

/* The header's claim: schema and the identity of the state now (the
 * caller holds the write lock: no commit can change it). */
static int fill_hdr(sqlite3 *db, const char *dbpath, vh_ixfmt_hdr *h, const char **why)
{
    int64_t uv = 0, appid = 0, cookie = 0;
    if (pragma_i64(db, "PRAGMA user_version", &uv) < 0 || pragma_i64(db, "PRAGMA application_id", &appid) < 0 ||
        pragma_i64(db, "PRAGMA schema_version", &cookie) < 0) {
        *why = "cannot read the schema version";
        return -1;
    }
    h->user_version = (int32_t)uv;
    h->application_id = (int32_t)appid;
    h->schema_cookie = (int32_t)cookie;
    return (*why = ident_sqlite(db, dbpath, &h->id)) ? -1 : 0;
}

/* One trusted source row as a header entry (ixfmt.h vh_ixfmt_trust):
 * 1 done; 0 when the row is not in the form vhostctl writes (a source
 * that is neither a canonical address nor a canonical prefix, a service
 * too long, versions out of range) - the header then does not inline
 * the sources and SQLite answers, exactly as it would have anyway. */
static int trust_entry(const char *svc, const char *source, int vtype, int64_t versions, vh_ixfmt_trust *x)
{
    vh_prefix p;
    memset(x, 0, sizeof *x);
    size_t ls = svc ? strlen(svc) : 0;
    if (!svc || !source || ls < 1 || ls >= sizeof x->service || vtype != SQLITE_INTEGER || versions < 1 || versions > 3)
        return 0;
    if (vh_prefix_parse_key(source, &p)) {
        x->family = p.family == AF_INET ? 4 : 6;
        x->len = (uint8_t)p.len;
        memcpy(x->net, p.net, 16);
    } else {
        /* an exact address: the whole length, and only in canonical text
         * (SQLite's seek matches nothing else) */
        int family = strchr(source, ':') ? AF_INET6 : AF_INET;
        char back[VH_ADDR_TEXT];
        if (vh_addr_bytes(source, family, x->net) < 0 || !inet_ntop(family, x->net, back, sizeof back) ||
            strcmp(back, source) != 0)
            return 0;
        x->family = family == AF_INET ? 4 : 6;
        x->len = family == AF_INET ? 32 : 128;
    }
    x->versions = (uint8_t)versions;
    x->svclen = (uint8_t)ls;
    memcpy(x->service, svc, ls + 1);
    return 1;
}

/* Format 4's header fields (sql/004), read in the caller's transaction -
 * the one the rows are read in, so that the header and the records
 * describe one state: the prefix lengths of domains rows in use (the
 * candidates vh_ix_lookup probes), whether proxy_sources has rows, and
 * every trusted source when there are at most VH_IXFMT_TRUST_MAX (else
 * virtuald asks SQLite for the trust). 0, or -1 with e. */
static int fill_sql4(sqlite3 *db, vh_ixfmt_hdr *h, vh_err *e)
{
    static const char sql[] = "SELECT service, source, versions FROM proxy_sources ORDER BY service, source LIMIT ?1";
    vh_prefix_lens lens;
    if (vh_select_lens(db, "domains", &lens, e) < 0)
        return -1;
    h->dom_len4 = lens.v4;
    h->dom_len6[0] = lens.v6[0];
    h->dom_len6[1] = lens.v6[1];
    h->features = 0;
    h->ntrust = 0;
    memset(h->trust, 0, sizeof h->trust);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the trusted PROXY sources for the index", e);
    sqlite3_bind_int(st, 1, VH_IXFMT_TRUST_MAX + 1);
    uint32_t n = 0;
    int inline_ok = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < VH_IXFMT_TRUST_MAX &&
            !trust_entry((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                         sqlite3_column_type(st, 2), sqlite3_column_int64(st, 2), &h->trust[n]))
            inline_ok = 0;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the trusted PROXY sources for the index", e);
    if (n)
        h->features |= VH_IXFMT_F_TRUST;
    if (n && n <= VH_IXFMT_TRUST_MAX && inline_ok) {
        h->features |= VH_IXFMT_F_TRUST_INLINE;
        h->ntrust = n;
    } else {
        memset(h->trust, 0, sizeof h->trust);
    }
    return 0;
}

/* Hold on (the caller keeps the write lock) until the clock that stamps
 * file times has passed the database's recorded times: any later change
 * to the file then gets a later time, also on file systems whose times
 * move once a tick, or once a second (both nanosecond fields 0). Only on
 * local file systems known to stamp from this kernel's clock at that
 * granularity or better (FAT keeps 2 s, exFAT 10 ms, NFS and SMB the
 * server's clock): elsewhere no stamp is made. 0, or -1 (the caller
 * leaves the index stale). */
static int pass_the_tick(const char *dbpath, const vh_ixfmt_stamp *id)
{
    struct statfs fs;
    if (statfs(dbpath, &fs) < 0)
        return -1;
    switch ((unsigned long)fs.f_type) {
    case 0xEF53UL:     /* ext2, ext3, ext4 */
    case 0x58465342UL: /* xfs */
    case 0x9123683EUL: /* btrfs */
    case 0x01021994UL: /* tmpfs */
    case 0x2FC12FC1UL: /* zfs */
    case 0xF2F52010UL: /* f2fs */
    case 0x794C7630UL: /* overlayfs: the upper layer's times */ break;
    default: return -1;
    }
    int64_t m = id->mtime_s * 1000000000LL + id->mtime_ns, c = id->ctime_s * 1000000000LL + id->ctime_ns;
    int64_t until = m > c ? m : c;
    if (id->mtime_ns == 0 && id->ctime_ns == 0)
        until += 999999999LL; /* second-granular: the whole second */
    for (int i = 0; i < 1500; i++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        if ((int64_t)now.tv_sec * 1000000000LL + now.tv_nsec > until)
            return 0;
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    return -1;
}

/* valid 0 on fd's index, synced: claims nothing. */
static int mark_stale_fd(int fd)
{
    vh_ixfmt_hdr h;
    struct stat st;
    ssize_t n = vh_fd_pread_full(fd, &h, sizeof h, 0);
    if (n < 0 || fstat(fd, &st) < 0)
        return -1;
    /* a short or malformed file claims nothing already: left as it is */
    if (n != (ssize_t)sizeof h || !vh_ixfmt_hdr_sane(&h, (uint64_t)st.st_size))
        return 0;
    h.valid = 0;
    h.seq += 2;
    return vh_fd_pwrite_full(fd, &h, sizeof h, 0) < 0 || fdatasync(fd) < 0 ? -1 : 0;
}

/* A new index from every row, written beside and renamed over the old.
 * Through the directory's descriptor and the new file's own (THREATS
 * K9): the temporary file is made O_EXCL | O_NOFOLLOW with its final mode
 * and renamed relative to the same directory, so its mode is never set
 * by a name another process could have pointed elsewhere. (The index was
 * made 0666 through provision, whose chmod by name followed a symlink a
 * tenant put at its temporary name - provision.c; nothing here named a
 * file by a path for a change of mode.) */
static int rebuild(sqlite3 *db, const char *dbpath, vh_err *e)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 32], base[NAME_MAX + 1], tbase[NAME_MAX + 1];
    if ((size_t)snprintf(path, sizeof path, "%s%s", dbpath, VH_IX_SUFFIX) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= sizeof tmp)
        return vh_fail(e, VH_EX_CONFIG, "database path too long for its index");
    int dfd = vh_atomic_dir_of(path, base, sizeof base);
    if (dfd < 0)
        return vh_fail(e, VH_EX_CANTCREAT, "cannot open the directory of %s: %s", path, strerror(errno));
    if ((size_t)snprintf(tbase, sizeof tbase, "%s.tmp%d", base, (int)getpid()) >= sizeof tbase) {
        close(dfd);
        return vh_fail(e, VH_EX_CONFIG, "database name too long for its index");
    }
    sqlite3_stmt *st = NULL;
    int64_t count = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM domains", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    uint64_t nb = 1024;
    while (nb < (uint64_t)count * 2 + 1024)
        nb <<= 1;
    vh_ixfmt_bucket *b = calloc(nb, sizeof *b);
    unsigned char *rec = NULL;
    size_t cap = 0;
    vh_ixfmt_hdr h;
    const char *why = NULL;
    int rc = -1;
    vh_atomic a;
    vh_atomic_init(&a, dfd);
    if (!b) {
        vh_fail(e, VH_EX_OSERR, "out of memory building the lookup index");
        goto out;
    }
    memset(&h, 0, sizeof h);
    memcpy(h.magic, VH_IXFMT_MAGIC, 8);
    h.format = VH_IXFMT_FORMAT;
    h.endian = VH_IXFMT_ENDIAN;
    h.nbuckets = nb;
    h.heap_start = h.heap_end = VH_IXFMT_HDR + nb * sizeof *b;
    unlinkat(dfd, tbase, 0);
    if (vh_atomic_open(&a, tbase, O_RDWR) < 0) {
        vh_fail(e, VH_EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fill_hdr(db, dbpath, &h, &why) < 0) {
        vh_fail(e, VH_EX_SOFTWARE, "lookup index: %s", why);
        goto out;
    }
    if (fill_sql4(db, &h, e) < 0)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT " VH_ROW_COLS " FROM domains", -1, &st, NULL) != SQLITE_OK) {
        vh_db_fail(db, sqlite3_errcode(db), "reading the domains for the index", e);
        goto out;
    }
    /* records through a buffer, in file order */
    static unsigned char out[1 << 16];
    size_t used = 0;
    off_t flushed = (off_t)h.heap_start;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t hash;
        size_t n = rec_build(st, &rec, &cap, &hash);
        if (n == (size_t)-1) {
            vh_fail(e, VH_EX_OSERR, "out of memory building the lookup index");
            goto out;
        }
        if (n == 0) {
            /* too large to index: the index would answer without it */
            vh_fail(e, VH_EX_DATAERR, "a row larger than %d bytes cannot be indexed", VH_IXFMT_REC_MAX);
            goto out;
        }
        if (used + n > sizeof out) {
            if (vh_fd_pwrite_full(a.fd, out, used, flushed) < 0)
                goto ioerr;
            flushed += (off_t)used;
            used = 0;
        }
        if (h.heap_end + n >= VH_IXFMT_OFF_LIMIT || vh_ixfmt_bucket_put(b, nb, hash, h.heap_end) < 0) {
            vh_fail(e, VH_EX_SOFTWARE, "lookup index full");
            goto out;
        }
        memcpy(out + used, rec, n);
        used += n;
        h.heap_end += n;
        h.nlive++;
    }
    if (s != SQLITE_DONE) {
        vh_db_fail(db, s, "reading the domains for the index", e);
        goto out;
    }
    if ((used && vh_fd_pwrite_full(a.fd, out, used, flushed) < 0) ||
        vh_fd_pwrite_full(a.fd, b, nb * sizeof *b, VH_IXFMT_HDR) < 0)
        goto ioerr;
    h.valid = 1;
    h.seq = 2;
    /* kept open: mark_stale_fd may need it once it is in place */
    if (vh_fd_pwrite_full(a.fd, &h, sizeof h, 0) < 0 ||
        vh_atomic_commit(&a, base, VH_ATOMIC_DATASYNC | VH_ATOMIC_KEEP_OPEN) < 0)
        goto ioerr;
    if (pass_the_tick(dbpath, &h.id) < 0) {
        if (mark_stale_fd(a.fd) < 0)
            unlinkat(dfd, base, 0); /* no index claims nothing either */
        vh_fail(e, VH_EX_SOFTWARE, "the database's file times cannot be told apart from a later change's");
        goto out;
    }
    rc = 0;
    goto out;
ioerr:
    vh_fail(e, VH_EX_IOERR, "writing the lookup index %s: %s", tmp, strerror(errno));
out:
    vh_atomic_abort(&a); /* closes the index; removes it only if not yet renamed */
    close(dfd);
    sqlite3_finalize(st);
    free(rec);
    free(b);
    return rc;
}

/* The rows of keys, updated in the index in place: 1 done, 0 the index
 * cannot be updated in place (rebuild), -1 error with e. The caller has
 * proved that the index held the state the change began from (ino: the
 * file it checked) and that no other commit landed since. */
static int update_in_place(sqlite3 *db, const char *dbpath, uint64_t ino, const vh_ixwrite_key *keys, int nkeys,
                           vh_err *e)
{
    char path[PATH_MAX + 16];
    if ((size_t)snprintf(path, sizeof path, "%s%s", dbpath, VH_IX_SUFFIX) >= sizeof path)
        return 0;
    struct stat st;
    char msg[2 * PATH_MAX];
    int fd = vh_ix_open(dbpath, O_RDWR, &st, msg, sizeof msg);
    if (fd < 0)
        return 0;
    vh_ixfmt_hdr h;
    int64_t cookie = 0;
    int result = 0;
    sqlite3_stmt *sel = NULL;
    unsigned char *rec = NULL;
    size_t cap = 0;
    static unsigned char buf[VH_IXFMT_REC_MAX];
    const char *why;
    if ((uint64_t)st.st_ino != ino || vh_fd_pread_full(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        !vh_ixfmt_hdr_sane(&h, (uint64_t)st.st_size) || h.valid != 0 ||
        pragma_i64(db, "PRAGMA schema_version", &cookie) < 0 || h.schema_cookie != (int32_t)cookie ||
        h.user_version != vh_db_schema_version() || (h.nlive + h.ndead + (uint64_t)nkeys) * 4 > h.nbuckets * 3)
        goto out;
    /* the header says stale (vh_ixwrite_begin, synced); make the seq odd too */
    h.seq |= 1;
    if (vh_fd_pwrite_full(fd, &h, sizeof h, 0) < 0)
        goto ioerr;
    if (sqlite3_prepare_v2(db, vh_select_sql, -1, &sel, NULL) != SQLITE_OK) {
        vh_db_fail(db, sqlite3_errcode(db), "reading a changed row for the index", e);
        result = -1;
        goto out;
    }
    for (int i = 0; i < nkeys; i++) {
        vh_ixfmt_col c[VH_IXFMT_NCOLS];
        uint64_t at;
        int f = vh_ix_find(fd, &h, keys[i].service, keys[i].address, buf, c, &at);
        if (f < 0)
            goto out; /* damaged: rebuild */
        if (f == 1) {
            vh_ixfmt_bucket dead = VH_IXFMT_B_REMOVED;
            if (vh_fd_pwrite_full(fd, &dead, sizeof dead, (off_t)(VH_IXFMT_HDR + at * sizeof dead)) < 0)
                goto ioerr;
            h.nlive--;
            h.ndead++;
        }
        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, keys[i].service, -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 2, keys[i].address, -1, SQLITE_STATIC);
        int s = sqlite3_step(sel);
        if (s == SQLITE_DONE)
            continue;
        if (s != SQLITE_ROW) {
            vh_db_fail(db, s, "reading a changed row for the index", e);
            result = -1;
            goto out;
        }
        uint64_t hash;
        size_t n = rec_build(sel, &rec, &cap, &hash);
        if (n == 0 || n == (size_t)-1)
            goto out;
        if (vh_fd_pwrite_full(fd, rec, n, (off_t)h.heap_end) < 0)
            goto ioerr;
        /* the first free or removed bucket of the chain */
        uint64_t j = hash & (h.nbuckets - 1);
        vh_ixfmt_bucket bk;
        for (uint64_t k = 0;; k++, j = (j + 1) & (h.nbuckets - 1)) {
            if (k == h.nbuckets ||
                vh_fd_pread_full(fd, &bk, sizeof bk, (off_t)(VH_IXFMT_HDR + j * sizeof bk)) != (ssize_t)sizeof bk)
                goto out;
            if (bk < 2)
                break;
        }
        if (bk == 1)
            h.ndead--;
        if (h.heap_end >= VH_IXFMT_OFF_LIMIT)
            goto out;
        bk = VH_IXFMT_B_TAG(hash) | h.heap_end;
        if (vh_fd_pwrite_full(fd, &bk, sizeof bk, (off_t)(VH_IXFMT_HDR + j * sizeof bk)) < 0)
            goto ioerr;
        h.heap_end += n;
        h.nlive++;
    }
    /* 2: the new rows are down; 3: claim the new state */
    if (fdatasync(fd) < 0)
        goto ioerr;
    if (fill_hdr(db, dbpath, &h, &why) < 0)
        goto out;
    /* the prefix lengths and trusted sources as they are now: a change
     * of either (a prefix row added or removed, proxy-trust) is an
     * in-place update too, with or without keys */
    if (fill_sql4(db, &h, e) < 0) {
        result = -1;
        goto out;
    }
    h.valid = 1;
    h.seq++;
    if (vh_fd_pwrite_full(fd, &h, sizeof h, 0) < 0)
        goto ioerr;
    if (pass_the_tick(dbpath, &h.id) < 0) {
        if (mark_stale_fd(fd) < 0)
            unlink(path); /* no index claims nothing either */
        vh_fail(e, VH_EX_SOFTWARE, "the database's file times cannot be told apart from a later change's");
        result = -1;
        goto out;
    }
    result = 1;
    goto out;
ioerr:
    vh_fail(e, VH_EX_IOERR, "updating the lookup index %s: %s", path, strerror(errno));
    result = -1;
out:
    sqlite3_finalize(sel);
    free(rec);
    close(fd);
    return result;
}

/* The index opened for writing before a change: fd; -1 when there is
 * none or only one virtuald refuses anyway (not root's, writable by
 * others, not a regular file: vh_ixwrite_finish replaces it); -2 with e on any
 * other failure (the change must not go on). */
static int open_to_mark(const char *dbpath, struct stat *st, vh_err *e)
{
    char msg[2 * PATH_MAX];
    int fd = vh_ix_open(dbpath, O_RDWR, st, msg, sizeof msg);
    if (fd >= 0 || fd == -2 || errno == ENOENT)
        return fd >= 0 ? fd : -1;
    vh_fail(e, VH_EX_IOERR, "cannot open the lookup index %s%s: %s - nothing changed", dbpath, VH_IX_SUFFIX,
            strerror(errno));
    return -2;
}

int vh_ixwrite_begin(sqlite3 *db, const char *dbpath, vh_ixwrite_txn *t, vh_err *e)
{
    memset(t, 0, sizeof *t);
    /* changes committed by other connections move it (SQLite's promise);
     * our own do not */
    if (pragma_i64(db, "PRAGMA data_version", &t->data_version) < 0)
        t->data_version = -1;
    struct stat st;
    int fd = open_to_mark(dbpath, &st, e);
    if (fd < 0)
        return fd == -1 ? 0 : -1;
    vh_ixfmt_hdr h;
    vh_ixfmt_stamp now;
    int64_t cookie = -1;
    ssize_t n = vh_fd_pread_full(fd, &h, sizeof h, 0);
    if (n < 0) {
        close(fd);
        return vh_fail(e, VH_EX_IOERR, "cannot read the lookup index of %s: %s - nothing changed", dbpath,
                       strerror(errno));
    }
    if (n == (ssize_t)sizeof h && vh_ixfmt_hdr_sane(&h, (uint64_t)st.st_size)) {
        pragma_i64(db, "PRAGMA schema_version", &cookie);
        t->base_ok = h.valid == 1 && !(h.seq & 1) && h.schema_cookie == cookie &&
                     h.user_version == vh_db_schema_version() && !ident_sqlite(db, dbpath, &now) &&
                     memcmp(&now, &h.id, sizeof now) == 0 && t->data_version >= 0;
        t->ino = (uint64_t)st.st_ino;
    }
    /* stale, durably, before the change can commit: a crash from here on
     * leaves an index that claims nothing (a short or malformed one claims
     * nothing already and is left for vh_ixwrite_finish to replace) */
    if (mark_stale_fd(fd) < 0) {
        close(fd);
        return vh_fail(e, VH_EX_IOERR, "cannot mark the lookup index of %s stale: %s - nothing changed", dbpath,
                       strerror(errno));
    }
    close(fd);
    return 0;
}

int vh_ixwrite_mark_stale(const char *dbpath, vh_err *e)
{
    struct stat st;
    int fd = open_to_mark(dbpath, &st, e);
    if (fd < 0)
        return fd == -1 ? 0 : -1;
    int rc = mark_stale_fd(fd);
    close(fd);
    return rc < 0 ? vh_fail(e, VH_EX_IOERR, "cannot mark the lookup index of %s stale: %s", dbpath, strerror(errno))
                  : 0;
}

int vh_ixwrite_finish(sqlite3 *db, const char *dbpath, const vh_ixwrite_txn *t, const vh_ixwrite_key *keys, int nkeys,
                      vh_err *e)
{
    /* An empty WAL first, so that the state is the database file alone
     * (ident_now) and stays so when this connection closes. Readers in
     * the way (a virtuald reading the database, a vhostctl list) are
     * waited for briefly; if they stay, the WAL index names the state. */
    sqlite3_busy_timeout(db, VH_DB_BUSY_MS);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_busy_timeout(db, VH_DB_ADMIN_BUSY_MS);
    /* SQLite's write lock: no commit can land while the index is made,
     * and index writers queue like database writers. */
    if (vh_dbadmin_begin(db, e) < 0)
        return -1;
    int rc = -1, done = 0;
    /* In place only when the index held the state the change began from
     * and no other connection committed since (data_version unmoved). */
    int64_t dv = -1;
    if (t && keys && t->base_ok && pragma_i64(db, "PRAGMA data_version", &dv) == 0 && dv == t->data_version) {
        done = update_in_place(db, dbpath, t->ino, keys, nkeys, e);
        if (done < 0)
            goto out;
    }
    if (!done && rebuild(db, dbpath, e) < 0)
        goto out;
    rc = 0;
out:
    vh_db_rollback(db);
    return rc;
}

/* For tests and vhostctl init: rebuild from a fresh connection. */
int vh_ixwrite_rebuild(const char *dbpath, vh_err *e)
{
    sqlite3 *db = NULL;
    if (vh_dbadmin_open(dbpath, 0, &db, e) < 0)
        return -1;
    int rc = vh_ixwrite_finish(db, dbpath, NULL, NULL, 0, e);
    vh_err ce;
    if (vh_db_close(db, &ce) < 0 && rc == 0) {
        *e = ce;
        rc = -1;
    }
    return rc;
}
