/* addr: canonical forms, refusals, and fd 0 of every kind (THREATS G);
 * row keys of every kind, names and wildcards (issue 17, fleet.md 3.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "addr.h"
#include "exitcodes.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void canon_ok(const char *in, const char *want)
{
    char out[VH_ADDR_TEXT];
    vh_err e = {0, ""};
    int rc = vh_addr_canon(in, 1, out, &e);
    if (rc != 0)
        fail_msg("'%s' refused: %s", in, e.msg);
    assert_string_equal(out, want);
}

static void canon_bad(const char *in, const char *why)
{
    char out[VH_ADDR_TEXT];
    vh_err e = {0, ""};
    assert_int_equal(vh_addr_canon(in, 1, out, &e), -1);
    assert_int_equal(e.code, VH_EX_DATAERR);
    if (!strstr(e.msg, why))
        fail_msg("'%s': message '%s' lacks '%s'", in, e.msg, why);
}

static void test_canonical_forms(void **s)
{
    (void)s;
    canon_ok("127.0.0.2", "127.0.0.2");
    canon_ok("192.0.2.1", "192.0.2.1");
    canon_ok("0:0:0:0:0:0:0:1", "::1");
    canon_ok("2001:DB8:0:0::1", "2001:db8::1"); /* G2 */
    canon_ok("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    canon_ok("::ffff:192.0.2.7", "192.0.2.7"); /* G1 */
    canon_ok("::FFFF:127.0.0.2", "127.0.0.2");
    canon_ok("default", "default");
}

static void test_refusals(void **s)
{
    (void)s;
    canon_bad("010.0.0.1", "not an IP address"); /* G10 */
    canon_bad("10.1", "not an IP address");
    canon_bad("0x0a.0.0.1", "not an IP address");
    canon_bad("999.1.1.1", "not an IP address"); /* H8 */
    canon_bad("1.2.3", "not an IP address");
    canon_bad("example.com", "not an IP address");
    canon_bad("1.2.3.4/24", "prefix");
    canon_bad("0.0.0.0", "unspecified"); /* G9 */
    canon_bad("::", "unspecified");
    canon_bad("224.0.0.1", "multicast");
    canon_bad("ff02::1", "multicast");
    canon_bad("255.255.255.255", "broadcast");
    canon_bad("fe80::1", "link-local"); /* G3 */
    canon_bad("fe80::1%eth0", "zone");
    canon_bad("", "empty");
    canon_bad(" 127.0.0.1", "not an IP address");
    canon_bad("127.0.0.1 ", "not an IP address");
    canon_bad("1.2.3.4\n", "not an IP address");
    char out[VH_ADDR_TEXT];
    vh_err e;
    assert_int_equal(vh_addr_canon("default", 0, out, &e), -1);
    char longer[200];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    canon_bad(longer, "too long");
}

static void test_sockaddrs(void **s)
{
    (void)s;
    struct sockaddr_storage l, r;
    vh_conn c;
    vh_err e;
    memset(&l, 0, sizeof l);
    memset(&r, 0, sizeof r);
    struct sockaddr_in6 *l6 = (struct sockaddr_in6 *)&l, *r6 = (struct sockaddr_in6 *)&r;
    l6->sin6_family = r6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.3", &l6->sin6_addr);
    inet_pton(AF_INET6, "::1", &r6->sin6_addr);
    l6->sin6_port = htons(80);
    r6->sin6_port = htons(4000);
    assert_int_equal(vh_addr_from_sockaddrs(&l, sizeof *l6, &r, sizeof *r6, &c, &e), 0);
    assert_string_equal(c.local.text, "127.0.0.3"); /* G1 */
    assert_int_equal(c.local.family, AF_INET);
    assert_int_equal(c.local.port, 80);
    assert_string_equal(c.remote.text, "::1");
    /* G8: truncated */
    assert_int_equal(vh_addr_from_sockaddrs(&l, sizeof *l6 - 4, &r, sizeof *r6, &c, &e), -1);
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_int_equal(vh_addr_from_sockaddrs(&l, 1, &r, sizeof *r6, &c, &e), -1);
    /* G3: link-local local address */
    inet_pton(AF_INET6, "fe80::1", &l6->sin6_addr);
    l6->sin6_scope_id = 2;
    assert_int_equal(vh_addr_from_sockaddrs(&l, sizeof *l6, &r, sizeof *r6, &c, &e), -1);
    assert_non_null(strstr(e.msg, "link-local"));
    /* G6: another family */
    l.ss_family = AF_UNIX;
    assert_int_equal(vh_addr_from_sockaddrs(&l, sizeof l, &r, sizeof *r6, &c, &e), -1);
}

static void expect_socket_refused(int fd, const char *why)
{
    vh_conn c;
    vh_err e = {0, ""};
    assert_int_equal(vh_addr_from_socket(fd, &c, &e), -1);
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    if (!strstr(e.msg, why))
        fail_msg("message '%s' lacks '%s'", e.msg, why);
}

static void test_fd_kinds(void **s)
{
    (void)s;
    /* a connected TCP pair on loopback: accepted */
    int lsn = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    assert_int_equal(bind(lsn, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lsn, 1), 0);
    socklen_t al = sizeof a;
    getsockname(lsn, (struct sockaddr *)&a, &al);
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cli, (struct sockaddr *)&a, sizeof a), 0);
    int srv = accept(lsn, NULL, NULL);
    vh_conn c;
    vh_err e;
    assert_int_equal(vh_addr_from_socket(srv, &c, &e), 0);
    assert_string_equal(c.local.text, "127.0.0.2");
    assert_int_equal(c.local.port, ntohs(a.sin_port));
    assert_string_equal(c.remote.text, "127.0.0.1");
    expect_socket_refused(lsn, "listening"); /* G5 */
    close(srv);
    close(cli);
    close(lsn);

    int udp = socket(AF_INET, SOCK_DGRAM, 0); /* G4 */
    expect_socket_refused(udp, "datagram");
    close(udp);
    int sp[2]; /* G6 */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    expect_socket_refused(sp[0], "family");
    close(sp[0]);
    close(sp[1]);
    int pp[2]; /* G7 */
    assert_int_equal(pipe(pp), 0);
    expect_socket_refused(pp[0], "not a socket");
    close(pp[0]);
    close(pp[1]);
    expect_socket_refused(999, "not open");
    /* unconnected TCP socket */
    int un = socket(AF_INET6, SOCK_STREAM, 0);
    memset(&e, 0, sizeof e);
    /* -2: a TCP socket without a peer, as one reset before virtuald
     * looked (issue 15: a balancer's L4 check); the local end is known */
    assert_int_equal(vh_addr_from_socket(un, &c, &e), -2);
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "not connected"));
    assert_int_equal(c.local.family, AF_INET6);
    close(un);
}

/* fleet.md table C, row 2: a prefix key has one spelling; everything else is refused with
 * the right form named. */
static void test_prefix_canon(void **s)
{
    (void)s;
    char out[VH_ADDR_TEXT];
    vh_err e;
    vh_prefix p;
    assert_int_equal(vh_prefix_canon("127.0.1.0/24", out, &p, &e), 0);
    assert_string_equal(out, "127.0.1.0/24");
    assert_int_equal(p.family, AF_INET);
    assert_int_equal(p.len, 24);
    assert_int_equal(vh_prefix_canon("FD56:6864:7600:0020:0000::/64", out, &p, &e), 0);
    assert_string_equal(out, "fd56:6864:7600:20::/64");
    assert_int_equal(vh_prefix_canon("0.0.0.0/1", out, NULL, &e), 0);
    assert_string_equal(out, "0.0.0.0/1");
    assert_int_equal(vh_prefix_canon("128.0.0.0/1", out, NULL, &e), 0);
    /* host bits: the network is suggested */
    assert_int_equal(vh_prefix_canon("127.0.1.9/24", out, NULL, &e), -1);
    assert_int_equal(e.code, VH_EX_DATAERR);
    assert_non_null(strstr(e.msg, "host bits"));
    assert_non_null(strstr(e.msg, "127.0.1.0/24"));
    assert_int_equal(vh_prefix_canon("fd56::1/64", out, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "fd56::/64"));
    /* one spelling per set of addresses */
    assert_int_equal(vh_prefix_canon("10.0.0.0/0", out, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "default"));
    assert_int_equal(vh_prefix_canon("10.0.0.1/32", out, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "give it as 10.0.0.1"));
    assert_int_equal(vh_prefix_canon("fd56::1/128", out, NULL, &e), -1);
    assert_int_equal(vh_prefix_canon("10.0.0.0/33", out, NULL, &e), -1);
    assert_int_equal(vh_prefix_canon("::ffff:10.0.0.0/104", out, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "10.0.0.0/8"));
    /* lengths: decimal, no sign, no leading zero, nothing after */
    const char *bad[] = {"10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/",      "10.0.0.0/8/8", "/8",          "10.0.0.0/8x",
                         "010.0.0.0/8", "10.0/8",      "host.example/8", "fe80::%1/64",  "10.0.0.0/ 8", "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (vh_prefix_canon(bad[i], out, NULL, &e) != -1)
            fail_msg("%s accepted as %s", bad[i], out);
    /* never dialled */
    assert_int_equal(vh_prefix_canon("224.0.0.0/4", out, NULL, &e), -1);
    assert_int_equal(vh_prefix_canon("ff02::/16", out, NULL, &e), -1);
    assert_int_equal(vh_prefix_canon("fe80::/64", out, NULL, &e), -1);
    /* vh_addr_key_canon: address, prefix, default */
    assert_int_equal(vh_addr_key_canon("127.0.0.2", 0, out, &e), 0);
    assert_string_equal(out, "127.0.0.2");
    assert_int_equal(vh_addr_key_canon("10.1.0.0/16", 0, out, &e), 0);
    assert_string_equal(out, "10.1.0.0/16");
    assert_int_equal(vh_addr_key_canon("default", 1, out, &e), 0);
    assert_int_equal(vh_addr_key_canon("default", 0, out, &e), -1);
}

static void test_prefix_keys(void **s)
{
    (void)s;
    unsigned char a[16];
    char out[VH_ADDR_TEXT];
    assert_int_equal(vh_addr_bytes("127.0.1.5", AF_INET, a), 0);
    assert_int_equal(vh_prefix_key_of(a, AF_INET, 24, out), 0);
    assert_string_equal(out, "127.0.1.0/24");
    assert_int_equal(vh_prefix_key_of(a, AF_INET, 1, out), 0);
    assert_string_equal(out, "0.0.0.0/1");
    assert_int_equal(vh_prefix_key_of(a, AF_INET, 31, out), 0);
    assert_string_equal(out, "127.0.1.4/31");
    assert_int_equal(vh_prefix_key_of(a, AF_INET, 32, out), -1);
    assert_int_equal(vh_prefix_key_of(a, AF_INET, 0, out), -1);
    assert_int_equal(vh_addr_bytes("fd56:6864:7600:20::99", AF_INET6, a), 0);
    assert_int_equal(vh_prefix_key_of(a, AF_INET6, 64, out), 0);
    assert_string_equal(out, "fd56:6864:7600:20::/64");
    assert_int_equal(vh_prefix_key_of(a, AF_INET6, 127, out), 0);
    assert_string_equal(out, "fd56:6864:7600:20::98/127");
    assert_int_equal(vh_addr_bytes("fd56::1", AF_INET, a), -1);
    /* parse_key: only the canonical form is a prefix */
    vh_prefix p;
    assert_int_equal(vh_prefix_parse_key("127.0.1.0/24", &p), 1);
    assert_int_equal(p.len, 24);
    assert_int_equal(vh_prefix_parse_key("127.0.1.1/24", &p), 0);
    assert_int_equal(vh_prefix_parse_key("127.0.1.0/024", &p), 0);
    assert_int_equal(vh_prefix_parse_key("default", &p), 0);
    assert_int_equal(vh_prefix_parse_key("127.0.1.0", &p), 0);
    assert_int_equal(vh_prefix_parse_key("FD56::/64", &p), 0);
    assert_int_equal(vh_prefix_parse_key("fd56::/64", &p), 1);
    /* contains */
    assert_int_equal(vh_prefix_parse_key("127.0.1.0/24", &p), 1);
    assert_int_equal(vh_addr_bytes("127.0.1.255", AF_INET, a), 0);
    assert_int_equal(vh_prefix_contains(&p, AF_INET, a), 1);
    assert_int_equal(vh_addr_bytes("127.0.2.0", AF_INET, a), 0);
    assert_int_equal(vh_prefix_contains(&p, AF_INET, a), 0);
    assert_int_equal(vh_addr_bytes("::1", AF_INET6, a), 0);
    assert_int_equal(vh_prefix_contains(&p, AF_INET6, a), 0);
}

/* ---- issue 17: row keys (fleet.md 3.1 and 2.6) ---------------------- */

static void test_key_kinds(void **s)
{
    (void)s;
    static const struct {
        const char *key;
        int kind;
    } c[] = {
        {"", VH_KEY_INVALID},          {"default", VH_KEY_DEFAULT},        {"127.0.0.2", VH_KEY_ADDRESS},
        {"::1", VH_KEY_ADDRESS},       {"1.2.3", VH_KEY_ADDRESS}, /* IP-shaped: refused as an address, never taken for a
                                                                     name */
        {"10.0.0.0/8", VH_KEY_PREFIX}, {"fd56::/64", VH_KEY_PREFIX},       {"www.example.org", VH_KEY_NAME},
        {"localhost", VH_KEY_NAME},    {"a.*.test", VH_KEY_NAME},          {"*", VH_KEY_NAME},
        {"Default", VH_KEY_NAME},      {"*.example.org", VH_KEY_WILDCARD}, {"*.test", VH_KEY_WILDCARD},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (vh_key_kind(c[i].key) != c[i].kind)
            fail_msg("'%s': kind %s, expected %s", c[i].key, vh_key_kind_name(vh_key_kind(c[i].key)),
                     vh_key_kind_name(c[i].kind));
    assert_string_equal(vh_key_kind_name(VH_KEY_NAME), "name");
    assert_string_equal(vh_key_kind_name(VH_KEY_WILDCARD), "wildcard");
    assert_string_equal(vh_key_kind_name(VH_KEY_INVALID), "invalid");
}

static void key_ok(const char *in, int kind, const char *want)
{
    char out[VH_KEY_TEXT];
    vh_err e = {0, ""};
    int rc = vh_key_canon(in, 1, out, &e);
    if (rc != kind)
        fail_msg("'%s': %d (%s), expected kind %s", in, rc, e.msg, vh_key_kind_name(kind));
    assert_string_equal(out, want);
}

static void key_bad(const char *in, const char *why)
{
    char out[VH_KEY_TEXT];
    vh_err e = {0, ""};
    int rc = vh_key_canon(in, 1, out, &e);
    if (rc != -1)
        fail_msg("'%s' accepted as %s", in, out);
    assert_int_equal(e.code, VH_EX_DATAERR);
    if (!strstr(e.msg, why))
        fail_msg("'%s': message '%s' lacks '%s'", in, e.msg, why);
}

/* n bytes of labels of 63 (and the rest), dots between: a name of n bytes */
static void long_name(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = i % 64 == 63 ? '.' : 'a' + (char)(i % 26);
    out[n] = '\0';
}

static void test_key_canon(void **s)
{
    (void)s;
    /* every kind; names normalised as a server name is (fleet.md 2.6) */
    key_ok("127.0.0.2", VH_KEY_ADDRESS, "127.0.0.2");
    key_ok("::FFFF:127.0.0.2", VH_KEY_ADDRESS, "127.0.0.2");
    key_ok("10.1.0.0/16", VH_KEY_PREFIX, "10.1.0.0/16");
    key_ok("default", VH_KEY_DEFAULT, "default");
    key_ok("www.example.org", VH_KEY_NAME, "www.example.org");
    key_ok("WWW.Example.ORG.", VH_KEY_NAME, "www.example.org");
    key_ok("example.org", VH_KEY_NAME, "example.org");
    key_ok("xn--caf-dma.example", VH_KEY_NAME, "xn--caf-dma.example");
    key_ok("a-b.1x.example", VH_KEY_NAME, "a-b.1x.example");
    key_ok("1.2.3.example", VH_KEY_NAME, "1.2.3.example"); /* digits, but not every label */
    key_ok("*.example.org", VH_KEY_WILDCARD, "*.example.org");
    key_ok("*.Example.ORG.", VH_KEY_WILDCARD, "*.example.org");
    char out[VH_KEY_TEXT];
    vh_err e;
    assert_int_equal(vh_key_canon("default", 0, out, &e), -1);
    /* lengths: 253 bytes (and a trailing dot) at most; a wildcard's name
     * at most 251, so that every name it matches fits 253; labels 63 */
    char n[300], w[300], want[300];
    long_name(n, 253);
    key_ok(n, VH_KEY_NAME, n);
    snprintf(w, sizeof w, "%s.", n);
    key_ok(w, VH_KEY_NAME, n);
    long_name(n, 254);
    n[253] = 'a';
    key_bad(n, "longer than 253");
    long_name(n, 251);
    snprintf(w, sizeof w, "*.%s", n);
    snprintf(want, sizeof want, "*.%s", n);
    key_ok(w, VH_KEY_WILDCARD, want);
    long_name(n, 252);
    snprintf(w, sizeof w, "*.%s", n);
    key_bad(w, "longer than 251 bytes");
    memset(n, 'a', 63);
    strcpy(n + 63, ".example.org");
    key_ok(n, VH_KEY_NAME, n);
    memset(n, 'a', 64);
    strcpy(n + 64, ".example.org");
    key_bad(n, "longer than 63 bytes");
}

static void test_key_refusals(void **s)
{
    (void)s;
    key_bad("", "empty key");
    key_bad("a.*.test", "'*' may only be the whole first label");
    key_bad("*", "'*' may only be the whole first label");
    key_bad("**.example.test", "'*' may only be the whole first label");
    key_bad("*.*.example.test", "'*' may only be the whole first label");
    key_bad("*example.test", "'*' may only be the whole first label");
    key_bad("*.test", "at least two labels after '*.'");
    key_bad("*.test.", "at least two labels after '*.'");
    key_bad("localhost", "one label");
    key_bad("Localhost.", "one label");
    key_bad("1.2.3", "not an IP address"); /* IP-shaped: an address that is none */
    key_bad("1.2.3.4.5", "not an IP address");
    key_bad("*.1.2", "only digits");        /* the wildcard's name IP-shaped */
    key_bad("caf\xc3\xa9.example", "xn--"); /* a U-label: give the A-label */
    key_bad("_dmarc.example.test", "character other than a letter");
    key_bad("a_b.example.test", "character other than a letter");
    key_bad("a b.example.test", "outside printable ASCII");
    key_bad("a..example.test", "empty label");
    key_bad(".example.test", "empty label");
    key_bad("a.example.test..", "empty label");
    key_bad("-a.example.test", "hyphen");
    key_bad("a-.example.test", "hyphen");
    key_bad("a.example-.test", "hyphen");
    key_bad("www.example.org/24", "is not a prefix"); /* '/': a prefix, of no address */
    key_bad("1.2.3.4.", "not an IP address");
    key_bad("*.", "empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_forms), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_sockaddrs),       cmocka_unit_test(test_fd_kinds),
        cmocka_unit_test(test_prefix_canon),    cmocka_unit_test(test_prefix_keys),
        cmocka_unit_test(test_key_kinds),       cmocka_unit_test(test_key_canon),
        cmocka_unit_test(test_key_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
