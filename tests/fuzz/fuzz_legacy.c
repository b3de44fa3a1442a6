/* fuzz_legacy - libFuzzer target for the legacy flat-format parser.
 *
 * Beyond "no crash, no sanitizer report" it checks the parser's promises
 * and aborts when one breaks:
 * - streaming: the input fed in pieces (split where the input says) gives
 *   exactly the rows and diagnostics of the input fed at once;
 * - H2: without a final newline the rows and errors are those with one;
 * - every row is canonical: its address canonicalises to itself, its
 *   directory passes vh_valid_root and holds no CR (H4);
 * - the counters agree with what the callbacks saw. */
#include "addr.h"
#include "legacy.h"
#include "valid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct digest {
    uint64_t rows, all; /* FNV-1a over the rows, over everything */
    unsigned long nrows, nerr, ndiag;
};

static void mix(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= s[i];
        *h *= 0x100000001b3ULL;
    }
}

static int on_row(void *ctx, const vh_legacy_rec *r, vh_err *e)
{
    (void)e;
    struct digest *d = ctx;
    char canon[VH_ADDR_TEXT];
    vh_err ce;
    if (vh_addr_canon(r->address, 1, canon, &ce) < 0 || strcmp(canon, r->address) != 0)
        abort();
    if (vh_valid_root(r->dir, &ce) < 0 || strchr(r->dir, '\r') || strlen(r->dir) >= VH_LEGACY_LINE_MAX)
        abort();
    mix(&d->rows, &r->line, sizeof r->line);
    mix(&d->rows, r->address, strlen(r->address) + 1);
    mix(&d->rows, r->dir, strlen(r->dir) + 1);
    d->nrows++;
    return 0;
}

static void on_diag(void *ctx, const vh_legacy_diag *g)
{
    struct digest *d = ctx;
    if (!g->line || !g->msg)
        abort();
    mix(&d->all, &g->line, sizeof g->line);
    mix(&d->all, &g->kind, sizeof g->kind);
    mix(&d->all, g->msg, strlen(g->msg) + 1);
    d->ndiag++;
    if (g->severity == VH_LEGACY_ERROR)
        d->nerr++;
}

static const vh_legacy_ops ops = {on_row, on_diag};

static void run(const uint8_t *data, size_t size, size_t cut1, size_t cut2, struct digest *d, vh_legacy_stats *st)
{
    memset(d, 0, sizeof *d);
    d->rows = d->all = 0xcbf29ce484222325ULL;
    vh_err e;
    vh_legacy *p = vh_legacy_new("fuzz", &ops, d);
    if (!p)
        abort();
    if (vh_legacy_feed(p, data, cut1, &e) < 0 || vh_legacy_feed(p, data + cut1, cut2 - cut1, &e) < 0 ||
        vh_legacy_feed(p, data + cut2, size - cut2, &e) < 0 || vh_legacy_finish(p, st, &e) < 0)
        abort();
    vh_legacy_free(p);
    if (st->rows != d->nrows || st->errors != d->nerr || st->errors + st->warnings != d->ndiag)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct digest a, b;
    vh_legacy_stats sa, sb;
    run(data, size, 0, 0, &a, &sa);
    size_t c1 = size ? data[0] % (size + 1) : 0;
    size_t c2 = size ? c1 + (data[size - 1] % (size - c1 + 1)) : 0;
    run(data, size, c1, c2, &b, &sb);
    if (a.rows != b.rows || a.all != b.all || memcmp(&sa, &sb, sizeof sa) != 0)
        abort();
    if (size && data[size - 1] != '\n') {
        uint8_t *nl = malloc(size + 1);
        if (!nl)
            abort();
        memcpy(nl, data, size);
        nl[size] = '\n';
        run(nl, size + 1, size, size, &b, &sb);
        free(nl);
        if (a.rows != b.rows || sa.errors != sb.errors || sa.lines != sb.lines)
            abort();
    }
    return 0;
}
