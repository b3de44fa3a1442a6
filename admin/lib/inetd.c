#include "inetd.h"

#include "exitcodes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct word {
    size_t off, len;
    unsigned long line;
} word;

/* One logical entry: bytes [start, end) of buf (end is after the last
 * physical line's LF), its words in order. */
struct ent {
    size_t start, end;
    unsigned long line, last_line;
    int backslash; /* continued by a backslash at least once */
    word *w;
    size_t n, cap;
};

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int blank_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_sep(s[i]))
            return 0;
    return 1;
}

static int push(struct ent *en, size_t off, size_t len, unsigned long line)
{
    if (en->n == en->cap) {
        size_t ncap = en->cap ? en->cap * 2 : 16;
        word *w = realloc(en->w, ncap * sizeof *w);
        if (!w)
            return -1;
        en->w = w;
        en->cap = ncap;
    }
    en->w[en->n++] = (word){off, len, line};
    return 0;
}

/* Add the words of the physical line [ls, le). Returns 1 when the line
 * ends in a continuation backslash, 0 when not, -1 without memory. */
static int split_line(const char *buf, size_t ls, size_t le, unsigned long line, struct ent *en)
{
    size_t end = le;
    while (end > ls && is_sep(buf[end - 1]))
        end--;
    int cont = end > ls && buf[end - 1] == '\\';
    if (cont)
        end--;
    for (size_t i = ls; i < end;) {
        while (i < end && is_sep(buf[i]))
            i++;
        size_t w0 = i;
        while (i < end && !is_sep(buf[i]))
            i++;
        if (i > w0 && push(en, w0, i - w0, line) < 0)
            return -1;
    }
    return cont;
}

typedef int (*ent_cb)(void *ctx, const char *buf, const struct ent *en, vh_err *e);

/* Cut buf into entries; passes over comments and blank lines. */
static int entries(const char *buf, size_t len, ent_cb cb, void *ctx, unsigned long *lines, vh_err *e)
{
    struct ent en = {0};
    int in = 0, pending = 0, rc = 0;
    unsigned long ln = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ls = pos, le = nl ? (size_t)(nl - buf) : len, next = nl ? le + 1 : len;
        ln++;
        int blank = blank_only(buf + ls, le - ls);
        if (in && !pending && !(le > ls && (buf[ls] == ' ' || buf[ls] == '\t') && !blank)) {
            if ((rc = cb(ctx, buf, &en, e)) < 0)
                goto out;
            in = 0;
        }
        if (!in) {
            if (blank || buf[ls] == '#') {
                pos = next;
                continue;
            }
            in = 1;
            en.start = ls;
            en.line = ln;
            en.n = 0;
            en.backslash = 0;
        }
        int cont = split_line(buf, ls, le, ln, &en);
        if (cont < 0) {
            rc = vh_fail(e, VH_EX_OSERR, "out of memory reading inetd.conf");
            goto out;
        }
        pending = cont;
        en.backslash |= cont;
        en.end = next;
        en.last_line = ln;
        pos = next;
    }
    if (in)
        rc = cb(ctx, buf, &en, e);
out:
    free(en.w);
    if (lines)
        *lines = ln;
    return rc < 0 ? -1 : 0;
}

static int word_is(const char *buf, const word *w, const char *s)
{
    return w->len == strlen(s) && memcmp(buf + w->off, s, w->len) == 0;
}

/* 1 when w is "--" and a prefix of 1 or more bytes of opt: getopt_long,
 * which virtuald's argtable uses, takes any unambiguous prefix of a long
 * option ("--tls" is --tls-sni; only --tls-sni starts with 't'). */
static int long_prefix_of(const char *buf, const word *w, const char *opt)
{
    return w->len > 2 && w->len - 2 <= strlen(opt) && memcmp(buf + w->off, "--", 2) == 0 &&
           memcmp(buf + w->off + 2, opt, w->len - 2) == 0;
}

static int basename_is(const char *buf, const word *w, const char *name)
{
    const char *s = buf + w->off, *b = s;
    for (size_t i = 0; i < w->len; i++)
        if (s[i] == '/')
            b = s + i + 1;
    size_t n = w->len - (size_t)(b - s);
    return n == strlen(name) && memcmp(b, name, n) == 0;
}

/* word w starts with prefix, and what follows is the end or one of after */
static int word_starts(const char *buf, const word *w, const char *prefix, const char *after)
{
    size_t n = strlen(prefix);
    if (w->len < n || memcmp(buf + w->off, prefix, n) != 0)
        return 0;
    return w->len == n || strchr(after, buf[w->off + n]) != NULL;
}

struct scan {
    const vh_inetd_ops *ops;
    void *ctx;
    vh_inetd_stats *st;
    char msg[2048];
};

__attribute__((format(printf, 4, 5))) static void sdiag(struct scan *s, unsigned long line, int sev, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    if (sev == VH_INETD_ERROR)
        s->st->errors++;
    else
        s->st->warnings++;
    if (s->ops && s->ops->diag)
        s->ops->diag(s->ctx, line, sev, s->msg);
}

static const char *shown(const char *buf, const word *w, char *out, size_t n)
{
    char tmp[256];
    size_t k = w->len < sizeof tmp - 1 ? w->len : sizeof tmp - 1;
    memcpy(tmp, buf + w->off, k);
    tmp[k] = '\0';
    return vh_printable(tmp, out, n);
}

/* Classify en. Returns 1 and fills out for a valid virtuald entry, 0 for
 * anything else (reporting the problems of a virtuald entry through s,
 * when given). */
static int classify(struct scan *s, const char *buf, const struct ent *en, vh_inetd_entry *out)
{
    const word *w = en->w;
    char a[1024];
    if (en->n < 6)
        return 0;
    int tcpd = 0;
    if (!basename_is(buf, &w[5], "virtuald")) {
        if (!basename_is(buf, &w[5], "tcpd") || en->n < 7 || !basename_is(buf, &w[6], "virtuald"))
            return 0;
        tcpd = 1;
    }
    memset(out, 0, sizeof *out);
    out->line = en->line;
    out->last_line = en->last_line;
    out->via_tcpd = tcpd;
    out->continued = en->last_line != en->line;
    const char *nul = memchr(buf + en->start, '\0', en->end - en->start);
    if (nul) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "NUL byte in this virtuald entry (inetd reads the line only up to it) - remove it and run again");
        return 0;
    }
    if (en->n < 8) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "virtuald is started without arguments - the legacy form is 'virtuald CONF PROGRAM [ARG...]', the "
                  "new one 'virtuald SERVICE PROGRAM [ARG...]'");
        return 0;
    }
    /* the service: the first word after any HOST: */
    const char *sv = buf + w[0].off;
    size_t svlen = w[0].len;
    for (size_t i = 0; i < w[0].len; i++)
        if (buf[w[0].off + i] == ':') {
            sv = buf + w[0].off + i + 1;
            svlen = w[0].len - i - 1;
        }
    char svc[VH_SERVICE_MAX + 2] = "";
    vh_err ve;
    int svc_ok = 0;
    if (svlen <= VH_SERVICE_MAX) {
        memcpy(svc, sv, svlen);
        svc[svlen] = '\0';
        svc_ok = vh_valid_service(svc, 0, &ve) == 0;
        if (svc_ok)
            memcpy(out->service, svc, svlen + 1);
    }
    const word *first = &w[7];
    const char *f = buf + first->off;
    if (memchr(f, '/', first->len) == NULL) {
        out->form = VH_INETD_NEW; /* converted already: not ours to judge */
        /* virtuald's own options, up to SERVICE: only --tls-sni is
         * read (vhostctl check: name rows need it), spelt in full or as
         * a prefix as virtuald takes it. Those taking a value as the next
         * word skip it (abbreviated, virtuald refuses the line: see
         * vh_args_split). Then SERVICE, after any "--": the service
         * whose rows the line selects, whatever the first column says. */
        size_t i = 7;
        for (; i < en->n && buf[w[i].off] == '-' && w[i].len > 2 && buf[w[i].off + 1] == '-'; i++) {
            if (long_prefix_of(buf, &w[i], "tls-sni"))
                out->tls_sni = 1;
            else if (word_is(buf, &w[i], "--db") || word_is(buf, &w[i], "--pids-cgroup") ||
                     word_is(buf, &w[i], "--proxy") || word_is(buf, &w[i], "--first-bytes-timeout"))
                i++;
        }
        if (i < en->n && word_is(buf, &w[i], "--"))
            i++;
        if (i < en->n && w[i].len <= VH_SERVICE_MAX) {
            char arg[VH_SERVICE_MAX + 1];
            memcpy(arg, buf + w[i].off, w[i].len);
            arg[w[i].len] = '\0';
            if (vh_valid_service(arg, 0, &ve) == 0)
                memcpy(out->arg_service, arg, w[i].len + 1);
        }
        return 1;
    }
    if (f[0] != '/') {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "virtuald's configuration '%s' is a relative path: the legacy program opened it relative to inetd's "
                  "working directory - write it as an absolute path and run again",
                  shown(buf, first, a, sizeof a));
        return 0;
    }
    out->form = VH_INETD_LEGACY;
    int bad = 0;
    if (en->n < 9) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "legacy virtuald line names the configuration %s but no program to run - add the service's program "
                  "after it, or remove the line",
                  shown(buf, first, a, sizeof a));
        bad = 1;
    }
    if (first->len >= sizeof out->conf) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR, "virtuald's configuration path is longer than %zu bytes",
                  sizeof out->conf - 1);
        return 0;
    }
    memcpy(out->conf, f, first->len);
    out->conf[first->len] = '\0';
    /* Written on one line, a last word ending in a backslash would
     * continue the entry onto the next line when read again. */
    const word *lastw = &w[en->n - 1];
    if (buf[lastw->off + lastw->len - 1] == '\\') {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "the entry ends in a backslash that continues nothing (line %lu) - remove it and run again",
                  en->last_line);
        bad = 1;
    }
    /* virtuald serves one TCP connection on fd 0: stream, tcp, nowait,
     * started as root (it must enter jails). */
    if (!word_is(buf, &w[1], "stream")) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "socket type '%s': virtuald serves 'stream' services only - convert this line by hand or remove it",
                  shown(buf, &w[1], a, sizeof a));
        bad = 1;
    }
    if (!word_starts(buf, &w[2], "tcp", ",") && !word_starts(buf, &w[2], "tcp4", ",") &&
        !word_starts(buf, &w[2], "tcp6", ",") && !word_starts(buf, &w[2], "tcp46", ",")) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "protocol '%s': virtuald serves TCP only - convert this line by hand or remove it",
                  shown(buf, &w[2], a, sizeof a));
        bad = 1;
    }
    if (!word_starts(buf, &w[3], "nowait", ".")) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "'%s': virtuald needs 'nowait' (one process per connection, the connection on fd 0) - change it to "
                  "nowait",
                  shown(buf, &w[3], a, sizeof a));
        bad = 1;
    }
    if (!word_starts(buf, &w[4], "root", ".:")) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR,
                  "user '%s': virtuald must be started as root to enter jails (it drops privileges itself) - change "
                  "the user field to root",
                  shown(buf, &w[4], a, sizeof a));
        bad = 1;
    }
    if (svlen > VH_SERVICE_MAX) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR, "service name '%s' is longer than %d bytes",
                  shown(buf, &w[0], a, sizeof a), VH_SERVICE_MAX);
        bad = 1;
    } else if (!svc_ok) {
        if (s)
            sdiag(s, en->line, VH_INETD_ERROR, "%s", ve.msg);
        bad = 1;
    }
    if (bad)
        return 0;
    out->program = buf + w[8].off;
    out->program_len = w[8].len;
    if (en->backslash && s)
        sdiag(s, en->line, VH_INETD_WARNING,
              "service %s: the entry is continued with a backslash; it is written as one line, because "
              "openbsd-inetd reads a '\\' at the end of a line as one more argument",
              out->service);
    return 1;
}

static int scan_one(void *ctx, const char *buf, const struct ent *en, vh_err *e)
{
    struct scan *s = ctx;
    vh_inetd_entry out;
    s->st->entries++;
    if (!classify(s, buf, en, &out))
        return 0;
    if (out.form == VH_INETD_LEGACY)
        s->st->legacy++;
    else
        s->st->converted++;
    if (s->ops && s->ops->entry)
        return s->ops->entry(s->ctx, &out, e);
    return 0;
}

int vh_inetd_scan(const char *buf, size_t len, const vh_inetd_ops *ops, void *ctx, vh_inetd_stats *st, vh_err *e)
{
    memset(st, 0, sizeof *st);
    struct scan s = {ops, ctx, st, {0}};
    return entries(buf, len, scan_one, &s, &st->lines, e);
}

int vh_inetd_word_ok(const char *what, const char *path, vh_err *e)
{
    char sh[4 * PATH_MAX + 8];
    vh_printable(path, sh, sizeof sh);
    if (path[0] != '/')
        return vh_fail(e, VH_EX_USAGE,
                       "%s path '%s' is relative, but inetd starts servers in / - give an absolute path", what, sh);
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return vh_fail(e, VH_EX_USAGE,
                           "%s path '%s' holds a blank or control character, which inetd.conf cannot pass as one "
                           "argument - move it to a plain path",
                           what, sh);
    return 0;
}

int vh_inetd_db_ok(const char *db, vh_err *e)
{
    char sh[4 * PATH_MAX + 8];
    vh_printable(db, sh, sizeof sh);
    if (db[0] != '/')
        return vh_fail(e, VH_EX_USAGE,
                       "database path '%s' is relative, but inetd starts virtuald in / - give --db an absolute path",
                       sh);
    for (const char *p = db; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return vh_fail(e, VH_EX_USAGE,
                           "database path '%s' holds a blank or control character, which inetd.conf cannot pass as "
                           "one argument - move the database to a plain path",
                           sh);
    return 0;
}

struct conv {
    const char *virtuald; /* the program the converted line runs (NULL: as it was) */
    const char *db;
    vh_inetd_out out;
    void *ctx;
    size_t cursor; /* bytes of buf written so far */
};

static int put(struct conv *c, const char *p, size_t n, vh_err *e)
{
    if (n && c->out(c->ctx, p, n) < 0)
        return vh_fail(e, VH_EX_IOERR, "writing the converted inetd.conf failed");
    return 0;
}

static int conv_one(void *ctx, const char *buf, const struct ent *en, vh_err *e)
{
    struct conv *c = ctx;
    vh_inetd_entry out;
    if (!classify(NULL, buf, en, &out) || out.form != VH_INETD_LEGACY)
        return 0;
    const word *w = en->w;
    /* everything before this entry, as it was */
    if (put(c, buf + c->cursor, en->start - c->cursor, e) < 0 || put(c, buf + en->start, w[0].off - en->start, e) < 0)
        return -1;
    /* the word that names virtuald's file: the server program, or under
     * tcpd the program tcpd runs (argv[0]) */
    size_t prog = out.via_tcpd ? 6 : 5;
    for (size_t i = 0; i < en->n; i++) {
        if (i == prog && c->virtuald) {
            if (put(c, c->virtuald, strlen(c->virtuald), e) < 0)
                return -1;
        } else if (i == 7) {
            if (c->db && (put(c, "--db ", 5, e) < 0 || put(c, c->db, strlen(c->db), e) < 0 || put(c, " ", 1, e) < 0))
                return -1;
            if (put(c, out.service, strlen(out.service), e) < 0)
                return -1;
        } else if (put(c, buf + w[i].off, w[i].len, e) < 0) {
            return -1;
        }
        if (i + 1 == en->n)
            break;
        size_t gap = w[i].off + w[i].len;
        if (w[i].line == w[i + 1].line ? put(c, buf + gap, w[i + 1].off - gap, e) : put(c, " ", 1, e))
            return -1;
    }
    /* the rest of the last word's line (trailing blanks, a CR), unless it
     * is a continuation; then the entry's line end */
    const word *last = &w[en->n - 1];
    size_t t0 = last->off + last->len;
    const char *nl = memchr(buf + t0, '\n', en->end - t0);
    size_t t1 = nl ? (size_t)(nl - buf) : en->end;
    size_t k = t1;
    while (k > t0 && is_sep(buf[k - 1]))
        k--;
    int continued = k > t0 && buf[k - 1] == '\\';
    if (last->line == en->last_line && !continued && put(c, buf + t0, t1 - t0, e) < 0)
        return -1;
    if (buf[en->end - 1] == '\n' && put(c, "\n", 1, e) < 0)
        return -1;
    c->cursor = en->end;
    return 0;
}

int vh_inetd_convert(const char *buf, size_t len, const char *virtuald, const char *db, vh_inetd_out out, void *ctx,
                     vh_err *e)
{
    if (db && vh_inetd_db_ok(db, e) < 0)
        return -1;
    if (virtuald && vh_inetd_word_ok("virtuald", virtuald, e) < 0)
        return -1;
    struct conv c = {virtuald, db, out, ctx, 0};
    if (entries(buf, len, conv_one, &c, NULL, e) < 0)
        return -1;
    return put(&c, buf + c.cursor, len - c.cursor, e);
}
