#include "ixfmt.h"

#include "addr.h"

#include <string.h>

uint64_t vh_ixfmt_hash(const char *svc, size_t ls, const char *adr, size_t la)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < ls; i++)
        h = (h ^ (unsigned char)svc[i]) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (size_t i = 0; i < la; i++)
        h = (h ^ (unsigned char)adr[i]) * 1099511628211ULL;
    return h < 2 ? h + 2 : h; /* never a marker value */
}

uint32_t vh_ixfmt_rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A trusted source entry as the writer makes it: family, length and
 * versions in range, the service NUL-terminated where svclen says, and
 * no host bit set below the length. */
static int trust_sane(const vh_ixfmt_trust *t)
{
    unsigned bits = t->family == 4 ? 32 : t->family == 6 ? 128 : 0;
    if (!bits || t->len < 1 || t->len > bits || t->versions < 1 || t->versions > 3 || t->svclen < 1 ||
        t->svclen >= sizeof t->service || t->service[t->svclen] != '\0' || memchr(t->service, '\0', t->svclen))
        return 0;
    unsigned char net[16];
    memcpy(net, t->net, 16);
    vh_addr_mask(net, t->family == 4 ? AF_INET : AF_INET6, t->len);
    if (t->family == 4)
        memset(net + 4, 0, 12);
    if (memcmp(net, t->net, 16) != 0) /* a host bit set, or bytes past an IPv4 address */
        return 0;
    return 1;
}

int vh_ixfmt_hdr_sane(const vh_ixfmt_hdr *h, uint64_t fsize)
{
    if (h->ntrust > VH_IXFMT_TRUST_MAX || (h->features & ~(VH_IXFMT_F_TRUST | VH_IXFMT_F_TRUST_INLINE)) ||
        ((h->features & VH_IXFMT_F_TRUST_INLINE) && !(h->features & VH_IXFMT_F_TRUST)) ||
        ((h->features & VH_IXFMT_F_TRUST_INLINE) && h->ntrust == 0) ||
        (!(h->features & VH_IXFMT_F_TRUST_INLINE) && h->ntrust != 0) || (h->dom_len4 & ~(((1ULL << 31) - 1) << 1)) ||
        (h->dom_len6[0] & 1))
        return 0;
    for (uint32_t i = 0; i < h->ntrust; i++)
        if (!trust_sane(&h->trust[i]))
            return 0;
    return memcmp(h->magic, VH_IXFMT_MAGIC, 8) == 0 && h->format == VH_IXFMT_FORMAT && h->endian == VH_IXFMT_ENDIAN &&
           h->nbuckets >= 8 && (h->nbuckets & (h->nbuckets - 1)) == 0 && h->nbuckets < VH_IXFMT_OFF_LIMIT &&
           h->heap_start == VH_IXFMT_HDR + h->nbuckets * sizeof(vh_ixfmt_bucket) && h->heap_end >= h->heap_start &&
           h->heap_end <= fsize;
}

int vh_ixfmt_rec_parse(const unsigned char *p, size_t n, vh_ixfmt_col c[VH_IXFMT_NCOLS])
{
    size_t o = VH_IXFMT_REC_HEAD;
    for (int i = 0; i < VH_IXFMT_NCOLS; i++) {
        if (n - o < VH_IXFMT_COL_HEAD || o > n)
            return -1;
        c[i].type = p[o];
        memcpy(&c[i].ival, p + o + 1, 8);
        c[i].len = vh_ixfmt_rd32(p + o + 9);
        o += VH_IXFMT_COL_HEAD;
        if (c[i].len > n - o || n - o - c[i].len < 1 || p[o + c[i].len] != 0)
            return -1;
        c[i].text = (const char *)p + o;
        o += (size_t)c[i].len + 1;
    }
    return o == n ? 0 : -1;
}

size_t vh_ixfmt_rec_size(const vh_ixfmt_col c[VH_IXFMT_NCOLS])
{
    size_t n = VH_IXFMT_REC_HEAD;
    for (int i = 0; i < VH_IXFMT_NCOLS; i++)
        n += VH_IXFMT_COL_HEAD + (size_t)c[i].len + 1;
    return n;
}

size_t vh_ixfmt_rec_encode(const vh_ixfmt_col c[VH_IXFMT_NCOLS], unsigned char *out, uint64_t *hash)
{
    size_t n = vh_ixfmt_rec_size(c);
    uint32_t len = (uint32_t)n, zero = 0;
    memcpy(out, &len, 4);
    memcpy(out + 4, &zero, 4);
    size_t o = VH_IXFMT_REC_HEAD;
    for (int i = 0; i < VH_IXFMT_NCOLS; i++) {
        out[o] = (unsigned char)c[i].type;
        memcpy(out + o + 1, &c[i].ival, 8);
        memcpy(out + o + 9, &c[i].len, 4);
        o += VH_IXFMT_COL_HEAD;
        if (c[i].len)
            memcpy(out + o, c[i].text, c[i].len);
        out[o + c[i].len] = 0;
        o += (size_t)c[i].len + 1;
    }
    *hash = vh_ixfmt_hash(c[0].text, c[0].len, c[1].text, c[1].len);
    memcpy(out + 8, hash, 8);
    return n;
}

int vh_ixfmt_bucket_put(vh_ixfmt_bucket *b, uint64_t nb, uint64_t hash, uint64_t off)
{
    for (uint64_t i = hash & (nb - 1), k = 0; k < nb; k++, i = (i + 1) & (nb - 1))
        if (b[i] < 2) {
            b[i] = VH_IXFMT_B_TAG(hash) | off;
            return 0;
        }
    return -1;
}
