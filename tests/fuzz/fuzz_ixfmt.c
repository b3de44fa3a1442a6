/* libFuzzer target for the lookup index's file format (ixfmt.h), the
 * bytes virtuald reads from the index file before it trusts a row:
 *   0  header: vh_ixfmt_hdr_sane accepts only a header whose buckets and
 *      heap lie where the format puts them, inside the file
 *   1  record: vh_ixfmt_rec_parse accepts only a record whose columns lie
 *      inside it, each text NUL-terminated; encoding the parsed columns
 *      again gives the same bytes; the row checks (vh_row_from_cols) take
 *      whatever it accepts without crashing
 *   2  buckets: vh_ixfmt_hash is never a marker value; vh_ixfmt_bucket_put
 *      places every hash it accepts where its probe chain finds it
 * The first byte picks the function; the rest is its input. Built with
 * clang and -DVH_FUZZ=ON; see tests/fuzz/CMakeLists.txt. */
#include "ixfmt.h"
#include "row.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void header(const uint8_t *p, size_t n)
{
    vh_ixfmt_hdr h;
    uint64_t fsize = 0;
    memset(&h, 0, sizeof h);
    if (n >= 8) {
        memcpy(&fsize, p, 8);
        p += 8;
        n -= 8;
    }
    memcpy(&h, p, n < sizeof h ? n : sizeof h);
    if (!vh_ixfmt_hdr_sane(&h, fsize))
        return;
    if (memcmp(h.magic, VH_IXFMT_MAGIC, 8) != 0 || h.format != VH_IXFMT_FORMAT || h.nbuckets < 8 ||
        (h.nbuckets & (h.nbuckets - 1)) != 0 || h.heap_start != VH_IXFMT_HDR + h.nbuckets * sizeof(vh_ixfmt_bucket) ||
        h.heap_end < h.heap_start || h.heap_end > fsize)
        abort();
}

static void record(const uint8_t *p, size_t n)
{
    vh_ixfmt_col c[VH_IXFMT_NCOLS];
    if (n > VH_IXFMT_REC_MAX || vh_ixfmt_rec_parse(p, n, c) < 0)
        return;
    for (int i = 0; i < VH_IXFMT_NCOLS; i++) {
        const uint8_t *t = (const uint8_t *)c[i].text;
        if (t < p || t + c[i].len >= p + n || t[c[i].len] != 0)
            abort();
    }
    if (vh_ixfmt_rec_size(c) != n)
        abort();
    unsigned char *out = malloc(n);
    uint64_t hash;
    if (!out)
        return;
    if (vh_ixfmt_rec_encode(c, out, &hash) != n ||
        memcmp(out + VH_IXFMT_REC_HEAD, p + VH_IXFMT_REC_HEAD, n - VH_IXFMT_REC_HEAD) != 0 || hash < 2)
        abort();
    free(out);
    /* what the reader does with a record it found (ix.c) */
    const char *text[VH_IXFMT_NCOLS];
    int type[VH_IXFMT_NCOLS];
    int64_t ival[VH_IXFMT_NCOLS];
    for (int k = 0; k < VH_IXFMT_NCOLS; k++) {
        text[k] = c[k].type == 5 /* SQLITE_NULL */ ? NULL : c[k].text;
        type[k] = c[k].type;
        ival[k] = c[k].ival;
    }
    vh_row row;
    vh_err e;
    if (vh_row_from_cols(text, type, ival, &row, &e) == 0 && vh_row_valid(&row, &e) == 0 && row.ngroups > VH_MAX_GROUPS)
        abort();
}

static void buckets(const uint8_t *p, size_t n)
{
    vh_ixfmt_bucket b[64];
    uint64_t nb = n && (p[0] & 1) ? 64 : 8;
    memset(b, 0, sizeof b);
    for (size_t i = 1; i + 1 < n; i += 2) {
        size_t split = p[i] % (n - i);
        uint64_t h = vh_ixfmt_hash((const char *)p + i + 1, split, (const char *)p + i + 1 + split, n - i - 1 - split);
        if (h < 2)
            abort();
        uint64_t off = i + 1;
        if (vh_ixfmt_bucket_put(b, nb, h, off) < 0)
            return; /* full */
        int found = 0;
        for (uint64_t j = h & (nb - 1), k = 0; k < nb && b[j] != VH_IXFMT_B_EMPTY; k++, j = (j + 1) & (nb - 1))
            if (VH_IXFMT_B_OFF(b[j]) == off && VH_IXFMT_B_TAG(b[j]) == VH_IXFMT_B_TAG(h))
                found = 1;
        if (!found)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: header(data + 1, size - 1); break;
    case 1: record(data + 1, size - 1); break;
    default: buckets(data + 1, size - 1); break;
    }
    return 0;
}
