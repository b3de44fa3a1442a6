#include "legacy.h"

#include "exitcodes.h"
#include "fd.h"
#include "valid.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the set of addresses seen so far ---------------------------------
 * Open addressing with linear probing; a slot whose line is 0 is empty
 * (lines count from 1). Keys are the binary address: 4 bytes for IPv4,
 * 16 for IPv6, so a million IPv4 addresses need 16 MiB at most. */
struct aset {
    unsigned char *keys;
    uint32_t *lines;
    size_t cap; /* a power of two, or 0 before the first insert */
    size_t n;
    size_t klen;
};

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finaliser: every input bit moves every output bit */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static size_t aset_slot(const struct aset *s, const unsigned char *key)
{
    uint64_t a = 0, b = 0;
    memcpy(&a, key, s->klen < 8 ? s->klen : 8);
    if (s->klen > 8)
        memcpy(&b, key + 8, s->klen - 8);
    return (size_t)(mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL)) & (s->cap - 1));
}

static int aset_grow(struct aset *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    struct aset t = {calloc(ncap, s->klen), calloc(ncap, sizeof(uint32_t)), ncap, 0, s->klen};
    if (!t.keys || !t.lines) {
        free(t.keys);
        free(t.lines);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->lines[i])
            continue;
        size_t j = aset_slot(&t, s->keys + i * s->klen);
        while (t.lines[j])
            j = (j + 1) & (ncap - 1);
        memcpy(t.keys + j * t.klen, s->keys + i * s->klen, t.klen);
        t.lines[j] = s->lines[i];
    }
    t.n = s->n;
    free(s->keys);
    free(s->lines);
    *s = t;
    return 0;
}

/* Insert key with line unless present. Returns the line it was first
 * seen on (0 when it is new), or -1 when out of memory. */
static long aset_put(struct aset *s, const unsigned char *key, uint32_t line)
{
    if ((s->n + 1) * 4 > s->cap * 3 && aset_grow(s) < 0)
        return -1;
    size_t j = aset_slot(s, key);
    while (s->lines[j]) {
        if (memcmp(s->keys + j * s->klen, key, s->klen) == 0)
            return (long)s->lines[j];
        j = (j + 1) & (s->cap - 1);
    }
    memcpy(s->keys + j * s->klen, key, s->klen);
    s->lines[j] = line;
    s->n++;
    return 0;
}

static void aset_free(struct aset *s)
{
    free(s->keys);
    free(s->lines);
}

/* ---- the parser ------------------------------------------------------ */

/* Room for a message naming two directories of up to 4 KiB, each shown
 * with vh_printable (up to four bytes per byte). */
#define MSG_MAX (9 * VH_LEGACY_LINE_MAX + 1024)

struct vh_legacy {
    const char *file;
    vh_legacy_ops ops;
    void *ctx;
    vh_legacy_stats st;
    int failed;               /* a callback stopped the parse, or no memory */
    int too_many;             /* E_LINES reported: the rest is ignored */
    unsigned long long bytes; /* read so far: VH_LEGACY_SIZE_MAX bounds it */
    /* the line being read */
    size_t total;       /* its bytes so far, LF excluded */
    int nul;            /* it holds a NUL byte */
    size_t kept;        /* how many of them are in buf */
    unsigned char last; /* its last byte so far */
    /* the legacy program's search: the first line that ended it */
    unsigned long barrier;
    int barrier_nospace;         /* 1: a line without a space; 0: 'default' */
    char *barrier_dir;           /* what it read as that default's directory */
    unsigned long first_default; /* our first valid 'default' row */
    struct aset v4, v6;
    char buf[VH_LEGACY_LINE_MAX + 1];
    char dir[VH_LEGACY_LINE_MAX];           /* the directory, copied out of buf */
    char shown[4 * VH_LEGACY_LINE_MAX + 8]; /* scratch for messages */
    char shown2[4 * VH_LEGACY_LINE_MAX + 8];
    char msg[MSG_MAX];
};

vh_legacy *vh_legacy_new(const char *file, const vh_legacy_ops *ops, void *ctx)
{
    vh_legacy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->file = file;
    if (ops)
        p->ops = *ops;
    p->ctx = ctx;
    p->v4.klen = 4;
    p->v6.klen = 16;
    return p;
}

void vh_legacy_free(vh_legacy *p)
{
    if (!p)
        return;
    aset_free(&p->v4);
    aset_free(&p->v6);
    free(p->barrier_dir);
    free(p);
}

__attribute__((format(printf, 4, 5))) static void diag(vh_legacy *p, unsigned long line, int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    int sev = kind < VH_LEGACY_W_SHADOWED ? VH_LEGACY_ERROR : VH_LEGACY_WARNING;
    if (sev == VH_LEGACY_ERROR)
        p->st.errors++;
    else
        p->st.warnings++;
    if (p->ops.diag) {
        vh_legacy_diag d = {p->file, line, sev, kind, p->msg};
        p->ops.diag(p->ctx, &d);
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* What the legacy program made of a line (its iptodir()): fgets, cut the
 * last character (the newline, or a real one on a last line without
 * newline), skip empty and '#' lines, split at the first space. */
enum { L_SKIP, L_NOSPACE, L_ROW };
struct lview {
    int kind;
    const char *addr, *dir;
    size_t alen, dlen;
};

static void legacy_view(const char *raw, size_t rawlen, int had_lf, struct lview *v)
{
    size_t len = had_lf ? rawlen : rawlen - 1; /* rawlen > 0 without LF */
    memset(v, 0, sizeof *v);
    if (len == 0 || raw[0] == '#') {
        v->kind = L_SKIP;
        return;
    }
    const char *sp = memchr(raw, ' ', len);
    if (!sp) {
        v->kind = L_NOSPACE;
        return;
    }
    v->kind = L_ROW;
    v->addr = raw;
    v->alen = (size_t)(sp - raw);
    v->dir = sp + 1;
    v->dlen = len - v->alen - 1;
}

static int lview_is(const struct lview *v, const char *text)
{
    return v->kind == L_ROW && v->alen == strlen(text) && memcmp(v->addr, text, v->alen) == 0;
}

/* After line ln: does it end the legacy program's search for the lines
 * below (a 'default' it could read, or a line without a space)? */
static int note_barrier(vh_legacy *p, unsigned long ln, const struct lview *v)
{
    if (p->barrier)
        return 0;
    if (v->kind == L_NOSPACE) {
        p->barrier = ln;
        p->barrier_nospace = 1;
    } else if (lview_is(v, VH_ADDR_DEFAULT)) {
        p->barrier_dir = malloc(v->dlen + 1);
        if (!p->barrier_dir)
            return -1;
        memcpy(p->barrier_dir, v->dir, v->dlen);
        p->barrier_dir[v->dlen] = '\0';
        p->barrier = ln;
    }
    return 0;
}

static const char *whose(const char *addr, char *out, size_t n)
{
    if (strcmp(addr, VH_ADDR_DEFAULT) == 0)
        snprintf(out, n, "connections to addresses without a line of their own");
    else
        snprintf(out, n, "connections to %s", addr);
    return out;
}

/* A valid row on line ln. Decides its warnings, then hands it on unless
 * it repeats an address. */
static int row(vh_legacy *p, unsigned long ln, const char *addr, const char *dir, const struct lview *v, int dir_same,
               int had_lf, vh_err *e)
{
    char who[96];
    long first = 0;
    if (strcmp(addr, VH_ADDR_DEFAULT) == 0) {
        first = (long)p->first_default;
        if (!first)
            p->first_default = ln;
    } else {
        unsigned char key[16];
        struct aset *s = &p->v4;
        if (inet_pton(AF_INET, addr, key) != 1) {
            s = &p->v6;
            if (inet_pton(AF_INET6, addr, key) != 1)
                return vh_fail(e, VH_EX_SOFTWARE, "canonical address '%s' does not parse", addr);
        }
        first = aset_put(s, key, (uint32_t)ln);
        if (first < 0)
            return vh_fail(e, VH_EX_OSERR, "out of memory after %lu addresses of %s", p->v4.n + p->v6.n, p->file);
    }
    if (first) {
        p->st.duplicates++;
        diag(p, ln, VH_LEGACY_W_DUPLICATE,
             "%s was already given on line %ld, which the legacy program used; this line is not imported - delete it",
             strcmp(addr, VH_ADDR_DEFAULT) == 0 ? "'default'" : addr, first);
        return 0;
    }
    vh_printable(dir, p->shown, sizeof p->shown);
    whose(addr, who, sizeof who);
    if (p->barrier && !p->barrier_nospace) {
        diag(p, ln, VH_LEGACY_W_SHADOWED,
             "the legacy program never reached this line: the 'default' on line %lu matched every connection first. "
             "Imported, so the meaning changes: %s now go to %s, not to %s",
             p->barrier, who, p->shown, vh_printable(p->barrier_dir, p->shown2, sizeof p->shown2));
    } else if (p->barrier) {
        diag(p, ln, VH_LEGACY_W_SHADOWED,
             "the legacy program never reached this line: line %lu has no space, and it refused every connection "
             "that got there. Imported, so the meaning changes: %s are now served from %s",
             p->barrier, who, p->shown);
    } else if (v->kind == L_NOSPACE) {
        diag(p, ln, VH_LEGACY_W_NOSPACE,
             "the legacy program found no space in this line and refused every connection that got this far. "
             "Imported, so the meaning changes: %s are now served from %s",
             who, p->shown);
    } else if (strchr(addr, ':')) {
        diag(p, ln, VH_LEGACY_W_NOMATCH,
             "the legacy program knew IPv4 only and never matched this line. Imported, so the meaning changes: "
             "%s are now served from %s",
             who, p->shown);
    } else if (!lview_is(v, addr)) {
        diag(p, ln, VH_LEGACY_W_NOMATCH,
             "the legacy program read the address as '%s' (it splits at the first space and compares text), so it "
             "never matched this line. Imported, so the meaning changes: %s are now served from %s",
             v->kind == L_ROW ? vh_printable_n(v->addr, v->alen, p->shown2, sizeof p->shown2) : "", who, p->shown);
    } else if (!dir_same) {
        diag(p, ln, VH_LEGACY_W_DIR,
             "the legacy program read the directory as '%s' (it kept everything after the first space%s); imported "
             "as '%s' - check that this is the jail you meant",
             vh_printable_n(v->dir, v->dlen, p->shown2, sizeof p->shown2),
             had_lf ? ", trailing blanks and CR included"
                    : " but cut the last character of a last line without newline",
             p->shown);
    }
    p->st.rows++;
    if (!p->ops.row)
        return 0;
    vh_legacy_rec r = {ln, addr, dir};
    return p->ops.row(p->ctx, &r, e);
}

/* The line in buf is complete: total bytes, followed by an LF when
 * had_lf, else by the end of the file. */
static int end_line(vh_legacy *p, int had_lf, vh_err *e)
{
    size_t raw = p->total;
    int cr_end = raw > 0 && p->last == '\r';
    size_t n = raw - (size_t)cr_end;
    p->total = p->kept = 0;
    p->nul = 0;
    unsigned long ln = ++p->st.lines;
    if (p->too_many)
        return 0;
    if (ln > UINT32_MAX) {
        p->too_many = 1;
        diag(p, ln, VH_LEGACY_E_LINES, "the file has more than %lu lines - this is not a legacy configuration",
             (unsigned long)UINT32_MAX);
        return 0;
    }
    if (n >= VH_LEGACY_LINE_MAX) {
        diag(p, ln, VH_LEGACY_E_LONG,
             "line is %zu bytes long; a line must be shorter than %d bytes (no jail path is longer) - is this the "
             "right file?",
             n, VH_LEGACY_LINE_MAX);
        return 0;
    }
    char *c = p->buf;
    const char *bad = memchr(c, '\0', n);
    if (bad) {
        diag(p, ln, VH_LEGACY_E_NUL,
             "binary data: NUL byte at column %zu - a configuration file is text: find how the byte got there and "
             "remove it",
             (size_t)(bad - c) + 1);
        return 0;
    }
    bad = memchr(c, '\r', n);
    if (bad) {
        diag(p, ln, VH_LEGACY_E_CR,
             "carriage return (CR) at column %zu inside the line - only CR LF line ends are accepted; remove the "
             "stray CR",
             (size_t)(bad - c) + 1);
        return 0;
    }
    struct lview v;
    legacy_view(c, raw, had_lf, &v);

    size_t i = 0;
    while (i < n && is_blank(c[i]))
        i++;
    if (i == n || c[i] == '#') {
        p->st.skipped++;
        if (v.kind == L_NOSPACE && !p->barrier)
            diag(p, ln, VH_LEGACY_W_NOSPACE,
                 "the legacy program found no space in this %s line and refused every connection that got this far "
                 "(lines below it were never reached); skipped",
                 i == n ? "blank" : "comment");
        return note_barrier(p, ln, &v) < 0 ? vh_fail(e, VH_EX_OSERR, "out of memory") : 0;
    }
    size_t a0 = i;
    while (i < n && !is_blank(c[i]))
        i++;
    size_t a1 = i;
    while (i < n && is_blank(c[i]))
        i++;
    size_t d0 = i, d1 = n;
    while (d1 > d0 && is_blank(c[d1 - 1]))
        d1--;
    int dir_same = v.kind == L_ROW && v.dlen == d1 - d0 && memcmp(v.dir, c + d0, v.dlen) == 0;
    int had_error = 0;

    /* The address, copied out: its length is bounded by the copy, and
     * vh_addr_canon refuses anything this long. */
    char atext[2 * VH_ADDR_TEXT], canon[VH_ADDR_TEXT];
    size_t alen = a1 - a0 < sizeof atext - 1 ? a1 - a0 : sizeof atext - 1;
    memcpy(atext, c + a0, alen);
    atext[alen] = '\0';
    vh_err ae;
    if (vh_addr_canon(atext, 1, canon, &ae) < 0) {
        diag(p, ln, VH_LEGACY_E_ADDRESS, "%s", ae.msg);
        had_error = 1;
    }
    if (d0 == d1) {
        diag(p, ln, VH_LEGACY_E_NODIR,
             "'%s' has no directory after it - write the address, a space and the jail's absolute path, as in "
             "'192.0.2.1 /srv/jail/example'",
             vh_printable(atext, p->shown, 300));
        had_error = 1;
    } else {
        /* copied, not cut in place: the legacy view still points at buf */
        memcpy(p->dir, c + d0, d1 - d0);
        p->dir[d1 - d0] = '\0';
        /* issue 13: "/srv/a/" named the same directory to the legacy
         * program; written without the slash (one is kept of "/") */
        size_t dl = d1 - d0;
        if (dl > 1 && p->dir[dl - 1] == '/') {
            char before[300];
            vh_printable(p->dir, before, sizeof before);
            while (dl > 1 && p->dir[dl - 1] == '/')
                p->dir[--dl] = '\0';
            if (vh_valid_root(p->dir, &ae) == 0)
                diag(p, ln, VH_LEGACY_W_SLASH, "directory '%s' ends with '/': imported as %s (the same directory)",
                     before, vh_printable(p->dir, p->shown, 300));
        }
        if (vh_valid_root(p->dir, &ae) < 0) {
            diag(p, ln, VH_LEGACY_E_DIR, "%s", ae.msg);
            had_error = 1;
        }
    }
    if (!had_error) {
        if (row(p, ln, canon, p->dir, &v, dir_same, had_lf, e) < 0)
            return -1;
    }
    /* Last: the barrier this line may set concerns the lines below only
     * (and is set by a line that is bad here too: the legacy program
     * read it all the same). */
    if (note_barrier(p, ln, &v) < 0)
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    return 0;
}

static void append(vh_legacy *p, const unsigned char *s, size_t n)
{
    if (n == 0)
        return;
    if (p->kept < VH_LEGACY_LINE_MAX) {
        size_t room = VH_LEGACY_LINE_MAX - p->kept;
        size_t k = n < room ? n : room;
        memcpy(p->buf + p->kept, s, k);
        p->kept += k;
    }
    if (!p->nul && memchr(s, '\0', n))
        p->nul = 1;
    p->total += n;
    p->last = s[n - 1];
}

/* The bounds of legacy.h (THREATS K11), checked after every piece of
 * input: 0, or -1 with e filled. The line is the one being read. */
static int bounded(vh_legacy *p, vh_err *e)
{
    unsigned long ln = p->st.lines + 1;
    const char *f = vh_printable(p->file, p->shown, sizeof p->shown);
    if (p->total >= VH_LEGACY_LINE_MAX && p->nul)
        return vh_fail(e, VH_EX_DATAERR,
                       "%s: binary data at line %lu (NUL bytes in a line of %zu bytes or more) - give the legacy "
                       "configuration, a text file",
                       f, ln, p->total);
    if (p->bytes > VH_LEGACY_SIZE_MAX)
        return vh_fail(e, VH_EX_DATAERR, "%s: more than %lu MiB (at line %lu) - this is not a legacy configuration", f,
                       VH_LEGACY_SIZE_MAX >> 20, ln);
    if (p->st.errors > VH_LEGACY_ERRORS_MAX)
        return vh_fail(e, VH_EX_DATAERR,
                       "%s: more than %d errors (the last at line %lu); reading stopped - is this the right file?", f,
                       VH_LEGACY_ERRORS_MAX, p->st.lines);
    return 0;
}

int vh_legacy_feed(vh_legacy *p, const void *data, size_t n, vh_err *e)
{
    if (p->failed)
        return vh_fail(e, VH_EX_SOFTWARE, "the parser of %s was used after it failed", p->file);
    const unsigned char *s = data, *end = s + n;
    while (s < end) {
        const unsigned char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t k = (size_t)((nl ? nl : end) - s);
        append(p, s, k);
        p->bytes += k + (nl != NULL);
        if (bounded(p, e) < 0 || (nl && (end_line(p, 1, e) < 0 || bounded(p, e) < 0))) {
            p->failed = 1;
            return -1;
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    return 0;
}

int vh_legacy_finish(vh_legacy *p, vh_legacy_stats *st, vh_err *e)
{
    if (p->failed)
        return vh_fail(e, VH_EX_SOFTWARE, "the parser of %s was used after it failed", p->file);
    if (p->total > 0 && end_line(p, 0, e) < 0) {
        p->failed = 1;
        return -1;
    }
    if (st)
        *st = p->st;
    return 0;
}

int vh_legacy_parse_buf(const char *file, const void *buf, size_t n, const vh_legacy_ops *ops, void *ctx,
                        vh_legacy_stats *st, vh_err *e)
{
    vh_legacy *p = vh_legacy_new(file, ops, ctx);
    if (!p)
        return vh_fail(e, VH_EX_OSERR, "out of memory parsing %s", file);
    int rc = vh_legacy_feed(p, buf, n, e);
    if (rc == 0)
        rc = vh_legacy_finish(p, st, e);
    vh_legacy_free(p);
    return rc;
}

int vh_legacy_parse_fd(const char *file, int fd, const vh_legacy_ops *ops, void *ctx, vh_legacy_stats *st, vh_err *e)
{
    enum { CHUNK = 64 * 1024 };
    vh_legacy *p = vh_legacy_new(file, ops, ctx);
    char *buf = malloc(CHUNK);
    int rc = -1;
    if (!p || !buf) {
        vh_fail(e, VH_EX_OSERR, "out of memory parsing %s", file);
        goto out;
    }
    for (;;) {
        ssize_t r = vh_fd_read_full(fd, buf, CHUNK);
        if (r < 0) {
            vh_fail(e, VH_EX_IOERR, "cannot read %s: %s", file, strerror(errno));
            goto out;
        }
        if (r > 0 && vh_legacy_feed(p, buf, (size_t)r, e) < 0)
            goto out;
        if (r < CHUNK)
            break; /* end of file */
    }
    rc = vh_legacy_finish(p, st, e);
out:
    free(buf);
    vh_legacy_free(p);
    return rc;
}
