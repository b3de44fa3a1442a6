/* libFuzzer target for the address parser and the name and path
 * validators (THREATS G1-G3, G8-G10, B4): whatever the bytes, each
 * answers or refuses, and what it accepts holds its promise:
 *   vh_addr_canon       the output is canonical (canonicalising it again
 *                       gives itself) and parses with inet_pton
 *   vh_addr_from_sockaddrs  never reads past the given lengths; an
 *                       accepted endpoint is canonical text
 *   vh_valid_service    1-64 bytes of [A-Za-z0-9._+-], or "*"
 *   vh_valid_root       absolute, no empty, "." or ".." component, no
 *                       trailing slash, no control byte
 *   vh_row_groups_parse     at most VH_MAX_GROUPS ids, none 0, 65535, 2^32-1
 * The first byte picks the function; the rest is its input. Built with
 * clang and -DVH_FUZZ=ON; see tests/fuzz/CMakeLists.txt. */
#include "addr.h"
#include "row.h"
#include "valid.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canon(const char *in, int allow_default)
{
    char out[VH_ADDR_TEXT], again[VH_ADDR_TEXT];
    vh_err e;
    if (vh_addr_canon(in, allow_default, out, &e) < 0)
        return;
    if (strnlen(out, sizeof out) >= sizeof out)
        abort();
    if (strcmp(out, VH_ADDR_DEFAULT) == 0) {
        if (!allow_default || strcmp(in, VH_ADDR_DEFAULT) != 0)
            abort();
        return;
    }
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, out, buf) != 1 && inet_pton(AF_INET6, out, buf) != 1)
        abort();
    if (vh_addr_canon(out, allow_default, again, &e) < 0 || strcmp(out, again) != 0)
        abort(); /* not canonical: two spellings of one address (F8, G2) */
}

static void check_sockaddrs(const uint8_t *d, size_t n)
{
    if (n < 2)
        return;
    /* two lengths, then the bytes of both addresses, each in a buffer of
     * exactly its length so that ASan sees any read past it */
    socklen_t llen = d[0] % (sizeof(struct sockaddr_storage) + 1);
    socklen_t rlen = d[1] % (sizeof(struct sockaddr_storage) + 1);
    d += 2;
    n -= 2;
    struct sockaddr_storage l, r;
    memset(&l, 0, sizeof l);
    memset(&r, 0, sizeof r);
    size_t a = n < llen ? n : llen;
    memcpy(&l, d, a);
    size_t b = n - a < rlen ? n - a : rlen;
    memcpy(&r, d + a, b);
    vh_conn c;
    vh_err e;
    if (vh_addr_from_sockaddrs(&l, llen, &r, rlen, &c, &e) < 0)
        return;
    if (c.local.family != AF_INET && c.local.family != AF_INET6)
        abort();
    check_canon(c.local.text, 0);
    char again[VH_ADDR_TEXT];
    if (vh_addr_canon(c.local.text, 0, again, &e) == 0 && strcmp(again, c.local.text) != 0)
        abort();
}

static void check_service(const char *s, int allow_any)
{
    vh_err e;
    if (vh_valid_service(s, allow_any, &e) < 0)
        return;
    if (allow_any && strcmp(s, VH_SERVICE_ANY) == 0)
        return;
    size_t n = strlen(s);
    if (n < 1 || n > VH_SERVICE_MAX)
        abort();
    for (const char *p = s; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-", *p))
            abort();
}

static void check_root(const char *s)
{
    vh_err e;
    if (vh_valid_root(s, &e) < 0)
        return;
    size_t n = strlen(s);
    if (s[0] != '/' || (n > 1 && s[n - 1] == '/') || strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../"))
        abort();
    if ((n >= 2 && strcmp(s + n - 2, "/.") == 0) || (n >= 3 && strcmp(s + n - 3, "/..") == 0))
        abort();
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
}

static void check_groups(const char *s)
{
    uint32_t g[VH_MAX_GROUPS];
    vh_err e;
    int n = vh_row_groups_parse(s, g, &e);
    if (n < 0)
        return;
    if (n > VH_MAX_GROUPS)
        abort();
    for (int i = 0; i < n; i++)
        if (g[i] == 0 || g[i] == 65535 || g[i] == 4294967295u)
            abort();
    char back[VH_MAX_GROUPS * 11 + 1];
    vh_row_groups_format(g, n, back, sizeof back);
    uint32_t g2[VH_MAX_GROUPS];
    if (vh_row_groups_parse(back, g2, &e) != n || memcmp(g, g2, sizeof g[0] * (size_t)n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0] % 6;
    /* the rest as a C string, in a buffer of exactly its size */
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (which) {
    case 0: check_canon(s, 1); break;
    case 1: check_canon(s, 0); break;
    case 2: check_sockaddrs(data + 1, size - 1); break;
    case 3: check_service(s, data[0] & 0x80); break;
    case 4: check_root(s); break;
    case 5: check_groups(s); break;
    }
    free(s);
    return 0;
}
