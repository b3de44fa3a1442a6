#include "ix.h"

#include "db.h"
#include "exitcodes.h"
#include "fd.h"
#include "ixfmt.h"
#include "ixstamp.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vh_ix_find(int fd, const vh_ixfmt_hdr *h, const char *svc, const char *adr, unsigned char *buf, vh_ixfmt_col *c,
               uint64_t *bucket_at)
{
    size_t ls = strlen(svc), la = strlen(adr);
    uint64_t hash = vh_ixfmt_hash(svc, ls, adr, la), mask = h->nbuckets - 1;
    uint64_t i = hash & mask;
    vh_ixfmt_bucket b[8];
    for (int probes = 0; probes < VH_IXFMT_PROBES;) {
        uint64_t cnt = h->nbuckets - i < 8 ? h->nbuckets - i : 8;
        if (vh_fd_pread_full(fd, b, cnt * sizeof *b, (off_t)(VH_IXFMT_HDR + i * sizeof *b)) !=
            (ssize_t)(cnt * sizeof *b))
            return -1;
        for (uint64_t k = 0; k < cnt; k++, probes++) {
            if (b[k] == 0)
                return 0;
            if (b[k] == 1 || VH_IXFMT_B_TAG(b[k]) != VH_IXFMT_B_TAG(hash))
                continue;
            uint64_t off = VH_IXFMT_B_OFF(b[k]);
            if (off < h->heap_start || off > h->heap_end - 16)
                return -1;
            size_t want = h->heap_end - off < VH_IXFMT_REC_MAX ? (size_t)(h->heap_end - off) : VH_IXFMT_REC_MAX;
            size_t first = want < 1024 ? want : 1024;
            if (vh_fd_pread_full(fd, buf, first, (off_t)off) != (ssize_t)first)
                return -1;
            uint32_t len = vh_ixfmt_rd32(buf);
            if (len < 16 || len > want)
                return -1;
            if (len > first &&
                vh_fd_pread_full(fd, buf + first, len - first, (off_t)(off + first)) != (ssize_t)(len - first))
                return -1;
            uint64_t stored;
            memcpy(&stored, buf + 8, 8);
            if (stored != hash || vh_ixfmt_rec_parse(buf, len, c) < 0)
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

int vh_ix_open(const char *dbpath, int oflags, struct stat *st, char *msg, size_t n)
{
    char path[PATH_MAX + 16];
    if ((size_t)snprintf(path, sizeof path, "%s%s", dbpath, VH_IX_SUFFIX) >= sizeof path) {
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
    int fd = vh_ix_open(dbpath, O_RDONLY, st, msg, sizeof msg);
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

static vh_ix_answer ix_answer(const char *dbpath, const char *service, const char *address, vh_row *row, int want_row,
                              const char **why, vh_err *e)
{
    struct stat st;
    *why = NULL;
    int fd = ix_open_read(dbpath, &st, why, e);
    if (fd == -2)
        return VH_IX_REFUSE;
    if (fd < 0)
        return VH_IX_STALE;
    vh_ixfmt_hdr h;
    vh_ixfmt_stamp now;
    vh_ix_answer result = VH_IX_STALE;
    if (vh_fd_pread_full(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || !vh_ixfmt_hdr_sane(&h, (uint64_t)st.st_size)) {
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
    if ((*why = vh_ixstamp_now(dbpath, &now)) != NULL)
        goto out;
    if (memcmp(&now, &h.id, sizeof now) != 0) {
        *why = "the database changed since the index was made";
        goto out;
    }
    if (!want_row) {
        result = VH_IX_ANSWERED_NONE;
        goto out;
    }
    static unsigned char buf[VH_IXFMT_REC_MAX];
    const char *const svc[4] = {service, "*", service, "*"};
    const char *const adr[4] = {address, address, "default", "default"};
    vh_ixfmt_col c[VH_IXFMT_NCOLS];
    int rule = VH_RULE_NONE, bad_row = 0;
    vh_err row_e;
    for (int i = 0; i < 4; i++) {
        int f = vh_ix_find(fd, &h, svc[i], adr[i], buf, c, NULL);
        if (f < 0) {
            *why = "the index is malformed";
            goto out;
        }
        if (f == 1) {
            const char *text[VH_IXFMT_NCOLS];
            int type[VH_IXFMT_NCOLS];
            int64_t ival[VH_IXFMT_NCOLS];
            for (int k = 0; k < VH_IXFMT_NCOLS; k++) {
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
    if (vh_fd_pread_full(fd, &seq2, sizeof seq2, (off_t)offsetof(vh_ixfmt_hdr, seq)) != (ssize_t)sizeof seq2 ||
        seq2 != h.seq) {
        *why = "the index changed during the lookup";
        goto out;
    }
    if (bad_row) {
        *e = row_e;
        goto out_refuse;
    }
    result = (vh_ix_answer)rule; /* VH_IX_ANSWERED_NONE .. _ANY_DEFAULT */
out:
    close(fd);
    return result;
out_refuse:
    close(fd);
    return VH_IX_REFUSE;
}

vh_ix_answer vh_ix_select(const char *dbpath, const char *service, const char *address, vh_row *row, const char **why,
                          vh_err *e)
{
    return ix_answer(dbpath, service, address, row, 1, why, e);
}

vh_ix_state vh_ix_current(const char *dbpath, const char **why, vh_err *e)
{
    vh_ix_answer r = ix_answer(dbpath, NULL, NULL, NULL, 0, why, e);
    return r == VH_IX_ANSWERED_NONE ? VH_IX_CURRENT : r == VH_IX_STALE ? VH_IX_NOT_CURRENT : VH_IX_UNTRUSTED;
}
