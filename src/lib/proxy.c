#include "proxy.h"

#include "hostname.h"

#include <arpa/inet.h>
#include <string.h>

static const unsigned char v2_sig[VH_PROXY_V2_SIG_LEN] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                          0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static vh_proxy_status need(vh_proxy_result *r, size_t total)
{
    r->status = VH_PROXY_NEED;
    r->len = total;
    return r->status;
}

static vh_proxy_status refuse(vh_proxy_result *r, vh_proxy_reason why)
{
    r->status = VH_PROXY_REFUSED;
    r->reason = why;
    r->len = 0;
    return r->status;
}

static uint32_t crc32c_update(uint32_t c, const unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c ^= buf[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return c;
}

uint32_t vh_proxy_crc32c(const unsigned char *buf, size_t n)
{
    return crc32c_update(0xFFFFFFFFu, buf, n) ^ 0xFFFFFFFFu;
}

/* An endpoint from raw address bytes (4 or 16) and a port, canonical as
 * addr.c writes it (a mapped IPv6 address is IPv4: THREATS G1). The
 * destination must be an address a client can dial (v1-9, the rule of
 * vh_addr_canon); the source must not be unspecified, multicast or
 * broadcast (v1-10). Returns 0 or the reason. */
static vh_proxy_reason endpoint(int family, const unsigned char *a, unsigned port, int is_dst, vh_endpoint *ep)
{
    vh_proxy_reason bad = is_dst ? VH_PROXY_R_DESTINATION : VH_PROXY_R_SOURCE;
    memset(ep, 0, sizeof *ep);
    ep->port = port;
    struct in6_addr a6;
    memset(&a6, 0, sizeof a6);
    if (family == AF_INET6) {
        memcpy(&a6, a, 16);
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            family = AF_INET;
            a += 12;
        }
    }
    if (family == AF_INET) {
        uint32_t h = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        if (h == 0 || h == 0xFFFFFFFFu || (h >> 28) == 0xE)
            return bad;
        ep->family = AF_INET;
        if (!inet_ntop(AF_INET, a, ep->text, sizeof ep->text))
            return bad;
        return VH_PROXY_R_NONE;
    }
    if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_MULTICAST(&a6))
        return bad;
    if (is_dst && IN6_IS_ADDR_LINKLOCAL(&a6))
        return bad; /* ambiguous without an interface, as in vh_addr_canon (G9) */
    ep->family = AF_INET6;
    if (!inet_ntop(AF_INET6, &a6, ep->text, sizeof ep->text))
        return bad;
    return VH_PROXY_R_NONE;
}

/* ---- v1 (fleet.md 1.3, PP 2.1) ---- */

/* A v1 port: "0" is refused (never a TCP endpoint), no leading zero,
 * digits only, 1..65535. */
static int v1_port(const char *s, size_t n, unsigned *port)
{
    if (n == 0 || n > 5 || s[0] == '0')
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

static vh_proxy_status v1_line(const unsigned char *line, size_t n, size_t total, vh_proxy_result *r)
{
    /* n excludes CRLF; every byte is %x20-7E (checked by the caller) */
    const char *p = (const char *)line + VH_PROXY_V1_SIG_LEN;
    const char *end = (const char *)line + n;
    if (end - p >= 7 && memcmp(p, "UNKNOWN", 7) == 0)
        return refuse(r, VH_PROXY_R_V1_UNKNOWN);
    int family;
    if (end - p >= 4 && memcmp(p, "TCP4", 4) == 0)
        family = AF_INET;
    else if (end - p >= 4 && memcmp(p, "TCP6", 4) == 0)
        family = AF_INET6;
    else
        return refuse(r, VH_PROXY_R_V1_PROTOCOL);
    p += 4;
    if (p < end && *p != ' ')
        return refuse(r, VH_PROXY_R_V1_PROTOCOL); /* TCP44, TCP4x */
    /* exactly four fields after the protocol, each after exactly one space */
    const char *f[4];
    size_t fl[4];
    for (int i = 0; i < 4; i++) {
        if (p >= end || *p != ' ')
            return refuse(r, VH_PROXY_R_V1_SYNTAX); /* missing field */
        p++;
        f[i] = p;
        while (p < end && *p != ' ')
            p++;
        fl[i] = (size_t)(p - f[i]);
        if (fl[i] == 0)
            return refuse(r, VH_PROXY_R_V1_SYNTAX); /* two spaces, trailing blank */
    }
    if (p != end)
        return refuse(r, VH_PROXY_R_V1_SYNTAX); /* extra field */
    unsigned char bin[2][16];
    for (int i = 0; i < 2; i++) {
        char text[VH_ADDR_TEXT];
        if (fl[i] >= sizeof text)
            return refuse(r, VH_PROXY_R_V1_ADDRESS);
        memcpy(text, f[i], fl[i]);
        text[fl[i]] = '\0';
        /* inet_pton only: no 01.2.3.4, 1.2.3, host names, zones (v1-5) */
        if (inet_pton(family, text, bin[i]) != 1)
            return refuse(r, VH_PROXY_R_V1_ADDRESS);
    }
    unsigned sport, dport;
    if (v1_port(f[2], fl[2], &sport) < 0 || v1_port(f[3], fl[3], &dport) < 0)
        return refuse(r, VH_PROXY_R_V1_PORT);
    vh_proxy_reason why = endpoint(family, bin[0], sport, 0, &r->src);
    if (why == VH_PROXY_R_NONE)
        why = endpoint(family, bin[1], dport, 1, &r->dst);
    if (why != VH_PROXY_R_NONE)
        return refuse(r, why);
    r->command = VH_PROXY_CMD_PROXY;
    r->family = r->dst.family;
    r->status = VH_PROXY_DONE;
    r->len = total;
    return r->status;
}

static vh_proxy_status v1(const unsigned char *buf, size_t n, vh_proxy_result *r)
{
    r->version = 1;
    size_t lim = n < VH_PROXY_V1_MAX ? n : VH_PROXY_V1_MAX;
    for (size_t i = VH_PROXY_V1_SIG_LEN; i < lim; i++) {
        unsigned char c = buf[i];
        if (c == '\r') {
            if (i + 2 > VH_PROXY_V1_MAX)
                return refuse(r, VH_PROXY_R_V1_TOO_LONG); /* the LF would be byte 108 */
            if (i + 1 >= n)
                return need(r, i + 2); /* CR is the last byte so far */
            if (buf[i + 1] != '\n')
                return refuse(r, VH_PROXY_R_V1_CRLF);
            return v1_line(buf, i, i + 2, r);
        }
        if (c == '\n')
            return refuse(r, VH_PROXY_R_V1_CRLF);
        if (c < 0x20 || c > 0x7E)
            return refuse(r, VH_PROXY_R_V1_BYTE);
    }
    if (n >= VH_PROXY_V1_MAX)
        return refuse(r, VH_PROXY_R_V1_TOO_LONG);
    return need(r, n + 1);
}

/* ---- v2 (fleet.md 1.4, PP 2.2) ---- */

static vh_proxy_status v2_tlvs(const unsigned char *buf, size_t off, size_t total, vh_proxy_result *r)
{
    int seen_authority = 0;
    size_t crc_at = 0;
    while (off < total) {
        /* each TLV: 3 bytes of head and its value inside the header, and
         * the walk ends exactly at the end (haproxy: a TLV boundary) */
        if (total - off < VH_PROXY_TLV_HEAD)
            return refuse(r, VH_PROXY_R_V2_TLV);
        unsigned type = buf[off];
        size_t len = (size_t)buf[off + 1] << 8 | buf[off + 2];
        const unsigned char *v = buf + off + VH_PROXY_TLV_HEAD;
        if (len > total - off - VH_PROXY_TLV_HEAD)
            return refuse(r, VH_PROXY_R_V2_TLV);
        switch (type) {
        case VH_PROXY_TLV_AUTHORITY:
            if (seen_authority || len < 1 || len > VH_PROXY_AUTHORITY_MAX ||
                vh_hostname_norm(v, len, r->authority) != VH_HOSTNAME_OK)
                return refuse(r, VH_PROXY_R_V2_AUTHORITY);
            seen_authority = 1;
            r->has_authority = 1;
            break;
        case VH_PROXY_TLV_SSL:
            /* the balancer ended TLS (HAProxy proxy-v2-options ssl):
             * what follows is the client's plaintext (virtuald.c) */
            if (len >= 1 && (v[0] & VH_PROXY_SSL_CLIENT_SSL))
                r->tls_ended = 1;
            break;
        case VH_PROXY_TLV_CRC32C:
            /* verified after the walk: a second one is refused as such */
            if (crc_at || len != VH_PROXY_CRC32C_LEN)
                return refuse(r, VH_PROXY_R_V2_CRC_FORMAT);
            crc_at = off + VH_PROXY_TLV_HEAD;
            break;
        case VH_PROXY_TLV_UNIQUE_ID:
            /* length 0 is what haproxy 2.6 sends by default (X1) */
            if (r->has_unique_id || len > VH_PROXY_UNIQUE_ID_MAX)
                return refuse(r, VH_PROXY_R_V2_UNIQUE_ID);
            r->has_unique_id = 1;
            r->unique_id_len = len;
            memcpy(r->unique_id, v, len);
            break;
        default: break; /* ALPN, NOOP, SSL, NETNS, custom, unknown: skipped (PP 2.2) */
        }
        off += VH_PROXY_TLV_HEAD + len;
    }
    if (crc_at) {
        const unsigned char *v = buf + crc_at;
        uint32_t want = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        /* over the whole header with the 4 value bytes zeroed */
        static const unsigned char zero[VH_PROXY_CRC32C_LEN];
        uint32_t c = crc32c_update(0xFFFFFFFFu, buf, crc_at);
        c = crc32c_update(c, zero, sizeof zero);
        c = crc32c_update(c, v + VH_PROXY_CRC32C_LEN, total - crc_at - VH_PROXY_CRC32C_LEN) ^ 0xFFFFFFFFu;
        if (c != want)
            return refuse(r, VH_PROXY_R_V2_CRC);
        r->has_crc32c = 1;
    }
    return VH_PROXY_DONE;
}

static vh_proxy_status v2(const unsigned char *buf, size_t n, vh_proxy_result *r)
{
    r->version = 2;
    if (n < VH_PROXY_V2_FIXED)
        return need(r, VH_PROXY_V2_FIXED);
    unsigned ver = buf[12] >> 4, cmd = buf[12] & 0xF;
    unsigned fam = buf[13] >> 4, proto = buf[13] & 0xF;
    if (ver != 2)
        return refuse(r, VH_PROXY_R_V2_VERSION);
    if (cmd > VH_PROXY_CMD_PROXY)
        return refuse(r, VH_PROXY_R_V2_COMMAND);
    if (fam > 3 || proto > 2)
        return refuse(r, VH_PROXY_R_V2_FAMILY);
    size_t total = VH_PROXY_V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
    if (total > VH_PROXY_V2_MAX)
        return refuse(r, VH_PROXY_R_V2_TOO_LONG);
    static const size_t block_of[4] = {0, VH_PROXY_V2_ADDR_INET, VH_PROXY_V2_ADDR_INET6, VH_PROXY_V2_ADDR_UNIX};
    size_t block = block_of[fam];
    if (total - VH_PROXY_V2_FIXED < block)
        return refuse(r, VH_PROXY_R_V2_SHORT);
    if (cmd == VH_PROXY_CMD_PROXY) {
        /* refused before waiting for the rest: no answer can change */
        if (fam == 0)
            return refuse(r, VH_PROXY_R_V2_UNSPEC);
        if (fam == 3 || proto != 1)
            return refuse(r, VH_PROXY_R_V2_UNSUPPORTED);
    }
    if (n < total)
        return need(r, total);
    if (v2_tlvs(buf, VH_PROXY_V2_FIXED + block, total, r) == VH_PROXY_REFUSED)
        return r->status;
    r->command = (vh_proxy_command)cmd;
    r->family = AF_UNSPEC;
    if (cmd == VH_PROXY_CMD_PROXY) {
        /* the LOCAL command's addresses are ignored (PP 2.2) */
        const unsigned char *a = buf + VH_PROXY_V2_FIXED;
        size_t alen = fam == 1 ? 4 : 16;
        unsigned sport = (unsigned)a[2 * alen] << 8 | a[2 * alen + 1];
        unsigned dport = (unsigned)a[2 * alen + 2] << 8 | a[2 * alen + 3];
        if (sport == 0 || dport == 0)
            return refuse(r, VH_PROXY_R_V2_PORT);
        int family = fam == 1 ? AF_INET : AF_INET6;
        vh_proxy_reason why = endpoint(family, a, sport, 0, &r->src);
        if (why == VH_PROXY_R_NONE)
            why = endpoint(family, a + alen, dport, 1, &r->dst);
        if (why != VH_PROXY_R_NONE)
            return refuse(r, why);
        r->family = r->dst.family;
    }
    r->status = VH_PROXY_DONE;
    r->len = total;
    return r->status;
}

vh_proxy_status vh_proxy_parse(const unsigned char *buf, size_t n, vh_proxy_result *r)
{
    memset(r, 0, sizeof *r);
    if (n == 0)
        return need(r, 1);
    if (buf[0] == v2_sig[0]) {
        size_t k = n < VH_PROXY_V2_SIG_LEN ? n : VH_PROXY_V2_SIG_LEN;
        if (memcmp(buf, v2_sig, k) != 0)
            return refuse(r, VH_PROXY_R_NOT_PROXY);
        if (n < VH_PROXY_V2_SIG_LEN)
            return need(r, VH_PROXY_V2_FIXED);
        return v2(buf, n, r);
    }
    size_t k = n < VH_PROXY_V1_SIG_LEN ? n : VH_PROXY_V1_SIG_LEN;
    if (memcmp(buf, VH_PROXY_V1_SIG, k) != 0)
        return refuse(r, VH_PROXY_R_NOT_PROXY);
    if (n < VH_PROXY_V1_SIG_LEN)
        return need(r, n + 1);
    return v1(buf, n, r);
}

int vh_proxy_looks_like_header(const unsigned char *buf, size_t n)
{
    static const char *const v1s[] = {"PROXY TCP4 ", "PROXY TCP6 ", "PROXY UNKNOWN"};
    if (n >= VH_PROXY_V2_SIG_LEN && memcmp(buf, v2_sig, VH_PROXY_V2_SIG_LEN) == 0)
        return 1;
    for (size_t i = 0; i < sizeof v1s / sizeof v1s[0]; i++) {
        size_t l = strlen(v1s[i]);
        if (n >= l && memcmp(buf, v1s[i], l) == 0)
            return 1;
    }
    return 0;
}

const char *vh_proxy_reason_text(vh_proxy_reason reason)
{
    switch (reason) {
    case VH_PROXY_R_NONE: return "no error";
    case VH_PROXY_R_NOT_PROXY: return "no PROXY header (neither the v1 nor the v2 signature)";
    case VH_PROXY_R_V1_TOO_LONG: return "PROXY v1 line without CRLF within 107 bytes";
    case VH_PROXY_R_V1_CRLF: return "PROXY v1 line with a lone CR or LF";
    case VH_PROXY_R_V1_SYNTAX: return "PROXY v1 line with a missing or extra field, or not exactly one space between";
    case VH_PROXY_R_V1_PROTOCOL: return "PROXY v1 protocol is not TCP4 or TCP6";
    case VH_PROXY_R_V1_ADDRESS: return "PROXY v1 address is not an address of its family (inet_pton)";
    case VH_PROXY_R_V1_PORT: return "PROXY v1 port is not 1..65535 without leading zeros";
    case VH_PROXY_R_V1_BYTE: return "PROXY v1 line with a byte outside printable ASCII";
    case VH_PROXY_R_V1_UNKNOWN: return "balancer could not describe the original connection (PROXY UNKNOWN)";
    case VH_PROXY_R_DESTINATION:
        return "PROXY destination is unspecified, multicast, broadcast or IPv6 link-local: never a dialled address";
    case VH_PROXY_R_SOURCE: return "PROXY source is unspecified, multicast or broadcast";
    case VH_PROXY_R_V2_VERSION: return "PROXY v2 version nibble is not 2";
    case VH_PROXY_R_V2_COMMAND: return "PROXY v2 command is neither LOCAL nor PROXY";
    case VH_PROXY_R_V2_FAMILY: return "PROXY v2 address family or transport out of range";
    case VH_PROXY_R_V2_TOO_LONG: return "PROXY v2 header exceeds 4096 bytes";
    case VH_PROXY_R_V2_SHORT: return "PROXY v2 length is shorter than its address block";
    case VH_PROXY_R_V2_UNSPEC: return "balancer could not describe the connection (PROXY v2 AF_UNSPEC)";
    case VH_PROXY_R_V2_UNSUPPORTED: return "PROXY v2 connection is not TCP over IPv4 or IPv6 (UDP, UNIX)";
    case VH_PROXY_R_V2_PORT: return "PROXY v2 port 0";
    case VH_PROXY_R_V2_TLV: return "PROXY v2 TLV runs past the end of the header";
    case VH_PROXY_R_V2_CRC_FORMAT: return "PROXY v2 CRC32C TLV is not 4 bytes, or appears twice";
    case VH_PROXY_R_V2_CRC: return "PROXY v2 CRC32C mismatch";
    case VH_PROXY_R_V2_AUTHORITY: return "PROXY v2 AUTHORITY is empty, over 255 bytes, not a host name, or twice";
    case VH_PROXY_R_V2_UNIQUE_ID: return "PROXY v2 UNIQUE_ID is over 128 bytes, or appears twice";
    }
    return "unknown PROXY refusal";
}
