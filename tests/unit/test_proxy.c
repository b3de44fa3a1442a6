/* proxy: the PROXY header parser (fleet.md 1.3, 1.4; acceptance rows
 * P2, P3, P6, P7, P8, P10, P11/P12 (the byte checks), P4 (the parser's
 * half: every split), with HAProxy 2.6.12's captured headers (X1) as
 * vectors. The socket halves (waiting, exact read, timeouts, trust, the
 * health-check form against getpeername) come with the wiring. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define BUF (VH_PROXY_V2_MAX + 64)

/* The X1 captures (fleet.md 0.2, fleet-evidence/hdr-20.bin, hdr-21.bin). */
static const unsigned char x1_local[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
                                         0x20, 0x00, 0x00, 0x07, 0x03, 0x00, 0x04, 0xa9, 0xb8, 0x7e, 0x8f};
static const unsigned char x1_proxy[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21,
                                         0x11, 0x00, 0x16, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x02, 0x94, 0x74,
                                         0x00, 0x50, 0x03, 0x00, 0x04, 0x34, 0x3f, 0x5e, 0xa7, 0x05, 0x00, 0x00};
static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A v2 header: signature, ver_cmd, fam, the address block, the TLVs,
 * then a CRC32C TLV computed over it all when crc is set. */
static size_t v2(unsigned char *out, unsigned vc, unsigned fam, const void *addr, size_t alen, const void *tlv,
                 size_t tlen, int crc)
{
    memcpy(out, sig, 12);
    out[12] = (unsigned char)vc;
    out[13] = (unsigned char)fam;
    size_t n = 16;
    if (alen)
        memcpy(out + n, addr, alen);
    n += alen;
    if (tlen)
        memcpy(out + n, tlv, tlen);
    n += tlen;
    size_t at = 0;
    if (crc) {
        out[n] = 0x03;
        out[n + 1] = 0;
        out[n + 2] = 4;
        memset(out + n + 3, 0, 4);
        at = n + 3;
        n += 7;
    }
    out[14] = (unsigned char)((n - 16) >> 8);
    out[15] = (unsigned char)(n - 16);
    if (crc) {
        uint32_t c = vh_proxy_crc32c(out, n);
        out[at] = (unsigned char)(c >> 24);
        out[at + 1] = (unsigned char)(c >> 16);
        out[at + 2] = (unsigned char)(c >> 8);
        out[at + 3] = (unsigned char)c;
    }
    return n;
}

static const unsigned char a4[12] = {127, 0, 0, 1, 127, 0, 0, 2, 0x94, 0x74, 0x00, 0x50};

/* A complete header of hlen bytes, followed by the service's bytes:
 * every prefix is NEED (never more than the header, always more than
 * given), the whole gives DONE with the same len and fields whatever
 * follows. Returns the result for the caller's checks. */
static vh_proxy_result done(const unsigned char *h, size_t hlen)
{
    static unsigned char buf[BUF + 64];
    vh_proxy_result r, first;
    assert_true(hlen <= BUF);
    for (size_t k = 0; k < hlen; k++) {
        if (vh_proxy_parse(h, k, &r) != VH_PROXY_NEED)
            fail_msg("prefix of %zu of %zu bytes: status %d reason %s", k, hlen, r.status,
                     vh_proxy_reason_text(r.reason));
        assert_true(r.len > k);
        assert_true(r.len <= hlen);
    }
    if (vh_proxy_parse(h, hlen, &first) != VH_PROXY_DONE)
        fail_msg("%zu-byte header refused: %s", hlen, vh_proxy_reason_text(first.reason));
    assert_int_equal(first.len, hlen);
    static const char *tails[] = {"GET / HTTP/1.1\r\n", "\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "\x16\x03\x01"};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        memcpy(buf, h, hlen);
        memcpy(buf + hlen, tails[t], strlen(tails[t]));
        assert_int_equal(vh_proxy_parse(buf, hlen + strlen(tails[t]), &r), VH_PROXY_DONE);
        assert_memory_equal(&r, &first, sizeof r);
    }
    return first;
}

static void refused(const unsigned char *h, size_t n, vh_proxy_reason why)
{
    vh_proxy_result r;
    vh_proxy_status s = vh_proxy_parse(h, n, &r);
    if (s != VH_PROXY_REFUSED || r.reason != why)
        fail_msg("%zu bytes: status %d reason '%s', wanted '%s'", n, s, vh_proxy_reason_text(r.reason),
                 vh_proxy_reason_text(why));
    assert_int_equal(r.len, 0);
}

static vh_proxy_result v1_ok(const char *line)
{
    return done((const unsigned char *)line, strlen(line));
}

static void v1_bad(const char *line, vh_proxy_reason why)
{
    refused((const unsigned char *)line, strlen(line), why);
}

static void test_x1_vectors(void **s)
{
    (void)s;
    /* P7 control, P8, P9's bytes: the L4 check's LOCAL with a real CRC */
    vh_proxy_result r = done(x1_local, sizeof x1_local);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.command, VH_PROXY_CMD_LOCAL);
    assert_int_equal(r.family, AF_UNSPEC);
    assert_true(r.has_crc32c);
    /* P1/P8: proxied TCP4 with CRC32C and an empty UNIQUE_ID */
    r = done(x1_proxy, sizeof x1_proxy);
    assert_int_equal(r.command, VH_PROXY_CMD_PROXY);
    assert_int_equal(r.family, AF_INET);
    assert_string_equal(r.src.text, "127.0.0.1");
    assert_int_equal(r.src.port, 38004);
    assert_string_equal(r.dst.text, "127.0.0.2");
    assert_int_equal(r.dst.port, 80);
    assert_true(r.has_crc32c);
    assert_true(r.has_unique_id);
    assert_int_equal(r.unique_id_len, 0);
    assert_string_equal(r.authority, "");
    /* the same with one CRC bit flipped, and with one address bit */
    unsigned char b[sizeof x1_proxy];
    memcpy(b, x1_proxy, sizeof b);
    b[34] ^= 1;
    refused(b, sizeof b, VH_PROXY_R_V2_CRC);
    memcpy(b, x1_proxy, sizeof b);
    b[19] ^= 1;
    refused(b, sizeof b, VH_PROXY_R_V2_CRC);
    /* P3: HAProxy's send-proxy line, and its v1 L4 check (the
     * health-check form is told apart by the caller, against the socket) */
    r = v1_ok("PROXY TCP4 127.0.0.1 127.0.0.3 41298 80\r\n");
    assert_int_equal(r.version, 1);
    assert_int_equal(r.command, VH_PROXY_CMD_PROXY);
    assert_string_equal(r.src.text, "127.0.0.1");
    assert_int_equal(r.src.port, 41298);
    assert_string_equal(r.dst.text, "127.0.0.3");
    assert_int_equal(r.dst.port, 80);
    r = v1_ok("PROXY TCP4 127.0.0.1 127.0.0.1 43834 9002\r\n");
    assert_int_equal(r.dst.port, 9002);
    /* option httpchk / check-ssl: LOCAL with len 0, then the payload */
    unsigned char h[BUF];
    size_t n = v2(h, 0x20, 0x00, NULL, 0, NULL, 0, 0);
    assert_int_equal(n, 16);
    r = done(h, n);
    assert_int_equal(r.command, VH_PROXY_CMD_LOCAL);
    assert_false(r.has_crc32c);
    /* passthrough: no TLV at all (len 12), a ClientHello follows */
    static const unsigned char pt[12] = {127, 0, 0, 1, 127, 0, 0, 4, 0xc0, 0x94, 0x01, 0xbb};
    n = v2(h, 0x21, 0x11, pt, 12, NULL, 0, 0);
    r = done(h, n);
    assert_string_equal(r.dst.text, "127.0.0.4");
    assert_int_equal(r.dst.port, 443);
    /* TLS-terminating frontend: AUTHORITY b.example.test (len 29) */
    unsigned char tlv[3 + 14] = {0x02, 0, 14};
    memcpy(tlv + 3, "b.example.test", 14);
    n = v2(h, 0x21, 0x11, a4, 12, tlv, sizeof tlv, 0);
    assert_int_equal(h[15], 29);
    r = done(h, n);
    assert_string_equal(r.authority, "b.example.test");
}

static void test_v1_edges(void **s)
{
    (void)s;
    vh_proxy_result r;
    /* CRLF only: the start of the v2 signature, so wait for 16 bytes;
     * anything else after it is no header; an empty buffer waits too */
    assert_int_equal(vh_proxy_parse((const unsigned char *)"\r\n", 2, &r), VH_PROXY_NEED);
    assert_int_equal(r.len, VH_PROXY_V2_FIXED);
    v1_bad("\r\n\r\n\r\n", VH_PROXY_R_NOT_PROXY);
    v1_bad("\r\nGET", VH_PROXY_R_NOT_PROXY);
    assert_int_equal(vh_proxy_parse((const unsigned char *)"", 0, &r), VH_PROXY_NEED);
    assert_int_equal(r.len, 1);
    /* 107 bytes is the limit, CRLF included (v1-1) */
    const char *max = "PROXY TCP6 1111:2222:3333:4444:5555:6666:123.123.123.123 2001:db8:aaaa:bbbb:cccc:dddd:eeee:11 "
                      "65535 65535\r\n";
    assert_int_equal(strlen(max), VH_PROXY_V1_MAX);
    r = v1_ok(max);
    assert_string_equal(r.src.text, "1111:2222:3333:4444:5555:6666:7b7b:7b7b");
    assert_string_equal(r.dst.text, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:11");
    v1_bad("PROXY TCP6 1111:2222:3333:4444:5555:6666:123.123.123.123 2001:db8:aaaa:bbbb:cccc:dddd:eeee:111 "
           "65535 65535\r\n",
           VH_PROXY_R_V1_TOO_LONG);
    /* 107 bytes without CRLF: refused without waiting for more */
    char longl[VH_PROXY_V1_MAX + 1];
    memset(longl, 'A', sizeof longl - 1);
    memcpy(longl, "PROXY TCP4 ", 11);
    longl[VH_PROXY_V1_MAX] = '\0';
    v1_bad(longl, VH_PROXY_R_V1_TOO_LONG);
    longl[VH_PROXY_V1_MAX - 1] = '\0';
    assert_int_equal(vh_proxy_parse((const unsigned char *)longl, strlen(longl), &r), VH_PROXY_NEED);
    assert_int_equal(r.len, VH_PROXY_V1_MAX);
    longl[VH_PROXY_V1_MAX - 1] = '\r'; /* CR as byte 107: the LF would be byte 108 */
    longl[VH_PROXY_V1_MAX] = '\0';
    v1_bad(longl, VH_PROXY_R_V1_TOO_LONG);
    /* UNKNOWN (v1-11, P10), short and long forms */
    v1_bad("PROXY UNKNOWN\r\n", VH_PROXY_R_V1_UNKNOWN);
    v1_bad("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", VH_PROXY_R_V1_UNKNOWN);
    /* leading zeros (v1-5, v1-6) */
    v1_bad("PROXY TCP4 01.2.3.4 127.0.0.2 1000 80\r\n", VH_PROXY_R_V1_ADDRESS);
    v1_bad("PROXY TCP4 1.2.3.4 127.0.0.2 01000 80\r\n", VH_PROXY_R_V1_PORT);
    v1_bad("PROXY TCP4 1.2.3.4 127.0.0.2 1000 080\r\n", VH_PROXY_R_V1_PORT);
    /* IPv6 forms: canonical text, mapped is IPv4 (P2), zones refused */
    r = v1_ok("PROXY TCP6 2001:DB8:0::1 ::ffff:127.0.0.2 5000 80\r\n");
    assert_string_equal(r.src.text, "2001:db8::1");
    assert_int_equal(r.src.family, AF_INET6);
    assert_string_equal(r.dst.text, "127.0.0.2");
    assert_int_equal(r.dst.family, AF_INET);
    assert_int_equal(r.family, AF_INET);
    r = v1_ok("PROXY TCP6 fe80::1 fd56:6864:7600:1::11 65535 1\r\n");
    assert_string_equal(r.src.text, "fe80::1");
    assert_string_equal(r.dst.text, "fd56:6864:7600:1::11");
    assert_int_equal(r.dst.port, 1);
    v1_bad("PROXY TCP6 2001:db8::1 fd56::1%lo 1 2\r\n", VH_PROXY_R_V1_ADDRESS);
    v1_bad("PROXY TCP6 2001:db8::1 fd56::1/64 1 2\r\n", VH_PROXY_R_V1_ADDRESS);
}

/* P6: the table of fleet.md 1.3, one case or more each. */
static void test_v1_table(void **s)
{
    (void)s;
    v1_ok("PROXY TCP4 192.0.2.1 127.0.0.2 1 65535\r\n"); /* the control */
    /* v1-1 is in test_v1_edges; v1-2 */
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 80\n", VH_PROXY_R_V1_CRLF);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 80\rx\n", VH_PROXY_R_V1_CRLF);
    v1_bad("PROXY TCP4 192.0.2.1\r\n127.0.0.2 1 80\r\n", VH_PROXY_R_V1_SYNTAX);
    /* v1-3 */
    v1_bad("proxy TCP4 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_NOT_PROXY);
    v1_bad("PROXY tcp4 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_PROTOCOL);
    v1_bad("PROXY TCP4 192.0.2.1  127.0.0.2 1 80\r\n", VH_PROXY_R_V1_SYNTAX);
    v1_bad("PROXY  TCP4 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_PROTOCOL);
    v1_bad("PROXY TCP4 192.0.2.1\t127.0.0.2 1 80\r\n", VH_PROXY_R_V1_BYTE);
    v1_bad(" PROXY TCP4 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_NOT_PROXY);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 80 \r\n", VH_PROXY_R_V1_SYNTAX);
    /* v1-4 */
    v1_bad("PROXY TCP5 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_PROTOCOL);
    v1_bad("PROXY UDP4 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_PROTOCOL);
    v1_bad("PROXY TCP44 192.0.2.1 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_PROTOCOL);
    v1_bad("PROXY \r\n", VH_PROXY_R_V1_PROTOCOL);
    /* v1-5 */
    v1_bad("PROXY TCP4 2001:db8::1 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_ADDRESS);
    v1_bad("PROXY TCP6 192.0.2.1 ::1 1 80\r\n", VH_PROXY_R_V1_ADDRESS);
    v1_bad("PROXY TCP4 1.2.3 127.0.0.2 1 80\r\n", VH_PROXY_R_V1_ADDRESS);
    v1_bad("PROXY TCP4 192.0.2.1 localhost 1 80\r\n", VH_PROXY_R_V1_ADDRESS);
    v1_bad("PROXY TCP4 192.0.2.1 0x7f.0.0.2 1 80\r\n", VH_PROXY_R_V1_ADDRESS);
    /* v1-6 */
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 0\r\n", VH_PROXY_R_V1_PORT);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 0 80\r\n", VH_PROXY_R_V1_PORT);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 65536 80\r\n", VH_PROXY_R_V1_PORT);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 100000 80\r\n", VH_PROXY_R_V1_PORT);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 8a 80\r\n", VH_PROXY_R_V1_PORT);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 +1 80\r\n", VH_PROXY_R_V1_PORT);
    /* v1-7 */
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1\r\n", VH_PROXY_R_V1_SYNTAX);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 2 3\r\n", VH_PROXY_R_V1_SYNTAX);
    v1_bad("PROXY TCP4\r\n", VH_PROXY_R_V1_SYNTAX);
    /* v1-8 */
    unsigned char nul[] = "PROXY TCP4 192.0.2.1 127.0.0.2 1 8\0\r\n";
    refused(nul, sizeof nul - 1, VH_PROXY_R_V1_BYTE);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 8\x80\r\n", VH_PROXY_R_V1_BYTE);
    v1_bad("PROXY TCP4 192.0.2.1 127.0.0.2 1 8\x7f\r\n", VH_PROXY_R_V1_BYTE);
    /* v1-9 */
    v1_bad("PROXY TCP4 192.0.2.1 0.0.0.0 1 80\r\n", VH_PROXY_R_DESTINATION);
    v1_bad("PROXY TCP4 192.0.2.1 224.0.0.1 1 80\r\n", VH_PROXY_R_DESTINATION);
    v1_bad("PROXY TCP4 192.0.2.1 255.255.255.255 1 80\r\n", VH_PROXY_R_DESTINATION);
    v1_bad("PROXY TCP6 2001:db8::1 :: 1 80\r\n", VH_PROXY_R_DESTINATION);
    v1_bad("PROXY TCP6 2001:db8::1 ff02::1 1 80\r\n", VH_PROXY_R_DESTINATION);
    v1_bad("PROXY TCP6 2001:db8::1 fe80::1 1 80\r\n", VH_PROXY_R_DESTINATION);
    v1_bad("PROXY TCP6 2001:db8::1 ::ffff:0.0.0.0 1 80\r\n", VH_PROXY_R_DESTINATION);
    /* v1-10 */
    v1_bad("PROXY TCP4 0.0.0.0 127.0.0.2 1 80\r\n", VH_PROXY_R_SOURCE);
    v1_bad("PROXY TCP4 239.1.1.1 127.0.0.2 1 80\r\n", VH_PROXY_R_SOURCE);
    v1_bad("PROXY TCP4 255.255.255.255 127.0.0.2 1 80\r\n", VH_PROXY_R_SOURCE);
    v1_bad("PROXY TCP6 ff02::1 ::1 1 80\r\n", VH_PROXY_R_SOURCE);
    /* v1-11 is in test_v1_edges */
}

/* P7: every v2 refusal; the early ones answer from the first 16 bytes. */
static void test_v2_errors(void **s)
{
    (void)s;
    unsigned char h[BUF];
    size_t n;
    /* not the signature */
    memcpy(h, sig, 12);
    h[11] = 0x0b;
    refused(h, 12, VH_PROXY_R_NOT_PROXY);
    refused(h, 16, VH_PROXY_R_NOT_PROXY);
    /* version nibble 1 and 3 */
    n = v2(h, 0x11, 0x11, a4, 12, NULL, 0, 0);
    refused(h, 16, VH_PROXY_R_V2_VERSION);
    n = v2(h, 0x31, 0x11, a4, 12, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_VERSION);
    /* commands 2-F */
    for (unsigned c = 2; c <= 0xF; c++) {
        v2(h, 0x20 | c, 0x11, a4, 12, NULL, 0, 0);
        refused(h, 16, VH_PROXY_R_V2_COMMAND);
    }
    /* family 4-F, transport 3-F */
    for (unsigned f = 4; f <= 0xF; f++) {
        v2(h, 0x21, f << 4 | 1, a4, 12, NULL, 0, 0);
        refused(h, 16, VH_PROXY_R_V2_FAMILY);
    }
    for (unsigned t = 3; t <= 0xF; t++) {
        v2(h, 0x21, 0x10 | t, a4, 12, NULL, 0, 0);
        refused(h, 16, VH_PROXY_R_V2_FAMILY);
    }
    /* len smaller than the address block: 11 for INET, 35 for INET6 */
    n = v2(h, 0x21, 0x11, a4, 11, NULL, 0, 0);
    refused(h, 16, VH_PROXY_R_V2_SHORT);
    unsigned char a6[36] = {0};
    n = v2(h, 0x21, 0x21, a6, 35, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_SHORT);
    n = v2(h, 0x20, 0x31, a6, 36, NULL, 0, 0); /* LOCAL too: its block is skipped by size */
    refused(h, 16, VH_PROXY_R_V2_SHORT);
    /* len = 4081: 4097 bytes, refused from the first 16 */
    v2(h, 0x21, 0x11, a4, 12, NULL, 0, 0);
    h[14] = 4081 >> 8;
    h[15] = 4081 & 0xff;
    refused(h, 16, VH_PROXY_R_V2_TOO_LONG);
    h[14] = 0xff;
    h[15] = 0xff;
    refused(h, 16, VH_PROXY_R_V2_TOO_LONG);
    /* a TLV running past the end; 1 and 2 stray bytes */
    unsigned char t[8] = {0x04, 0x00, 0x06, 1, 2, 3, 4, 5};
    n = v2(h, 0x21, 0x11, a4, 12, t, 8, 0);
    refused(h, n, VH_PROXY_R_V2_TLV);
    n = v2(h, 0x21, 0x11, a4, 12, t, 1, 0);
    refused(h, n, VH_PROXY_R_V2_TLV);
    n = v2(h, 0x21, 0x11, a4, 12, t, 2, 0);
    refused(h, n, VH_PROXY_R_V2_TLV);
    n = v2(h, 0x20, 0x00, NULL, 0, t, 2, 0); /* LOCAL's TLVs are checked too */
    refused(h, n, VH_PROXY_R_V2_TLV);
    /* CRC: wrong (in test_x1_vectors), length 3 and 5, twice */
    unsigned char c3[7] = {0x03, 0x00, 0x03, 0, 0, 0};
    n = v2(h, 0x21, 0x11, a4, 12, c3, 6, 0);
    refused(h, n, VH_PROXY_R_V2_CRC_FORMAT);
    unsigned char c5[8] = {0x03, 0x00, 0x05, 0, 0, 0, 0, 0};
    n = v2(h, 0x21, 0x11, a4, 12, c5, 8, 0);
    refused(h, n, VH_PROXY_R_V2_CRC_FORMAT);
    n = v2(h, 0x21, 0x11, a4, 12, NULL, 0, 1); /* a valid CRC, then a second one over it */
    assert_int_equal(vh_proxy_parse(h, n, &(vh_proxy_result){0}), VH_PROXY_DONE);
    unsigned char crc1[7];
    memcpy(crc1, h + 28, 7);
    n = v2(h, 0x21, 0x11, a4, 12, crc1, 7, 1);
    refused(h, n, VH_PROXY_R_V2_CRC_FORMAT);
    n = v2(h, 0x20, 0x00, NULL, 0, NULL, 0, 1); /* a bad CRC on LOCAL */
    h[n - 1] ^= 0x80;
    refused(h, n, VH_PROXY_R_V2_CRC);
    /* AUTHORITY empty, 256 bytes, 'bad name', twice */
    unsigned char au[3 + 300] = {0x02, 0x00, 0x00};
    n = v2(h, 0x21, 0x11, a4, 12, au, 3, 0);
    refused(h, n, VH_PROXY_R_V2_AUTHORITY);
    au[1] = 1;
    au[2] = 0;
    memset(au + 3, 'a', 256);
    n = v2(h, 0x21, 0x11, a4, 12, au, 3 + 256, 0);
    refused(h, n, VH_PROXY_R_V2_AUTHORITY);
    static const char *badnames[] = {"bad name", "a..b",  "-a.b",   "a-.b", ".",        "a_b.test",
                                     "a\x80.b",  "a.b..", "é.test", "a\0b", "x.-y.test"};
    for (size_t i = 0; i < sizeof badnames / sizeof badnames[0]; i++) {
        size_t l = strlen(badnames[i]) + (i == 9 ? 2 : 0);
        au[1] = 0;
        au[2] = (unsigned char)l;
        memcpy(au + 3, badnames[i], l);
        n = v2(h, 0x21, 0x11, a4, 12, au, 3 + l, 0);
        refused(h, n, VH_PROXY_R_V2_AUTHORITY);
    }
    char label64[80];
    memset(label64, 'a', 64);
    memcpy(label64 + 64, ".test", 6);
    au[2] = (unsigned char)strlen(label64);
    memcpy(au + 3, label64, au[2]);
    n = v2(h, 0x21, 0x11, a4, 12, au, 3 + au[2], 0);
    refused(h, n, VH_PROXY_R_V2_AUTHORITY);
    unsigned char two[2 * 9] = {0x02, 0, 6, 'a', '.', 't', 'e', 's', 't', 0x02, 0, 6, 'b', '.', 't', 'e', 's', 't'};
    n = v2(h, 0x21, 0x11, a4, 12, two, 9, 0);
    assert_int_equal(vh_proxy_parse(h, n, &(vh_proxy_result){0}), VH_PROXY_DONE);
    n = v2(h, 0x21, 0x11, a4, 12, two, 18, 0);
    refused(h, n, VH_PROXY_R_V2_AUTHORITY);
    /* UNIQUE_ID of 129 bytes, or twice */
    unsigned char id[3 + 129] = {0x05, 0, 129};
    n = v2(h, 0x21, 0x11, a4, 12, id, sizeof id, 0);
    refused(h, n, VH_PROXY_R_V2_UNIQUE_ID);
    unsigned char ids[6] = {0x05, 0, 0, 0x05, 0, 0};
    n = v2(h, 0x21, 0x11, a4, 12, ids, 6, 0);
    refused(h, n, VH_PROXY_R_V2_UNIQUE_ID);
    /* PROXY with AF_UNSPEC (P10), UDP, UNIX, no transport: from 16 bytes */
    n = v2(h, 0x21, 0x00, NULL, 0, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_UNSPEC);
    n = v2(h, 0x21, 0x12, a4, 12, NULL, 0, 0);
    refused(h, 16, VH_PROXY_R_V2_UNSUPPORTED);
    n = v2(h, 0x21, 0x22, a6, 36, NULL, 0, 0);
    refused(h, 16, VH_PROXY_R_V2_UNSUPPORTED);
    static unsigned char un[216];
    n = v2(h, 0x21, 0x31, un, 216, NULL, 0, 0);
    refused(h, 16, VH_PROXY_R_V2_UNSUPPORTED);
    n = v2(h, 0x21, 0x32, un, 216, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_UNSUPPORTED);
    n = v2(h, 0x21, 0x10, a4, 12, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_UNSUPPORTED);
    /* port 0; destination and source rules (v1-9, v1-10 apply) */
    unsigned char p0[12] = {192, 0, 2, 1, 127, 0, 0, 2, 0, 0, 0, 80};
    n = v2(h, 0x21, 0x11, p0, 12, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_PORT);
    p0[9] = 1;
    p0[11] = 0;
    n = v2(h, 0x21, 0x11, p0, 12, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_V2_PORT);
    p0[11] = 80;
    p0[4] = 224;
    n = v2(h, 0x21, 0x11, p0, 12, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_DESTINATION);
    p0[4] = 127;
    memset(p0, 0, 4);
    n = v2(h, 0x21, 0x11, p0, 12, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_SOURCE);
    memset(a6, 0, sizeof a6);
    a6[0] = 0x20, a6[1] = 0x01, a6[15] = 1;
    a6[16] = 0xfe, a6[17] = 0x80, a6[31] = 1;
    a6[33] = 1, a6[35] = 1;
    n = v2(h, 0x21, 0x21, a6, 36, NULL, 0, 0);
    refused(h, n, VH_PROXY_R_DESTINATION);
}

/* P8, P2, P4's vector: what is accepted, split at every byte. */
static void test_v2_accepted(void **s)
{
    (void)s;
    static unsigned char h[BUF], tlv[BUF];
    vh_proxy_result r;
    /* NOOP, 0xE0, SSL with sub-TLVs, ALPN, NETNS, unknown, a UNIQUE_ID */
    size_t t = 0;
    static const unsigned char some[] = {
        0x04, 0x00, 0x02, 0x00, 0x00,                             /* NOOP */
        0xe0, 0x00, 0x03, 'x',  'y',  'z',                        /* custom */
        0x20, 0x00, 0x0f, 0x01, 0x00, 0x00, 0x00, 0x00,           /* SSL: client, verify */
        0x21, 0x00, 0x07, 'T',  'L',  'S',  'v',  '1',  '.', '3', /* SSL_VERSION sub-TLV */
        0x01, 0x00, 0x02, 'h',  '2',                              /* ALPN */
        0x30, 0x00, 0x03, 'n',  's',  '1',                        /* NETNS */
        0x99, 0x00, 0x00,                                         /* unknown, empty */
        0x05, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef,                 /* UNIQUE_ID */
    };
    memcpy(tlv, some, sizeof some);
    t = sizeof some;
    size_t n = v2(h, 0x21, 0x11, a4, 12, tlv, t, 1);
    r = done(h, n);
    assert_true(r.has_unique_id);
    assert_int_equal(r.unique_id_len, 4);
    assert_memory_equal(r.unique_id, "\xde\xad\xbe\xef", 4);
    assert_true(r.has_crc32c);
    /* a UNIQUE_ID of 128 bytes, and AUTHORITY of 253 (+ dot), normalised */
    unsigned char big[3 + 128] = {0x05, 0, 128};
    n = v2(h, 0x21, 0x11, a4, 12, big, sizeof big, 0);
    r = done(h, n);
    assert_int_equal(r.unique_id_len, 128);
    unsigned char au[3 + 255] = {0x02, 0, 0};
    const char *name = "B.Example.TEST.";
    au[2] = (unsigned char)strlen(name);
    memcpy(au + 3, name, au[2]);
    n = v2(h, 0x21, 0x11, a4, 12, au, 3 + au[2], 1);
    r = done(h, n);
    assert_string_equal(r.authority, "b.example.test");
    char n253[254];
    for (int i = 0; i < 253; i++)
        n253[i] = (i % 64 == 63) ? '.' : 'a';
    n253[253] = '\0';
    au[2] = 254;
    memcpy(au + 3, n253, 253);
    au[3 + 253] = '.';
    n = v2(h, 0x21, 0x11, a4, 12, au, 3 + 254, 0);
    r = done(h, n);
    assert_string_equal(r.authority, n253);
    au[2] = 7; /* an IP literal is no name, but no refusal */
    memcpy(au + 3, "1.2.3.4", 7);
    n = v2(h, 0x21, 0x11, a4, 12, au, 3 + 7, 0);
    r = done(h, n);
    assert_string_equal(r.authority, "");
    /* P2: TCP6 with a mapped destination is IPv4; a ULA stays IPv6 */
    unsigned char a6[36] = {0x20,       0x01,     0x0d,        0xb8,        [15] = 1, [26] = 0xff, [27] = 0xff,
                            [28] = 127, [31] = 2, [32] = 0x9c, [33] = 0x40, [34] = 0, [35] = 80};
    n = v2(h, 0x21, 0x21, a6, 36, NULL, 0, 1);
    r = done(h, n);
    assert_int_equal(r.family, AF_INET);
    assert_string_equal(r.src.text, "2001:db8::1");
    assert_int_equal(r.src.family, AF_INET6);
    assert_string_equal(r.dst.text, "127.0.0.2");
    assert_int_equal(r.src.port, 40000);
    memset(a6 + 16, 0, 16);
    a6[16] = 0xfd, a6[17] = 0x56, a6[18] = 0x68, a6[19] = 0x64, a6[20] = 0x76, a6[22] = 0x00, a6[23] = 0x01;
    a6[30] = 0x00, a6[31] = 0x11;
    n = v2(h, 0x21, 0x21, a6, 36, NULL, 0, 0);
    r = done(h, n);
    assert_int_equal(r.family, AF_INET6);
    assert_string_equal(r.dst.text, "fd56:6864:7600:1::11");
    /* LOCAL with any family: its addresses are skipped, not read */
    static unsigned char un[216];
    n = v2(h, 0x20, 0x31, un, 216, NULL, 0, 0);
    r = done(h, n);
    assert_int_equal(r.command, VH_PROXY_CMD_LOCAL);
    assert_int_equal(r.family, AF_UNSPEC);
    static const unsigned char z4[12];
    n = v2(h, 0x20, 0x11, z4, 12, NULL, 0, 0);
    r = done(h, n);
    assert_string_equal(r.dst.text, "");
    /* address block larger than needed: the rest is TLVs (none here) */
    /* P4: a 3,000-byte NOOP; and the 4096-byte maximum */
    memset(tlv, 0, sizeof tlv);
    tlv[0] = 0x04;
    tlv[1] = (2997 >> 8);
    tlv[2] = 2997 & 0xff;
    n = v2(h, 0x21, 0x11, a4, 12, tlv, 3000, 1);
    r = done(h, n);
    assert_int_equal(r.len, 16 + 12 + 3000 + 7);
    size_t fill = VH_PROXY_V2_MAX - 16 - 12 - 7 - 3;
    tlv[1] = (unsigned char)(fill >> 8);
    tlv[2] = (unsigned char)fill;
    n = v2(h, 0x21, 0x11, a4, 12, tlv, 3 + fill, 1);
    assert_int_equal(n, VH_PROXY_V2_MAX);
    r = done(h, n);
    assert_int_equal(r.len, VH_PROXY_V2_MAX);
}

/* P11/P12's byte test: what only a header starts with. */
static void test_looks_like_header(void **s)
{
    (void)s;
    assert_true(vh_proxy_looks_like_header(x1_local, sizeof x1_local));
    assert_true(vh_proxy_looks_like_header(x1_local, 12));
    assert_false(vh_proxy_looks_like_header(x1_local, 11)); /* never waits */
    assert_true(vh_proxy_looks_like_header((const unsigned char *)"PROXY TCP4 ", 11));
    assert_true(vh_proxy_looks_like_header((const unsigned char *)"PROXY TCP6 ::1", 14));
    assert_true(vh_proxy_looks_like_header((const unsigned char *)"PROXY UNKNOWN\r\n", 15));
    assert_false(vh_proxy_looks_like_header((const unsigned char *)"PROXY TCP4", 10));
    assert_false(vh_proxy_looks_like_header((const unsigned char *)"GET / HTTP/1.0\r\n", 16));
    assert_false(vh_proxy_looks_like_header((const unsigned char *)"", 0));
    /* P12: a second header after the first */
    unsigned char two[2 * sizeof x1_proxy];
    memcpy(two, x1_proxy, sizeof x1_proxy);
    memcpy(two + sizeof x1_proxy, x1_proxy, sizeof x1_proxy);
    vh_proxy_result r;
    assert_int_equal(vh_proxy_parse(two, sizeof two, &r), VH_PROXY_DONE);
    assert_true(vh_proxy_looks_like_header(two + r.len, sizeof two - r.len));
}

static void test_crc32c_and_texts(void **s)
{
    (void)s;
    assert_int_equal(vh_proxy_crc32c((const unsigned char *)"123456789", 9), 0xE3069283u); /* the check value */
    assert_int_equal(vh_proxy_crc32c(NULL, 0), 0);
    for (int i = VH_PROXY_R_NONE; i <= VH_PROXY_R_V2_UNIQUE_ID; i++)
        assert_non_null(strstr(vh_proxy_reason_text((vh_proxy_reason)i), i ? "PROXY" : "no error") ? "" : NULL);
    assert_string_equal(vh_proxy_reason_text((vh_proxy_reason)999), "unknown PROXY refusal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x1_vectors),       cmocka_unit_test(test_v1_edges),
        cmocka_unit_test(test_v1_table),         cmocka_unit_test(test_v2_errors),
        cmocka_unit_test(test_v2_accepted),      cmocka_unit_test(test_looks_like_header),
        cmocka_unit_test(test_crc32c_and_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
