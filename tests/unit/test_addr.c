/* addr: canonical forms, refusals, and fd 0 of every kind (THREATS G). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_forms),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_sockaddrs),
        cmocka_unit_test(test_fd_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
