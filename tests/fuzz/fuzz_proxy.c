/* libFuzzer target for the PROXY header parser (fleet.md 1.3, 1.4;
 * acceptance P17, THREATS L-rows of issue 15): whatever the bytes,
 * vh_proxy_parse answers, and its answers hold their promises:
 *   - DONE: the header is no longer than the input, and its fields are
 *     what the caller trusts (canonical addresses, ports 1..65535, a
 *     normalised name, a bounded unique id);
 *   - NEED: asks for more than it was given, never past the cap;
 *   - every prefix of a DONE header is NEED (a split header never
 *     refuses), and the same header followed by other bytes gives the
 *     same answer (never more than the header is consumed);
 *   - a refusal stays a refusal, with the same reason, whatever follows.
 * The input is copied into a buffer of exactly its size, so that ASan
 * sees any read past it. Built with clang and -DVH_FUZZ=ON; see
 * tests/fuzz/CMakeLists.txt. */
#include "addr.h"
#include "proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_endpoint(const vh_endpoint *ep)
{
    char again[VH_ADDR_TEXT];
    vh_err e;
    if (ep->port < 1 || ep->port > 65535)
        abort();
    if (ep->family != AF_INET && ep->family != AF_INET6)
        abort();
    /* canonical: the text is its own canonical form (the source may be
     * link-local, which vh_addr_canon refuses as a local address) */
    if (vh_addr_canon(ep->text, 0, again, &e) == 0 && strcmp(again, ep->text) != 0)
        abort();
}

static void check_done(const vh_proxy_result *r, size_t n)
{
    if (r->len > n || r->len == 0)
        abort();
    if (r->version == 1 && r->len > VH_PROXY_V1_MAX)
        abort();
    if (r->version == 2 && (r->len < VH_PROXY_V2_FIXED || r->len > VH_PROXY_V2_MAX))
        abort();
    if (r->version != 1 && r->version != 2)
        abort();
    if (r->command == VH_PROXY_CMD_PROXY) {
        check_endpoint(&r->src);
        check_endpoint(&r->dst);
        char again[VH_ADDR_TEXT];
        vh_err e;
        /* the destination selects a row: always a dialable address */
        if (vh_addr_canon(r->dst.text, 0, again, &e) < 0 || strcmp(again, r->dst.text) != 0)
            abort();
        if (r->family != r->dst.family)
            abort();
    } else if (r->command != VH_PROXY_CMD_LOCAL || r->version != 2 || r->family != AF_UNSPEC) {
        abort();
    }
    if (r->unique_id_len > VH_PROXY_UNIQUE_ID_MAX || (r->unique_id_len && !r->has_unique_id))
        abort();
    size_t an = strnlen(r->authority, sizeof r->authority);
    if (an >= sizeof r->authority)
        abort();
    for (size_t i = 0; i < an; i++) {
        char c = r->authority[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            abort();
    }
}

/* Parse data[0..n) from a buffer of exactly n bytes. */
static vh_proxy_status parse_exact(const uint8_t *data, size_t n, vh_proxy_result *r)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    if (n)
        memcpy(b, data, n);
    vh_proxy_status s = vh_proxy_parse(b, n, r);
    free(b);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vh_proxy_result r, r2;
    vh_proxy_status s = parse_exact(data, size, &r);
    (void)vh_proxy_looks_like_header(data, size);
    switch (s) {
    case VH_PROXY_NEED:
        if (r.len <= size || r.len > VH_PROXY_V2_MAX)
            abort();
        return 0;
    case VH_PROXY_REFUSED:
        if (r.reason == VH_PROXY_R_NONE || !vh_proxy_reason_text(r.reason))
            abort();
        /* final: the same bytes and more are refused for the same reason */
        {
            uint8_t *more = malloc(size + 8);
            if (!more)
                abort();
            memcpy(more, data, size);
            memcpy(more + size, "\r\nGET /\r\n", 8);
            if (vh_proxy_parse(more, size + 8, &r2) != VH_PROXY_REFUSED || r2.reason != r.reason)
                abort();
            free(more);
        }
        return 0;
    case VH_PROXY_DONE: break;
    default: abort();
    }
    check_done(&r, size);
    /* the header alone gives the same answer as the header and more */
    if (parse_exact(data, r.len, &r2) != VH_PROXY_DONE || memcmp(&r, &r2, sizeof r) != 0)
        abort();
    /* every prefix waits, for no more than the header: all of them for a
     * short header, a spread of them for a long one */
    size_t step = r.len <= 160 ? 1 : r.len / 97 + 1;
    for (size_t k = 0; k < r.len; k += step) {
        if (parse_exact(data, k, &r2) != VH_PROXY_NEED || r2.len <= k || r2.len > r.len)
            abort();
    }
    if (parse_exact(data, r.len - 1, &r2) != VH_PROXY_NEED || r2.len != r.len)
        abort();
    return 0;
}
