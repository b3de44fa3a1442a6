/* libFuzzer target for the ClientHello parser (fleet.md 2.2-2.6;
 * acceptance S11, THREATS L4/L5): whatever the bytes, vh_tls_parse
 * answers, and its answers hold their promises:
 *   - DONE: the hello's records are no longer than the input and within
 *     the caps (1..32 records, at most VH_TLS_PEEK_MAX bytes), and the
 *     name is what the caller trusts: normalised (lower-case letters,
 *     digits, hyphens, dots; no trailing dot; labels 1..63 without an
 *     edge hyphen; at most 253), never an IP literal, and hostname.c
 *     gives it back unchanged;
 *   - NEED: asks for more than it was given, never past the cap;
 *   - every prefix of a DONE hello is NEED, asking for no more than the
 *     hello (a split hello never refuses, waiting never waits for a
 *     byte that is not the hello's), and the hello alone or followed by
 *     other bytes gives the same answer (what follows is never read);
 *   - NOT_TLS is the first byte alone; a refusal stays a refusal, with
 *     the same reason, whatever follows.
 * The input is copied into a buffer of exactly its size, so that ASan
 * sees any read past it. Built with clang and -DVH_FUZZ=ON; see
 * tests/fuzz/CMakeLists.txt. */
#include "hostname.h"
#include "tls.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const vh_tls_result *r)
{
    size_t n = strnlen(r->name, sizeof r->name);
    if (n >= sizeof r->name || n > VH_HOSTNAME_MAX)
        abort();
    if (n == 0)
        return;
    if (!r->has_sni)
        abort();
    size_t label = 0;
    int all_digits = 1;
    for (size_t i = 0; i < n; i++) {
        char c = r->name[i];
        if (c == '.') {
            if (label == 0 || r->name[i - 1] == '-')
                abort();
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            abort();
        if (c == '-' && label == 0)
            abort();
        if (++label > VH_HOSTNAME_LABEL_MAX)
            abort();
        if (c < '0' || c > '9')
            all_digits = 0;
    }
    if (label == 0 || r->name[n - 1] == '-' || all_digits)
        abort();
    /* normalised: a second pass changes nothing */
    char again[VH_HOSTNAME_MAX + 1];
    if (vh_hostname_norm((const unsigned char *)r->name, n, again) != VH_HOSTNAME_OK || strcmp(again, r->name) != 0)
        abort();
}

/* Parse data[0..n) from a buffer of exactly n bytes. */
static vh_tls_status parse_exact(const uint8_t *data, size_t n, vh_tls_result *r)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    if (n)
        memcpy(b, data, n);
    vh_tls_status s = vh_tls_parse(b, n, r);
    free(b);
    return s;
}

/* The same bytes followed by a record of another kind and a handshake
 * header: a DONE or a refusal must not change. */
static vh_tls_status parse_more(const uint8_t *data, size_t n, vh_tls_result *r)
{
    static const uint8_t tail[] = {0x17, 0x03, 0x03, 0x00, 0x02, 0x16, 0x03, 0x16, 0x03, 0x01, 0x40, 0x00};
    uint8_t *b = malloc(n + sizeof tail);
    if (!b)
        abort();
    memcpy(b, data, n);
    memcpy(b + n, tail, sizeof tail);
    vh_tls_status s = vh_tls_parse(b, n + sizeof tail, r);
    free(b);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vh_tls_result r, r2;
    vh_tls_status s = parse_exact(data, size, &r);
    switch (s) {
    case VH_TLS_NEED:
        if (r.len <= size || r.len > VH_TLS_PEEK_MAX || r.reason != VH_TLS_R_NONE)
            abort();
        return 0;
    case VH_TLS_NOT_TLS:
        if (size == 0 || data[0] == VH_TLS_CT_HANDSHAKE || r.len != 0 || r.name[0])
            abort();
        return 0;
    case VH_TLS_REFUSED:
        if (r.reason == VH_TLS_R_NONE || !vh_tls_reason_text(r.reason) || r.len != 0 || r.name[0] || r.ech)
            abort();
        /* final: the same bytes and more are refused for the same reason */
        if (parse_more(data, size, &r2) != VH_TLS_REFUSED || r2.reason != r.reason)
            abort();
        return 0;
    case VH_TLS_DONE: break;
    default: abort();
    }
    if (r.len > size || r.len < VH_TLS_RECORD_HEAD + VH_TLS_HS_HEAD + VH_TLS_HELLO_MIN || r.len > VH_TLS_PEEK_MAX)
        abort();
    if (r.records < 1 || r.records > VH_TLS_RECORDS_MAX || r.reason != VH_TLS_R_NONE || r.client_version < 0x0301)
        abort();
    check_name(&r);
    /* the hello alone, and the hello with other bytes after it, give the
     * same answer: nothing past its records is read */
    if (parse_exact(data, r.len, &r2) != VH_TLS_DONE || memcmp(&r, &r2, sizeof r) != 0)
        abort();
    if (parse_more(data, r.len, &r2) != VH_TLS_DONE || memcmp(&r, &r2, sizeof r) != 0)
        abort();
    /* every prefix waits, for no more than the hello: all of them for a
     * short hello, a spread of them for a long one */
    size_t step = r.len <= 600 ? 1 : r.len / 211 + 1;
    for (size_t k = 0; k < r.len; k += step) {
        if (parse_exact(data, k, &r2) != VH_TLS_NEED || r2.len <= k || r2.len > r.len)
            abort();
    }
    if (parse_exact(data, r.len - 1, &r2) != VH_TLS_NEED || r2.len != r.len)
        abort();
    return 0;
}
