/* inetd: finding and converting the legacy virtuald lines of an
 * inetd.conf; everything else byte for byte; twice is once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "inetd.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct log {
    char *text;
    size_t len;
    FILE *f;
};

static int on_entry(void *ctx, const vh_inetd_entry *en, vh_err *e)
{
    (void)e;
    struct log *l = ctx;
    fprintf(l->f, "%s %lu-%lu %s%s", en->form == VH_INETD_LEGACY ? "LEGACY" : "NEW", en->line, en->last_line,
            en->service, en->via_tcpd ? " tcpd" : "");
    if (en->form == VH_INETD_LEGACY)
        fprintf(l->f, " %s %.*s", en->conf, (int)en->program_len, en->program);
    fprintf(l->f, "\n");
    return 0;
}

static void on_diag(void *ctx, unsigned long line, int sev, const char *msg)
{
    struct log *l = ctx;
    fprintf(l->f, "%c %lu %s\n", sev == VH_INETD_ERROR ? 'E' : 'W', line, msg);
}

static char *scan(const char *text, vh_inetd_stats *st)
{
    struct log l = {0};
    l.f = open_memstream(&l.text, &l.len);
    vh_inetd_ops ops = {on_entry, on_diag};
    vh_err e;
    assert_int_equal(vh_inetd_scan(text, strlen(text), &ops, &l, st, &e), 0);
    fclose(l.f);
    return l.text;
}

static int out(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

static char *convert_with(const char *text, const char *virtuald, const char *db)
{
    char *r = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&r, &n);
    vh_err e;
    if (vh_inetd_convert(text, strlen(text), virtuald, db, out, f, &e) < 0)
        fail_msg("convert: %s", e.msg);
    fclose(f);
    return r;
}

static char *convert(const char *text, const char *db)
{
    return convert_with(text, NULL, db);
}

/* The HOWTO's "virtual /etc/inetd.conf", verbatim. */
static const char howto[] = "ftp stream tcp nowait root /usr/local/bin/virtuald \\\n"
                            "        virtuald /virtual/conf.ftp wu.ftpd -l -a\n"
                            "pop-3 stream tcp nowait root /usr/local/bin/virtuald \\\n"
                            "        virtuald /virtual/conf.pop in.qpop -s\n";

static void test_howto(void **s)
{
    (void)s;
    vh_inetd_stats st;
    char *t = scan(howto, &st);
    unit_text_has(t, "LEGACY 1-2 ftp /virtual/conf.ftp wu.ftpd\n");
    unit_text_has(t, "LEGACY 3-4 pop-3 /virtual/conf.pop in.qpop\n");
    unit_text_has(t, "W 1 service ftp: the entry is continued with a backslash; it is written as one line, because "
                     "openbsd-inetd reads a '\\' at the end of a line as one more argument\n");
    assert_int_equal(st.legacy, 2);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.warnings, 2);
    assert_int_equal(st.lines, 4);
    free(t);
    char *c = convert(howto, NULL);
    assert_string_equal(c, "ftp stream tcp nowait root /usr/local/bin/virtuald virtuald ftp wu.ftpd -l -a\n"
                           "pop-3 stream tcp nowait root /usr/local/bin/virtuald virtuald pop-3 in.qpop -s\n");
    /* twice is once: the converted lines are in the new form */
    t = scan(c, &st);
    assert_string_equal(t, "NEW 1-1 ftp\nNEW 2-2 pop-3\n");
    assert_int_equal(st.converted, 2);
    assert_int_equal(st.legacy, 0);
    char *c2 = convert(c, NULL);
    assert_string_equal(c, c2);
    free(t);
    free(c);
    free(c2);
    /* a database other than the default is named */
    c = convert(howto, "/srv/vh/vhosts.db");
    unit_text_has(c, "/usr/local/bin/virtuald virtuald --db /srv/vh/vhosts.db ftp wu.ftpd -l -a\n");
    c2 = convert(c, "/srv/vh/vhosts.db");
    assert_string_equal(c, c2);
    free(c);
    free(c2);
}

/* Issue 13, point 1: the converted line runs the new virtuald, not the
 * legacy program's file (directly, and under tcpd as its argv[0]); the
 * new form is left alone. */
static void test_new_program(void **s)
{
    (void)s;
    char *c = convert_with(howto, "/usr/sbin/virtuald", NULL);
    assert_string_equal(c, "ftp stream tcp nowait root /usr/sbin/virtuald virtuald ftp wu.ftpd -l -a\n"
                           "pop-3 stream tcp nowait root /usr/sbin/virtuald virtuald pop-3 in.qpop -s\n");
    char *c2 = convert_with(c, "/opt/other/virtuald", NULL);
    assert_string_equal(c, c2); /* the new form: as it is */
    free(c);
    free(c2);
    c = convert_with("pop3 stream tcp nowait root /usr/sbin/tcpd /usr/local/bin/virtuald /etc/vh/pop.conf in.qpop\n",
                     "/usr/sbin/virtuald", "/srv/vh/v.db");
    assert_string_equal(c, "pop3 stream tcp nowait root /usr/sbin/tcpd /usr/sbin/virtuald --db /srv/vh/v.db pop3 "
                           "in.qpop\n");
    free(c);
    vh_err e;
    assert_int_equal(vh_inetd_convert(howto, strlen(howto), "sbin/virtuald", NULL, out, stderr, &e), -1);
    assert_int_equal(e.code, VH_EX_USAGE);
    assert_int_equal(vh_inetd_convert(howto, strlen(howto), "/usr/s bin/virtuald", NULL, out, stderr, &e), -1);
}

/* The HOWTO's "standard" inetd.conf, and everything not virtuald, stays
 * byte for byte (odd blanks, CR LF, no final newline included). */
static void test_others_untouched(void **s)
{
    (void)s;
    static const char *files[] = {
        "ftp stream tcp nowait root /usr/sbin/tcpd \\\n        wu.ftpd -l -a\n"
        "pop-3 stream tcp nowait root /usr/sbin/tcpd \\\n        in.qpop -s\n",
        "# comment virtuald /virtual/conf\n\n   \n#ftp stream tcp nowait root /usr/sbin/virtuald virtuald "
        "/virtual/conf.ftp in.ftpd\n",
        "echo\tstream\ttcp\tnowait\troot\tinternal\r\ntime  dgram udp wait root internal  \n127.0.0.1:\n"
        "daytime stream tcp nowait root internal",
        "",
        "\n\n\n",
        "x",
        "ftp stream tcp nowait root /usr/sbin/not-virtuald virtuald /virtual/conf.ftp in.ftpd\n",
        "ftp stream tcp nowait root /usr/sbin/tcpd /usr/sbin/in.ftpd /virtual/conf.ftp\n",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        vh_inetd_stats st;
        char *t = scan(files[i], &st);
        assert_string_equal(t, "");
        assert_int_equal(st.legacy + st.converted + st.errors, 0);
        char *c = convert(files[i], "/db");
        assert_string_equal(c, files[i]);
        free(t);
        free(c);
    }
}

static void test_forms(void **s)
{
    (void)s;
    static const char f[] =
        "# a realistic file\n"
        "127.0.0.2,127.0.0.3:ftp\tstream\ttcp\tnowait\troot\t/usr/sbin/virtuald\tvirtuald\t/etc/vh/ftp.conf\t"
        "/usr/sbin/in.ftpd -l\n"
        "pop3 stream tcp6 nowait.400 root.root /usr/sbin/tcpd /usr/local/bin/virtuald /etc/vh/pop.conf in.qpop -s\n"
        "www stream tcp nowait root /usr/sbin/tcpd virtuald /etc/vh/www.conf httpd -i\n"
        "smtp stream tcp nowait root /usr/sbin/virtuald virtuald smtp /usr/sbin/exim4 -bs\n"
        "imap2 stream tcp nowait root /usr/sbin/virtuald virtuald --db /srv/v.db imap2 imapd\n"
        "finger stream tcp nowait root /usr/sbin/virtuald\n"
        "    virtuald /etc/vh/finger.conf\n"
        "    in.fingerd -w\n"
        "talk stream tcp,rcvbuf=64k nowait root:wheel /usr/sbin/virtuald virtuald /etc/vh/talk.conf talkd  \n";
    vh_inetd_stats st;
    char *t = scan(f, &st);
    assert_string_equal(t, "LEGACY 2-2 ftp /etc/vh/ftp.conf /usr/sbin/in.ftpd\n"
                           "LEGACY 3-3 pop3 tcpd /etc/vh/pop.conf in.qpop\n"
                           "LEGACY 4-4 www tcpd /etc/vh/www.conf httpd\n"
                           "NEW 5-5 smtp\n"
                           "NEW 6-6 imap2\n"
                           "LEGACY 7-9 finger /etc/vh/finger.conf in.fingerd\n"
                           "LEGACY 10-10 talk /etc/vh/talk.conf talkd\n");
    assert_int_equal(st.legacy, 5);
    assert_int_equal(st.converted, 2);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.warnings, 0); /* whitespace continuation is inetd's own */
    free(t);
    char *c = convert(f, NULL);
    assert_string_equal(
        c,
        "# a realistic file\n"
        "127.0.0.2,127.0.0.3:ftp\tstream\ttcp\tnowait\troot\t/usr/sbin/virtuald\tvirtuald\tftp\t/usr/sbin/in.ftpd -l\n"
        "pop3 stream tcp6 nowait.400 root.root /usr/sbin/tcpd /usr/local/bin/virtuald pop3 in.qpop -s\n"
        "www stream tcp nowait root /usr/sbin/tcpd virtuald www httpd -i\n"
        "smtp stream tcp nowait root /usr/sbin/virtuald virtuald smtp /usr/sbin/exim4 -bs\n"
        "imap2 stream tcp nowait root /usr/sbin/virtuald virtuald --db /srv/v.db imap2 imapd\n"
        "finger stream tcp nowait root /usr/sbin/virtuald virtuald finger in.fingerd -w\n"
        "talk stream tcp,rcvbuf=64k nowait root:wheel /usr/sbin/virtuald virtuald talk talkd  \n");
    char *c2 = convert(c, NULL);
    assert_string_equal(c, c2);
    free(c);
    free(c2);
}

static void test_line_ends(void **s)
{
    (void)s;
    /* CR LF kept; no final newline kept; an attached backslash */
    char *c = convert("ftp stream tcp nowait root /v/virtuald virtuald /c in.ftpd\r\n"
                      "pop-3 stream tcp nowait root /v/virtuald virtuald\\\n /c2 in.qpop\\\n  -s",
                      NULL);
    assert_string_equal(c, "ftp stream tcp nowait root /v/virtuald virtuald ftp in.ftpd\r\n"
                           "pop-3 stream tcp nowait root /v/virtuald virtuald pop-3 in.qpop -s");
    free(c);
    /* a backslash as the last thing in the file */
    c = convert("ftp stream tcp nowait root /v/virtuald virtuald /c in.ftpd \\", NULL);
    assert_string_equal(c, "ftp stream tcp nowait root /v/virtuald virtuald ftp in.ftpd");
    free(c);
    /* a comment ends an entry; a blank line too */
    c = convert("ftp stream tcp nowait root /v/virtuald virtuald /c in.ftpd\n# x\n  \n"
                "pop-3 stream tcp nowait root /v/virtuald virtuald /c2 in.qpop\n\n",
                NULL);
    assert_string_equal(c, "ftp stream tcp nowait root /v/virtuald virtuald ftp in.ftpd\n# x\n  \n"
                           "pop-3 stream tcp nowait root /v/virtuald virtuald pop-3 in.qpop\n\n");
    free(c);
}

/* Lines that run virtuald but cannot be converted are errors. */
static void test_errors(void **s)
{
    (void)s;
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"ftp dgram udp wait root /v/virtuald virtuald /c in.ftpd\n", "socket type 'dgram'"},
        {"ftp stream udp nowait root /v/virtuald virtuald /c in.ftpd\n", "protocol 'udp'"},
        {"ftp stream tcp wait root /v/virtuald virtuald /c in.ftpd\n", "'wait': virtuald needs 'nowait'"},
        {"ftp stream tcp nowait nobody /v/virtuald virtuald /c in.ftpd\n", "user 'nobody': virtuald must be started"},
        {"ftp stream tcp nowait rooted /v/virtuald virtuald /c in.ftpd\n", "user 'rooted'"},
        {"ftp stream tcp nowait root /v/virtuald virtuald virtual/c in.ftpd\n", "'virtual/c' is a relative path"},
        {"ftp stream tcp nowait root /v/virtuald virtuald /c\n", "names the configuration /c but no program"},
        {"ftp stream tcp nowait root /v/virtuald virtuald\n", "virtuald is started without arguments"},
        {"ftp stream tcp nowait root /usr/sbin/tcpd virtuald\n", "virtuald is started without arguments"},
        {"rstatd/1-5 stream rpc/tcp nowait root /v/virtuald virtuald /c rpc.rstatd\n", "protocol 'rpc/tcp'"},
        {"-x stream tcp nowait root /v/virtuald virtuald /c prog\n", "service name '-x' must start"},
        {"ftp stream tcp nowait root /v/virtuald virtuald /c prog \\\\\n   \n", "ends in a backslash that continues"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vh_inetd_stats st;
        char *t = scan(cases[i].line, &st);
        if (st.errors < 1 || !strstr(t, cases[i].msg))
            fail_msg("'%s': wanted '%s', got: %s", cases[i].line, cases[i].msg, t);
        assert_int_equal(st.legacy, 0);
        free(t);
        /* and convert leaves such a line alone */
        char *c = convert(cases[i].line, NULL);
        assert_string_equal(c, cases[i].line);
        free(c);
    }
    /* a NUL byte: inetd would read the line only up to it */
    static const char nul[] = "ftp stream tcp nowait root /v/virtuald virtuald /c\0x in.ftpd\n";
    struct log l = {0};
    l.f = open_memstream(&l.text, &l.len);
    vh_inetd_ops ops = {on_entry, on_diag};
    vh_err e;
    vh_inetd_stats st;
    assert_int_equal(vh_inetd_scan(nul, sizeof nul - 1, &ops, &l, &st, &e), 0);
    fclose(l.f);
    unit_text_has(l.text, "E 1 NUL byte in this virtuald entry");
    assert_int_equal(st.legacy, 0);
    free(l.text);
    /* every bad line is reported */
    char *t = scan("a dgram udp wait nobody /v/virtuald virtuald /c p\nb stream tcp nowait root /v/virtuald "
                   "virtuald /c p\n",
                   &st);
    assert_int_equal(st.errors, 4);
    assert_int_equal(st.legacy, 1);
    free(t);
    /* a too long CONF */
    char big[PATH_MAX + 200];
    int n = snprintf(big, sizeof big, "ftp stream tcp nowait root /v/virtuald virtuald /");
    memset(big + n, 'a', PATH_MAX);
    strcpy(big + n + PATH_MAX, " prog\n");
    t = scan(big, &st);
    unit_text_has(t, "E 1 virtuald's configuration path is longer than");
    free(t);
}

static void test_db_arg(void **s)
{
    (void)s;
    vh_err e;
    assert_int_equal(vh_inetd_db_ok("/var/lib/x.db", &e), 0);
    assert_int_equal(vh_inetd_db_ok("x.db", &e), -1);
    assert_int_equal(e.code, VH_EX_USAGE);
    unit_text_has(e.msg, "is relative");
    assert_int_equal(vh_inetd_db_ok("/a b/x.db", &e), -1);
    unit_text_has(e.msg, "blank or control character");
    assert_int_equal(vh_inetd_db_ok("/a\tb", &e), -1);
    char *r = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&r, &n);
    assert_int_equal(vh_inetd_convert(howto, strlen(howto), NULL, "rel.db", out, f, &e), -1);
    fclose(f);
    free(r);
}

static int failing_out(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return -1;
}

static int stop_entry(void *ctx, const vh_inetd_entry *en, vh_err *e)
{
    (void)ctx;
    return vh_fail(e, VH_EX_SOFTWARE, "stop at %lu", en->line);
}

static void test_failures(void **s)
{
    (void)s;
    vh_err e;
    assert_int_equal(vh_inetd_convert(howto, strlen(howto), NULL, NULL, failing_out, NULL, &e), -1);
    assert_int_equal(e.code, VH_EX_IOERR);
    vh_inetd_ops ops = {stop_entry, NULL};
    vh_inetd_stats st;
    assert_int_equal(vh_inetd_scan(howto, strlen(howto), &ops, NULL, &st, &e), -1);
    assert_string_equal(e.msg, "stop at 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_howto),     cmocka_unit_test(test_others_untouched), cmocka_unit_test(test_forms),
        cmocka_unit_test(test_line_ends), cmocka_unit_test(test_errors),           cmocka_unit_test(test_db_arg),
        cmocka_unit_test(test_failures),  cmocka_unit_test(test_new_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
