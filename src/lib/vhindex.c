/* vhindex.c - the lookup index (vhindex.h; doc/design.md "The lookup
 * index").
 *
 * File layout (host byte order; the file never leaves the machine):
 *   [0, 4096)            header (struct ixhdr)
 *   [4096, heap_start)   nbuckets buckets, u64 each: 0 empty, 1 removed,
 *                        else a record's offset (low 40 bits) and the top
 *                        24 bits of its key's hash
 *   [heap_start, heap_end) records, appended, never rewritten
 * A record: u32 length (all of it), u32 0, u64 hash, then the
 * VH_ROW_NCOLS columns of vh_select_sql (VH_ROW_COLS), each u8 SQLite
 * type, i64 integer value, u32 text length, the text and a NUL - what sqlite3_column_type/_int64/
 * _text return, so that a row read from here fills vh_row through the
 * same code as one read from SQLite (vh_row_from_cols).
 *
 * Writers (vhostctl, holding SQLite's write lock) change the file in
 * place: header invalid and seq odd, synced; records appended and buckets
 * set; synced; header valid with seq even. A rebuild writes a new file
 * and renames it over the old one. Readers take the header, look up, and
 * read seq again: a changed or odd seq, or valid 0, sends them to SQLite.
 */
#include "vhindex.h"

#include "db.h"
#include "exitcodes.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define IX_MAGIC "VHINDEX\n"
/* 2: records carry the eleven columns of schema version 2 (VH_ROW_COLS);
 * a format-1 file (nine columns) is malformed to this reader */
#define IX_FORMAT 2
#define IX_ENDIAN 0x01020304u
#define IX_HDR 4096
#define IX_NCOLS VH_ROW_NCOLS
#define IX_REC_MAX 65536   /* larger rows are never indexed: SQLite answers */
#define IX_PROBES 4096     /* a longer probe chain means a damaged file */
#define IX_SHM_VERSION 3007000u

/* The database state an index describes, as virtuald can see it without
 * SQLite. With an empty (or no) -wal file the state is the database file
 * alone: its 100-byte header (file change counter, page count, schema
 * cookie, versions, WAL mode), inode, size and times. With frames in the
 * -wal, it is also the WAL-index header in -shm (frame count, salts and
 * running frame checksum, which move with every commit; a reset log gets
 * new random salts) - trusted only while some connection holds the -shm
 * (SQLite's DMS lock): with none, the -shm may be older than the -wal
 * (power loss, a killed writer) and SQLite itself would rebuild it, so
 * virtuald asks SQLite. The header's iChange and checksum are left out
 * (recovery rebuilds the same frames with other bookkeeping), and with no
 * frames so is the rest of it. */
struct ident {
    uint32_t mx_frame, n_page, sz_page, version;
    uint32_t frame_cksum[2], salt[2];
    unsigned char dbhdr[100];
    uint32_t pad;
    char boot_id[40];             /* this boot: a power loss never leaves a stamp true */
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct ixhdr {
    char magic[8];
    uint32_t format, endian;
    uint64_t seq;
    uint32_t valid;
    int32_t user_version, application_id, schema_cookie;
    int64_t unused;
    uint64_t nbuckets, nlive, ndead, heap_start, heap_end;
    struct ident id;
};

typedef uint64_t bucket;
#define B_OFF(b) ((b) & ((1ULL << 40) - 1))
#define B_TAG(h) ((h) >> 40 << 40)

/* One column as SQLite returned it. */
struct col {
    int type;
    int64_t ival;
    const char *text;
    uint32_t len;
};

static uint64_t key_hash(const char *svc, size_t ls, const char *adr, size_t la)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < ls; i++)
        h = (h ^ (unsigned char)svc[i]) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (size_t i = 0; i < la; i++)
        h = (h ^ (unsigned char)adr[i]) * 1099511628211ULL;
    return h < 2 ? h + 2 : h; /* never a marker value */
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Fill id from the database's first 100 bytes and stat, and - shm not
 * NULL - the 96 bytes at the start of -shm (both copies of the WAL-index
 * header). Returns NULL, or why the state cannot be named. */
static const char *canon(const unsigned char *shm, const unsigned char *dbhdr, const struct stat *st, struct ident *id)
{
    memset(id, 0, sizeof *id);
    if (memcmp(dbhdr, "SQLite format 3", 16) != 0 || dbhdr[18] != 2 || dbhdr[19] != 2)
        return "the database is not in WAL mode";
    /* the boot: file times may not survive a crash (lazytime, fdatasync),
     * a stamp never outlives the boot it was made in */
    int bfd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ssize_t bn = bfd < 0 ? -1 : read(bfd, id->boot_id, sizeof id->boot_id - 1);
    if (bfd >= 0)
        close(bfd);
    if (bn < 32)
        return "cannot read this boot's id";
    if (shm) {
        if (memcmp(shm, shm + 48, 48) != 0)
            return "the WAL index is being written";
        if (rd32(shm) != IX_SHM_VERSION || shm[12] != 1)
            return "the WAL index is not initialised";
        /* its own checksum, as SQLite's readers check it (native order) */
        uint32_t s1 = 0, s2 = 0;
        for (int i = 0; i < 40; i += 8) {
            s1 += rd32(shm + i) + s2;
            s2 += rd32(shm + i + 4) + s1;
        }
        if (s1 != rd32(shm + 40) || s2 != rd32(shm + 44))
            return "the WAL index header fails its checksum";
        id->mx_frame = rd32(shm + 16);
        /* frames in the -wal that the WAL index does not count: a log
         * being reset, or copied into the database file while this runs -
         * the file's identity, read before, may be older than the state */
        if (!id->mx_frame)
            return "the WAL holds frames its index does not count";
        {
            id->version = IX_SHM_VERSION;
            id->sz_page = (uint32_t)shm[14] | (uint32_t)shm[15] << 8;
            id->n_page = rd32(shm + 20);
            id->frame_cksum[0] = rd32(shm + 24);
            id->frame_cksum[1] = rd32(shm + 28);
            id->salt[0] = rd32(shm + 32);
            id->salt[1] = rd32(shm + 36);
        }
    }
    memcpy(id->dbhdr, dbhdr, 100);
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_s = (int64_t)st->st_mtim.tv_sec;
    id->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
    id->ctime_s = (int64_t)st->st_ctim.tv_sec;
    id->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
    return NULL;
}

/* Whether -wal holds frames: 0 empty or absent, 1 frames, -1 not a file. */
static int wal_frames(const char *dbpath)
{
    char walpath[PATH_MAX + 8];
    struct stat st;
    if ((size_t)snprintf(walpath, sizeof walpath, "%s-wal", dbpath) >= sizeof walpath)
        return -1;
    if (lstat(walpath, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISREG(st.st_mode))
        return -1;
    return st.st_size > 0;
}

static int side_path(const char *dbpath, const char *sfx, char *out, size_t n)
{
    return (size_t)snprintf(out, n, "%s%s", dbpath, sfx) < n ? 0 : -1;
}

static ssize_t pread_full(int fd, void *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : (ssize_t)got;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* The state of the database files as they are now, read without SQLite
 * (virtuald, before any SQLite connection exists in the process: closing
 * these descriptors cannot drop a lock SQLite holds). The -wal first: if
 * it is empty, no commit is outside the database file at that moment,
 * and the file's identity (read after) names the state. A connection in
 * exclusive locking mode keeps its WAL index private and holds a write
 * lock on the database's shared-lock bytes: such a lock means "cannot
 * tell", as does a non-empty -wal whose -shm no connection holds. */
static const char *ident_now(const char *dbpath, struct ident *id)
{
    char shmpath[PATH_MAX + 8];
    unsigned char dbhdr[100], shm[96];
    struct stat st;
    if (side_path(dbpath, "-shm", shmpath, sizeof shmpath) < 0)
        return "path too long";
    int frames = wal_frames(dbpath);
    if (frames < 0)
        return "cannot tell the -wal file's size";
    int fd = open(dbpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return "cannot open the database";
    const char *why = NULL;
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0x40000000 + 2, .l_len = 510};
    if (fstat(fd, &st) < 0 || pread_full(fd, dbhdr, sizeof dbhdr, 0) != (ssize_t)sizeof dbhdr)
        why = "cannot read the database header";
    else if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type != F_UNLCK)
        why = "a connection holds the database exclusively";
    close(fd);
    if (why)
        return why;
    if (!frames)
        return canon(NULL, dbhdr, &st, id);
    int sfd = open(shmpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (sfd < 0)
        return "no WAL index (-shm)";
    /* SQLite's DMS lock (byte 128 of -shm): held, shared, by every
     * connection that uses the -shm; the first one to arrive rebuilt it */
    struct flock dms = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1};
    ssize_t n = -1;
    /* held shared: in use; held exclusively: being (re)built */
    if (fcntl(sfd, F_GETLK, &dms) == 0 && dms.l_type == F_RDLCK)
        n = pread_full(sfd, shm, sizeof shm, 0);
    else
        why = "the WAL holds frames and no connection keeps its index";
    close(sfd);
    if (why)
        return why;
    if (n != (ssize_t)sizeof shm)
        return "the WAL index is too short";
    return canon(shm, dbhdr, &st, id);
}

/* The same state, as ident_now will see it, through a connection that
 * holds SQLite's write lock (vhostctl, which also holds the -shm): the
 * database header and the WAL index through SQLite's own file handle and
 * mapping, the file's inode and times through an O_PATH descriptor -
 * never a descriptor of ours whose close would drop SQLite's POSIX locks
 * (closing an O_PATH descriptor releases none). */
static const char *ident_sqlite(sqlite3 *db, const char *dbpath, struct ident *id)
{
    sqlite3_file *f = NULL;
    unsigned char dbhdr[100], shm[96];
    struct stat st;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
        f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
        return "no file handle";
    int frames = wal_frames(dbpath);
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
        return canon(NULL, dbhdr, &st, id);
    volatile void *region = NULL;
    if (f->pMethods->xShmMap(f, 0, 32768, 0, &region) != SQLITE_OK || !region)
        return "no WAL index";
    memcpy(shm, (const void *)region, sizeof shm);
    return canon(shm, dbhdr, &st, id);
}

/* ---- reading --------------------------------------------------------- */

static int parse_rec(const unsigned char *p, size_t n, struct col *c)
{
    size_t o = 16;
    for (int i = 0; i < IX_NCOLS; i++) {
        if (n - o < 13 || o > n)
            return -1;
        c[i].type = p[o];
        memcpy(&c[i].ival, p + o + 1, 8);
        c[i].len = rd32(p + o + 9);
        o += 13;
        if (c[i].len > n - o || n - o - c[i].len < 1 || p[o + c[i].len] != 0)
            return -1;
        c[i].text = (const char *)p + o;
        o += (size_t)c[i].len + 1;
    }
    return o == n ? 0 : -1;
}

/* Find service/address; 1 found (cols point into buf), 0 absent, -1 the
 * file is not as it should be. */
static int ix_find(int fd, const struct ixhdr *h, const char *svc, const char *adr, unsigned char *buf, struct col *c,
                   uint64_t *bucket_at)
{
    size_t ls = strlen(svc), la = strlen(adr);
    uint64_t hash = key_hash(svc, ls, adr, la), mask = h->nbuckets - 1;
    uint64_t i = hash & mask;
    bucket b[8];
    for (int probes = 0; probes < IX_PROBES;) {
        uint64_t cnt = h->nbuckets - i < 8 ? h->nbuckets - i : 8;
        if (pread_full(fd, b, cnt * sizeof *b, (off_t)(IX_HDR + i * sizeof *b)) != (ssize_t)(cnt * sizeof *b))
            return -1;
        for (uint64_t k = 0; k < cnt; k++, probes++) {
            if (b[k] == 0)
                return 0;
            if (b[k] == 1 || B_TAG(b[k]) != B_TAG(hash))
                continue;
            uint64_t off = B_OFF(b[k]);
            if (off < h->heap_start || off > h->heap_end - 16)
                return -1;
            size_t want = h->heap_end - off < IX_REC_MAX ? (size_t)(h->heap_end - off) : IX_REC_MAX;
            size_t first = want < 1024 ? want : 1024;
            if (pread_full(fd, buf, first, (off_t)off) != (ssize_t)first)
                return -1;
            uint32_t len = rd32(buf);
            if (len < 16 || len > want)
                return -1;
            if (len > first && pread_full(fd, buf + first, len - first, (off_t)(off + first)) != (ssize_t)(len - first))
                return -1;
            uint64_t stored;
            memcpy(&stored, buf + 8, 8);
            if (stored != hash || parse_rec(buf, len, c) < 0)
                return -1;
            /* SQL's "service = ?" matches TEXT values only: a BLOB with
             * the same bytes is another value */
            if (c[0].type == SQLITE_TEXT && c[1].type == SQLITE_TEXT && c[0].len == ls && c[1].len == la &&
                !memcmp(c[0].text, svc, ls) && !memcmp(c[1].text, adr, la)) {
                if (bucket_at)
                    *bucket_at = i + k;
                return 1;
            }
        }
        i = (i + cnt) & mask;
    }
    return -1;
}

static int hdr_sane(const struct ixhdr *h, uint64_t fsize)
{
    return memcmp(h->magic, IX_MAGIC, 8) == 0 && h->format == IX_FORMAT && h->endian == IX_ENDIAN &&
           h->nbuckets >= 8 && (h->nbuckets & (h->nbuckets - 1)) == 0 && h->nbuckets < (1ULL << 40) &&
           h->heap_start == IX_HDR + h->nbuckets * sizeof(bucket) && h->heap_end >= h->heap_start &&
           h->heap_end <= fsize;
}

/* Open the index of dbpath (oflags: O_RDONLY or O_RDWR), never through a
 * symbolic link. The directory is the database's, already walked and
 * trusted; the file itself must be a regular file, root's and written by
 * nobody else (E1). Returns fd; -1 when it cannot be opened (errno says
 * why, ENOENT: there is none); -2 when it is there but untrusted, with
 * msg. */
static int ix_open(const char *dbpath, int oflags, struct stat *st, char *msg, size_t n)
{
    char path[PATH_MAX + 16];
    if (side_path(dbpath, VH_IX_SUFFIX, path, sizeof path) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, oflags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP) { /* a symbolic link */
            snprintf(msg, n, "%s is a symbolic link", path);
            return -2;
        }
        return -1;
    }
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if (!S_ISREG(st->st_mode) || vh_path_judge(path, st, msg, n)) {
        if (!S_ISREG(st->st_mode))
            snprintf(msg, n, "%s is not a regular file", path);
        close(fd);
        return -2;
    }
    return fd;
}

/* Open the index of dbpath for reading: fd, or -1 with *why (absent,
 * unreadable) or -2 with e (untrusted). */
static int ix_open_read(const char *dbpath, struct stat *st, const char **why, vh_err *e)
{
    char msg[2 * PATH_MAX];
    int fd = ix_open(dbpath, O_RDONLY, st, msg, sizeof msg);
    if (fd == -1 && errno == ENOENT) {
        *why = "no index";
        return -1;
    }
    if (fd == -1)
        snprintf(msg, sizeof msg, "cannot open %s%s: %s", dbpath, VH_IX_SUFFIX, strerror(errno));
    if (fd < 0) {
        vh_fail(e, VH_EX_CONFIG, "lookup index untrusted: %s - remove it and run vhostctl init", msg);
        return -2;
    }
    return fd;
}

static int ix_answer(const char *dbpath, const char *service, const char *address, vh_row *row, int want_row,
                     const char **why, vh_err *e)
{
    struct stat st;
    *why = NULL;
    int fd = ix_open_read(dbpath, &st, why, e);
    if (fd == -2)
        return -1;
    if (fd < 0)
        return VH_IX_STALE;
    struct ixhdr h;
    struct ident now;
    int result = VH_IX_STALE;
    if (pread_full(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || !hdr_sane(&h, (uint64_t)st.st_size)) {
        *why = "the index is malformed";
        goto out;
    }
    if ((h.seq & 1) || !h.valid) {
        *why = "the index is being updated or stale";
        goto out;
    }
    if (h.user_version != vh_db_schema_version() || h.application_id != VH_DB_APPLICATION_ID) {
        *why = "the index is of another schema version";
        goto out;
    }
    if ((*why = ident_now(dbpath, &now)) != NULL)
        goto out;
    if (memcmp(&now, &h.id, sizeof now) != 0) {
        *why = "the database changed since the index was made";
        goto out;
    }
    if (!want_row) {
        result = VH_RULE_NONE;
        goto out;
    }
    static unsigned char buf[IX_REC_MAX];
    const char *const svc[4] = {service, "*", service, "*"};
    const char *const adr[4] = {address, address, "default", "default"};
    struct col c[IX_NCOLS];
    int rule = VH_RULE_NONE, bad_row = 0;
    vh_err row_e;
    for (int i = 0; i < 4; i++) {
        int f = ix_find(fd, &h, svc[i], adr[i], buf, c, NULL);
        if (f < 0) {
            *why = "the index is malformed";
            goto out;
        }
        if (f == 1) {
            const char *text[IX_NCOLS];
            int type[IX_NCOLS];
            int64_t ival[IX_NCOLS];
            for (int k = 0; k < IX_NCOLS; k++) {
                text[k] = c[k].type == SQLITE_NULL ? NULL : c[k].text;
                type[k] = c[k].type;
                ival[k] = c[k].ival;
            }
            /* a row the checks refuse is refused as the database's
             * lookup would refuse it - once the read proves consistent */
            bad_row = vh_row_from_cols(text, type, ival, row, &row_e) < 0;
            rule = VH_RULE_EXACT + i;
            break;
        }
    }
    uint64_t seq2;
    if (pread_full(fd, &seq2, sizeof seq2, (off_t)offsetof(struct ixhdr, seq)) != (ssize_t)sizeof seq2 || seq2 != h.seq) {
        *why = "the index changed during the lookup";
        goto out;
    }
    if (bad_row) {
        *e = row_e;
        goto out_refuse;
    }
    result = rule;
out:
    close(fd);
    return result;
out_refuse:
    close(fd);
    return -1;
}

int vh_ix_select(const char *dbpath, const char *service, const char *address, vh_row *row, const char **why,
                 vh_err *e)
{
    return ix_answer(dbpath, service, address, row, 1, why, e);
}

int vh_ix_current(const char *dbpath, const char **why, vh_err *e)
{
    int r = ix_answer(dbpath, NULL, NULL, NULL, 0, why, e);
    return r == VH_RULE_NONE ? 1 : r == VH_IX_STALE ? 0 : -1;
}

/* ---- writing --------------------------------------------------------- */

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
    size_t n = 16;
    for (int i = 0; i < IX_NCOLS; i++)
        n += 13 + (size_t)sqlite3_column_bytes(st, i) + 1;
    if (n > IX_REC_MAX)
        return 0;
    if (n > *cap) {
        unsigned char *nb = realloc(*buf, n);
        if (!nb)
            return (size_t)-1;
        *buf = nb;
        *cap = n;
    }
    unsigned char *p = *buf;
    uint32_t len = (uint32_t)n, zero = 0;
    memcpy(p, &len, 4);
    memcpy(p + 4, &zero, 4);
    size_t o = 16;
    for (int i = 0; i < IX_NCOLS; i++) {
        int type = sqlite3_column_type(st, i);
        int64_t iv = sqlite3_column_int64(st, i);
        const unsigned char *t = sqlite3_column_text(st, i);
        uint32_t tl = (uint32_t)sqlite3_column_bytes(st, i);
        p[o] = (unsigned char)type;
        memcpy(p + o + 1, &iv, 8);
        memcpy(p + o + 9, &tl, 4);
        o += 13;
        if (tl)
            memcpy(p + o, t, tl);
        p[o + tl] = 0;
        o += tl + 1;
    }
    *hash = key_hash((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                     (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
    memcpy(p + 8, hash, 8);
    return n;
}

static int bucket_put(bucket *b, uint64_t nb, uint64_t hash, uint64_t off)
{
    for (uint64_t i = hash & (nb - 1), k = 0; k < nb; k++, i = (i + 1) & (nb - 1))
        if (b[i] < 2) {
            b[i] = B_TAG(hash) | off;
            return 0;
        }
    return -1;
}

/* The header's claim: schema and the identity of the state now (the
 * caller holds the write lock: no commit can change it). */
static int fill_hdr(sqlite3 *db, const char *dbpath, struct ixhdr *h, const char **why)
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

/* Hold on (the caller keeps the write lock) until the clock that stamps
 * file times has passed the database's recorded times: any later change
 * to the file then gets a later time, also on file systems whose times
 * move once a tick, or once a second (both nanosecond fields 0). Only on
 * local file systems known to stamp from this kernel's clock at that
 * granularity or better (FAT keeps 2 s, exFAT 10 ms, NFS and SMB the
 * server's clock): elsewhere no stamp is made. 0, or -1 (the caller
 * leaves the index stale). */
static int pass_the_tick(const char *dbpath, const struct ident *id)
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
    case 0x794C7630UL: /* overlayfs: the upper layer's times */
        break;
    default:
        return -1;
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
    struct ixhdr h;
    struct stat st;
    ssize_t n = pread_full(fd, &h, sizeof h, 0);
    if (n < 0 || fstat(fd, &st) < 0)
        return -1;
    /* a short or malformed file claims nothing already: left as it is */
    if (n != (ssize_t)sizeof h || !hdr_sane(&h, (uint64_t)st.st_size))
        return 0;
    h.valid = 0;
    h.seq += 2;
    return pwrite_full(fd, &h, sizeof h, 0) < 0 || fdatasync(fd) < 0 ? -1 : 0;
}

/* The directory of path (O_RDONLY, to fsync it) and path's last
 * component in base. Returns an fd or -1 with errno. */
static int open_dir_of(const char *path, char *base, size_t n)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if ((size_t)snprintf(base, n, "%s", slash ? slash + 1 : dir) >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
    if (side_path(dbpath, VH_IX_SUFFIX, path, sizeof path) < 0 ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= sizeof tmp)
        return vh_fail(e, VH_EX_CONFIG, "database path too long for its index");
    int dfd = open_dir_of(path, base, sizeof base);
    if (dfd < 0)
        return vh_fail(e, VH_EX_CANTCREAT, "cannot open the directory of %s: %s", path, strerror(errno));
    if ((size_t)snprintf(tbase, sizeof tbase, "%s.tmp%d", base, (int)getpid()) >= sizeof tbase) {
        close(dfd);
        return vh_fail(e, VH_EX_CONFIG, "database name too long for its index");
    }
    sqlite3_stmt *st = NULL;
    int64_t count = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM domains", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    uint64_t nb = 1024;
    while (nb < (uint64_t)count * 2 + 1024)
        nb <<= 1;
    bucket *b = calloc(nb, sizeof *b);
    unsigned char *rec = NULL;
    size_t cap = 0;
    struct ixhdr h;
    const char *why = NULL;
    int fd = -1, rc = -1;
    if (!b) {
        vh_fail(e, VH_EX_OSERR, "out of memory building the lookup index");
        goto out;
    }
    memset(&h, 0, sizeof h);
    memcpy(h.magic, IX_MAGIC, 8);
    h.format = IX_FORMAT;
    h.endian = IX_ENDIAN;
    h.nbuckets = nb;
    h.heap_start = h.heap_end = IX_HDR + nb * sizeof *b;
    unlinkat(dfd, tbase, 0);
    fd = openat(dfd, tbase, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        vh_fail(e, VH_EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fill_hdr(db, dbpath, &h, &why) < 0) {
        vh_fail(e, VH_EX_SOFTWARE, "lookup index: %s", why);
        goto out;
    }
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
            vh_fail(e, VH_EX_DATAERR, "a row larger than %d bytes cannot be indexed", IX_REC_MAX);
            goto out;
        }
        if (used + n > sizeof out) {
            if (pwrite_full(fd, out, used, flushed) < 0)
                goto ioerr;
            flushed += (off_t)used;
            used = 0;
        }
        if (h.heap_end + n >= (1ULL << 40) || bucket_put(b, nb, hash, h.heap_end) < 0) {
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
    if ((used && pwrite_full(fd, out, used, flushed) < 0) ||
        pwrite_full(fd, b, nb * sizeof *b, IX_HDR) < 0)
        goto ioerr;
    h.valid = 1;
    h.seq = 2;
    if (pwrite_full(fd, &h, sizeof h, 0) < 0 || fdatasync(fd) < 0)
        goto ioerr;
    if (renameat(dfd, tbase, dfd, base) < 0)
        goto ioerr;
    fsync(dfd);
    if (pass_the_tick(dbpath, &h.id) < 0) {
        if (mark_stale_fd(fd) < 0)
            unlinkat(dfd, base, 0); /* no index claims nothing either */
        vh_fail(e, VH_EX_SOFTWARE, "the database's file times cannot be told apart from a later change's");
        goto out;
    }
    rc = 0;
    goto out;
ioerr:
    vh_fail(e, VH_EX_IOERR, "writing the lookup index %s: %s", tmp, strerror(errno));
out:
    if (fd >= 0) {
        close(fd);
        if (rc < 0)
            unlinkat(dfd, tbase, 0);
    }
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
static int update_in_place(sqlite3 *db, const char *dbpath, uint64_t ino, const vh_ix_key *keys, int nkeys, vh_err *e)
{
    char path[PATH_MAX + 16];
    if (side_path(dbpath, VH_IX_SUFFIX, path, sizeof path) < 0)
        return 0;
    struct stat st;
    char msg[2 * PATH_MAX];
    int fd = ix_open(dbpath, O_RDWR, &st, msg, sizeof msg);
    if (fd < 0)
        return 0;
    struct ixhdr h;
    int64_t cookie = 0;
    int result = 0;
    sqlite3_stmt *sel = NULL;
    unsigned char *rec = NULL;
    size_t cap = 0;
    static unsigned char buf[IX_REC_MAX];
    const char *why;
    if ((uint64_t)st.st_ino != ino || pread_full(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        !hdr_sane(&h, (uint64_t)st.st_size) || h.valid != 0 || pragma_i64(db, "PRAGMA schema_version", &cookie) < 0 ||
        h.schema_cookie != (int32_t)cookie || h.user_version != vh_db_schema_version() ||
        (h.nlive + h.ndead + (uint64_t)nkeys) * 4 > h.nbuckets * 3)
        goto out;
    /* the header says stale (vh_ix_begin, synced); make the seq odd too */
    h.seq |= 1;
    if (pwrite_full(fd, &h, sizeof h, 0) < 0)
        goto ioerr;
    if (sqlite3_prepare_v2(db, vh_select_sql, -1, &sel, NULL) != SQLITE_OK) {
        vh_db_fail(db, sqlite3_errcode(db), "reading a changed row for the index", e);
        result = -1;
        goto out;
    }
    for (int i = 0; i < nkeys; i++) {
        struct col c[IX_NCOLS];
        uint64_t at;
        int f = ix_find(fd, &h, keys[i].service, keys[i].address, buf, c, &at);
        if (f < 0)
            goto out; /* damaged: rebuild */
        if (f == 1) {
            bucket dead = 1;
            if (pwrite_full(fd, &dead, sizeof dead, (off_t)(IX_HDR + at * sizeof dead)) < 0)
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
        if (pwrite_full(fd, rec, n, (off_t)h.heap_end) < 0)
            goto ioerr;
        /* the first free or removed bucket of the chain */
        uint64_t j = hash & (h.nbuckets - 1);
        bucket bk;
        for (uint64_t k = 0;; k++, j = (j + 1) & (h.nbuckets - 1)) {
            if (k == h.nbuckets || pread_full(fd, &bk, sizeof bk, (off_t)(IX_HDR + j * sizeof bk)) != (ssize_t)sizeof bk)
                goto out;
            if (bk < 2)
                break;
        }
        if (bk == 1)
            h.ndead--;
        if (h.heap_end >= (1ULL << 40))
            goto out;
        bk = B_TAG(hash) | h.heap_end;
        if (pwrite_full(fd, &bk, sizeof bk, (off_t)(IX_HDR + j * sizeof bk)) < 0)
            goto ioerr;
        h.heap_end += n;
        h.nlive++;
    }
    /* 2: the new rows are down; 3: claim the new state */
    if (fdatasync(fd) < 0)
        goto ioerr;
    if (fill_hdr(db, dbpath, &h, &why) < 0)
        goto out;
    h.valid = 1;
    h.seq++;
    if (pwrite_full(fd, &h, sizeof h, 0) < 0)
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
 * others, not a regular file: vh_ix_finish replaces it); -2 with e on any
 * other failure (the change must not go on). */
static int open_to_mark(const char *dbpath, struct stat *st, vh_err *e)
{
    char msg[2 * PATH_MAX];
    int fd = ix_open(dbpath, O_RDWR, st, msg, sizeof msg);
    if (fd >= 0 || fd == -2 || errno == ENOENT)
        return fd >= 0 ? fd : -1;
    vh_fail(e, VH_EX_IOERR, "cannot open the lookup index %s%s: %s - nothing changed", dbpath, VH_IX_SUFFIX,
            strerror(errno));
    return -2;
}

int vh_ix_begin(sqlite3 *db, const char *dbpath, vh_ix_txn *t, vh_err *e)
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
    struct ixhdr h;
    struct ident now;
    int64_t cookie = -1;
    ssize_t n = pread_full(fd, &h, sizeof h, 0);
    if (n < 0) {
        close(fd);
        return vh_fail(e, VH_EX_IOERR, "cannot read the lookup index of %s: %s - nothing changed", dbpath,
                       strerror(errno));
    }
    if (n == (ssize_t)sizeof h && hdr_sane(&h, (uint64_t)st.st_size)) {
        pragma_i64(db, "PRAGMA schema_version", &cookie);
        t->base_ok = h.valid == 1 && !(h.seq & 1) && h.schema_cookie == cookie &&
                     h.user_version == vh_db_schema_version() && !ident_sqlite(db, dbpath, &now) &&
                     memcmp(&now, &h.id, sizeof now) == 0 && t->data_version >= 0;
        t->ino = (uint64_t)st.st_ino;
    }
    /* stale, durably, before the change can commit: a crash from here on
     * leaves an index that claims nothing (a short or malformed one claims
     * nothing already and is left for vh_ix_finish to replace) */
    if (mark_stale_fd(fd) < 0) {
        close(fd);
        return vh_fail(e, VH_EX_IOERR, "cannot mark the lookup index of %s stale: %s - nothing changed", dbpath,
                       strerror(errno));
    }
    close(fd);
    return 0;
}

int vh_ix_mark_stale(const char *dbpath, vh_err *e)
{
    struct stat st;
    int fd = open_to_mark(dbpath, &st, e);
    if (fd < 0)
        return fd == -1 ? 0 : -1;
    int rc = mark_stale_fd(fd);
    close(fd);
    return rc < 0 ? vh_fail(e, VH_EX_IOERR, "cannot mark the lookup index of %s stale: %s", dbpath, strerror(errno)) : 0;
}

int vh_ix_finish(sqlite3 *db, const char *dbpath, const vh_ix_txn *t, const vh_ix_key *keys, int nkeys, vh_err *e)
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
    if (vh_db_begin(db, e) < 0)
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
int vh_ix_rebuild(const char *dbpath, vh_err *e)
{
    sqlite3 *db = NULL;
    if (vh_db_open_admin(dbpath, 0, &db, e) < 0)
        return -1;
    int rc = vh_ix_finish(db, dbpath, NULL, NULL, 0, e);
    vh_err ce;
    if (vh_db_close(db, &ce) < 0 && rc == 0) {
        *e = ce;
        rc = -1;
    }
    return rc;
}
