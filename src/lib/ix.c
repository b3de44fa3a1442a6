#include "ix.h"

#include "db.h"
#include "exitcodes.h"
#include "fd.h"
#include "ixfmt.h"
#include "ixstamp.h"
#include "path.h"
#include "valid.h"

#include <arpa/inet.h>

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

int vh_ix_begin(const char *dbpath, vh_ix_reader *r, const char **why, vh_err *e)
{
    struct stat st;
    *why = NULL;
    r->fd = ix_open_read(dbpath, &st, why, e);
    if (r->fd == -2)
        return VH_IX_REFUSE;
    if (r->fd < 0)
        return VH_IX_STALE;
    vh_ixfmt_stamp now;
    if (vh_fd_pread_full(r->fd, &r->h, sizeof r->h, 0) != (ssize_t)sizeof r->h ||
        !vh_ixfmt_hdr_sane(&r->h, (uint64_t)st.st_size)) {
        *why = "the index is malformed";
        goto stale;
    }
    if ((r->h.seq & 1) || !r->h.valid) {
        *why = "the index is being updated or stale";
        goto stale;
    }
    if (r->h.user_version != vh_db_schema_version() || r->h.application_id != VH_DB_APPLICATION_ID) {
        *why = "the index is of another schema version";
        goto stale;
    }
    if ((*why = vh_ixstamp_now(dbpath, &now)) != NULL)
        goto stale;
    if (memcmp(&now, &r->h.id, sizeof now) != 0) {
        *why = "the database changed since the index was made";
        goto stale;
    }
    return 1;
stale:
    vh_ix_end(r);
    return VH_IX_STALE;
}

int vh_ix_recheck(const char *dbpath, const vh_ix_reader *r, const char **why)
{
    vh_ixfmt_stamp now;
    uint64_t seq2;
    if (vh_fd_pread_full(r->fd, &seq2, sizeof seq2, (off_t)offsetof(vh_ixfmt_hdr, seq)) != (ssize_t)sizeof seq2 ||
        seq2 != r->h.seq) {
        *why = "the index changed during the wait";
        return 0;
    }
    if ((*why = vh_ixstamp_now(dbpath, &now)) != NULL)
        return 0;
    if (memcmp(&now, &r->h.id, sizeof now) != 0) {
        *why = "the database changed during the wait";
        return 0;
    }
    return 1;
}

void vh_ix_end(vh_ix_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

int vh_ix_trust(const vh_ix_reader *r, const char *service, const char *peer, vh_trust *t)
{
    memset(t, 0, sizeof *t);
    if (!(r->h.features & VH_IXFMT_F_TRUST))
        return 1;
    t->any = 1;
    if (!(r->h.features & VH_IXFMT_F_TRUST_INLINE))
        return 0;
    int family = strchr(peer, ':') ? AF_INET6 : AF_INET;
    unsigned char a[16];
    if (vh_addr_bytes(peer, family, a) < 0)
        return 1; /* not an address: trusted by nothing */
    /* the order of vh_select_probes: longest prefix first (an address
     * is the longest), at each length the service before '*' */
    int best = -1;
    unsigned best_len = 0, best_specific = 0;
    for (uint32_t i = 0; i < r->h.ntrust; i++) {
        const vh_ixfmt_trust *x = &r->h.trust[i];
        vh_prefix p = {x->family == 4 ? AF_INET : AF_INET6, x->len, {0}};
        memcpy(p.net, x->net, 16);
        unsigned specific = strcmp(x->service, service) == 0;
        if (!specific && strcmp(x->service, VH_SERVICE_ANY) != 0)
            continue;
        if (!vh_prefix_contains(&p, family, a))
            continue;
        if (best < 0 || x->len > best_len || (x->len == best_len && specific > best_specific)) {
            best = (int)i;
            best_len = x->len;
            best_specific = specific;
        }
    }
    if (best >= 0) {
        const vh_ixfmt_trust *x = &r->h.trust[best];
        t->versions = x->versions;
        snprintf(t->svc, sizeof t->svc, "%s", x->service);
        if (x->len == (x->family == 4 ? 32u : 128u))
            inet_ntop(family, x->net, t->source, sizeof t->source);
        else
            vh_prefix_key_of(x->net, family, x->len, t->source);
    }
    return 1;
}

vh_ix_answer vh_ix_lookup(const vh_ix_reader *r, const char *service, const char *address, const char *name, int flags,
                          vh_row *row, unsigned *plen, const char **why, vh_err *e)
{
    static unsigned char buf[VH_IXFMT_REC_MAX];
    static vh_probe p[VH_PROBES_MAX];
    vh_prefix_lens lens = {r->h.dom_len4, {r->h.dom_len6[0], r->h.dom_len6[1]}};
    int n = vh_select_probes(service, address, name, &lens, flags, p);
    if (n < 0) {
        vh_fail(e, VH_EX_SOFTWARE, "'%s' is not a canonical address or '%s' no normalised name", address,
                name ? name : "");
        return VH_IX_REFUSE;
    }
    vh_ixfmt_col c[VH_IXFMT_NCOLS];
    int rule = VH_RULE_NONE, bad_row = 0;
    unsigned found_len = 0;
    vh_err row_e;
    for (int i = 0; i < n; i++) {
        int f = vh_ix_find(r->fd, &r->h, p[i].svc, p[i].key, buf, c, NULL);
        if (f < 0) {
            *why = "the index is malformed";
            return VH_IX_STALE;
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
            rule = p[i].rule;
            found_len = p[i].plen;
            break;
        }
    }
    uint64_t seq2;
    if (vh_fd_pread_full(r->fd, &seq2, sizeof seq2, (off_t)offsetof(vh_ixfmt_hdr, seq)) != (ssize_t)sizeof seq2 ||
        seq2 != r->h.seq) {
        *why = "the index changed during the lookup";
        return VH_IX_STALE;
    }
    if (bad_row) {
        *e = row_e;
        return VH_IX_REFUSE;
    }
    if (plen)
        *plen = found_len;
    return (vh_ix_answer)rule;
}

vh_ix_answer vh_ix_select(const char *dbpath, const char *service, const char *address, vh_row *row, const char **why,
                          vh_err *e)
{
    vh_ix_reader r;
    int b = vh_ix_begin(dbpath, &r, why, e);
    if (b != 1)
        return (vh_ix_answer)b;
    vh_ix_answer a = vh_ix_lookup(&r, service, address, NULL, 0, row, NULL, why, e);
    vh_ix_end(&r);
    return a;
}

vh_ix_state vh_ix_current(const char *dbpath, const char **why, vh_err *e)
{
    vh_ix_reader r;
    int b = vh_ix_begin(dbpath, &r, why, e);
    if (b == 1)
        vh_ix_end(&r);
    return b == 1 ? VH_IX_CURRENT : b == VH_IX_STALE ? VH_IX_NOT_CURRENT : VH_IX_UNTRUSTED;
}
