/* legacy: the flat-format parser (THREATS H1-H9). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "legacy.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything the parser said, as text: "R line address dir" per row and
 * "E|W line kind message" per diagnostic, in order. */
struct out {
    char *text;
    size_t len;
    FILE *f;
    int stop_at; /* row callback fails on this row number (1-based), 0 never */
    int rows;
};

static void on_diag(void *ctx, const vh_legacy_diag *d)
{
    struct out *o = ctx;
    assert_string_equal(d->file, "t.conf");
    fprintf(o->f, "%c %lu %d %s\n", d->severity == VH_LEGACY_ERROR ? 'E' : 'W', d->line, d->kind, d->msg);
}

static int on_row(void *ctx, const vh_legacy_rec *r, vh_err *e)
{
    struct out *o = ctx;
    if (++o->rows == o->stop_at)
        return vh_fail(e, VH_EX_CANTCREAT, "stopped at row %d", o->rows);
    fprintf(o->f, "R %lu %s %s\n", r->line, r->address, r->dir);
    return 0;
}

static const vh_legacy_ops ops = {on_row, on_diag};

/* Parse buf (n bytes) fed in pieces of step bytes (0: all at once). */
static char *parse_step(const char *buf, size_t n, size_t step, vh_legacy_stats *st)
{
    struct out o = {0};
    o.f = open_memstream(&o.text, &o.len);
    vh_err e;
    vh_legacy *p = vh_legacy_new("t.conf", &ops, &o);
    assert_non_null(p);
    for (size_t i = 0; i < n;) {
        size_t k = step && step < n - i ? step : n - i;
        assert_int_equal(vh_legacy_feed(p, buf + i, k, &e), 0);
        i += k;
    }
    assert_int_equal(vh_legacy_finish(p, st, &e), 0);
    vh_legacy_free(p);
    fclose(o.f);
    return o.text;
}

static char *parse(const char *buf, size_t n, vh_legacy_stats *st)
{
    return parse_step(buf, n, 0, st);
}

static char *parse_s(const char *s, vh_legacy_stats *st)
{
    return parse(s, strlen(s), st);
}

/* The HOWTO's own example file: four rows, nothing to warn about. */
static const char howto[] = "# This is a comment and so are blank lines\n"
                            "\n"
                            "# Format IP SPACE dir NOSPACES\n"
                            "10.10.10.129 /virtual/domain1.com\n"
                            "10.10.10.130 /virtual/domain2.com\n"
                            "10.10.10.157 /virtual/domain3.com\n"
                            "\n"
                            "# Default option for all other IPs\n"
                            "default /\n";

static void test_howto(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s(howto, &st);
    assert_string_equal(t, "R 4 10.10.10.129 /virtual/domain1.com\n"
                           "R 5 10.10.10.130 /virtual/domain2.com\n"
                           "R 6 10.10.10.157 /virtual/domain3.com\n"
                           "R 9 default /\n");
    assert_int_equal(st.lines, 9);
    assert_int_equal(st.rows, 4);
    assert_int_equal(st.skipped, 5);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.warnings, 0);
    free(t);
}

/* H5: one grammar for blanks. */
static void test_blanks(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s("\t 10.0.0.1 \t /srv/a b \t\n"
                      "10.0.0.2\t/srv/c\n"
                      "   \n"
                      "\t\t\n"
                      "  # indented comment\n"
                      "10.0.0.3     /srv/d\n",
                      &st);
    unit_text_has(t, "R 1 10.0.0.1 /srv/a b\n");
    unit_text_has(t, "R 2 10.0.0.2 /srv/c\n");
    unit_text_has(t, "R 6 10.0.0.3 /srv/d\n");
    assert_int_equal(st.rows, 3);
    assert_int_equal(st.skipped, 3);
    assert_int_equal(st.errors, 0);
    free(t);
}

/* H2: a last line without newline is read whole, with the same rows and
 * errors as with the newline (the legacy program made /srv/b of /srv/bb:
 * a warning says so). */
static void test_no_final_newline(void **s)
{
    (void)s;
    vh_legacy_stats a, b;
    char *with = parse_s("10.0.0.1 /srv/a\n10.0.0.2 /srv/bb\n", &a);
    char *without = parse_s("10.0.0.1 /srv/a\n10.0.0.2 /srv/bb", &b);
    unit_text_has(without, "R 2 10.0.0.2 /srv/bb\n");
    assert_int_equal(a.rows, b.rows);
    assert_int_equal(a.errors, b.errors);
    assert_int_equal(a.lines, b.lines);
    assert_int_equal(a.warnings, 0);
    assert_int_equal(b.warnings, 1);
    unit_text_has(without, "W 2 35 the legacy program read the directory as '/srv/b'");
    unit_text_lacks(with, "W ");
    free(with);
    free(without);
    /* a single line, a single byte: the errors are the same */
    char *x = parse_s("1.2.3.4", &a), *y = parse_s("1.2.3.4\n", &b);
    assert_string_equal(x, y);
    free(x);
    free(y);
    /* the empty file and a file of one newline */
    x = parse("", 0, &a);
    assert_string_equal(x, "");
    assert_int_equal(a.lines, 0);
    free(x);
}

/* H4: CR LF accepted, never a path ending in CR; a lone CR is an error. */
static void test_crlf(void **s)
{
    (void)s;
    vh_legacy_stats a, b;
    char *lf = parse_s("# c\n10.0.0.1 /srv/a\n\ndefault /srv/d\n", &a);
    char *crlf = parse_s("# c\r\n10.0.0.1 /srv/a\r\n\r\ndefault /srv/d\r\n", &b);
    assert_int_equal(a.rows, 2);
    assert_int_equal(b.rows, 2);
    assert_int_equal(b.errors, 0);
    unit_text_has(crlf, "R 2 10.0.0.1 /srv/a\n");
    unit_text_has(crlf, "R 4 default /srv/d\n");
    unit_text_lacks(crlf, "\r"); /* in rows, and messages show it as \x0d */
    /* the legacy program kept the CR: each row warns, and the blank
     * "\r" line had no space, which ended its search */
    unit_text_has(crlf, "W 2 35 the legacy program read the directory as '/srv/a\\x0d'");
    unit_text_has(crlf, "W 3 36 ");
    unit_text_has(crlf, "W 4 32 the legacy program never reached this line: line 3 has no space");
    free(lf);
    free(crlf);
    /* a CR just before the end of the file ends the line */
    char *t = parse_s("10.0.0.1 /srv/a\r", &a);
    unit_text_has(t, "R 1 10.0.0.1 /srv/a\n");
    assert_int_equal(a.errors, 0);
    free(t);
    /* lone CRs: inside, doubled before LF, at the start */
    t = parse_s("10.0.0.1 /srv/a\rb\n10.0.0.2 /srv/c\r\r\n\r10.0.0.3 /x\n10.0.0.4 /srv/e\n", &a);
    unit_text_has(t, "E 1 3 carriage return (CR) at column 16 inside the line");
    unit_text_has(t, "E 2 3 carriage return (CR) at column 16");
    unit_text_has(t, "E 3 3 carriage return (CR) at column 1");
    unit_text_has(t, "R 4 10.0.0.4 /srv/e\n");
    assert_int_equal(a.errors, 3);
    assert_int_equal(a.rows, 1);
    free(t);
}

/* H3: NUL anywhere, the first byte of the file included. */
static void test_nul(void **s)
{
    (void)s;
    vh_legacy_stats st;
    static const char f1[] = "\0"
                             "10.0.0.1 /srv/a\n10.0.0.2 /srv/b\n";
    char *t = parse(f1, sizeof f1 - 1, &st);
    assert_string_equal(t, "E 1 2 binary data: NUL byte at column 1 - a configuration file is text: find how the "
                           "byte got there and remove it\nR 2 10.0.0.2 /srv/b\n");
    free(t);
    static const char f2[] = "10.0.0.1 /srv/a\0b\n\0\n10.0.0.3 /srv/c\0";
    t = parse(f2, sizeof f2 - 1, &st);
    unit_text_has(t, "E 1 2 binary data: NUL byte at column 16");
    unit_text_has(t, "E 2 2 binary data: NUL byte at column 1");
    unit_text_has(t, "E 3 2 binary data: NUL byte at column 16");
    assert_int_equal(st.errors, 3);
    assert_int_equal(st.rows, 0);
    free(t);
    /* a NUL alone */
    t = parse("\0", 1, &st);
    unit_text_has(t, "E 1 2 binary data: NUL byte at column 1");
    free(t);
}

/* H1: long lines are one error with their number; the next line keeps
 * its own number, never a continuation of the long one. */
static void long_line(size_t n, int crlf, int want_error)
{
    size_t total = n + 64;
    char *buf = malloc(total);
    assert_non_null(buf);
    memcpy(buf, "# first\n1.2.3.4 /", 17);
    memset(buf + 17, 'a', n - 9); /* line 2 is n bytes */
    size_t k = 8 + n;
    if (crlf)
        buf[k++] = '\r';
    memcpy(buf + k, "\n10.0.0.2 /srv/b\n", 17); /* line 3 */
    k += 17;
    vh_legacy_stats st;
    char *t = parse(buf, k, &st);
    char want[128];
    if (want_error) {
        snprintf(want, sizeof want, "E 2 1 line is %zu bytes long; a line must be shorter than 4096 bytes", n);
        unit_text_has(t, want);
        assert_int_equal(st.errors, 1);
        assert_int_equal(st.rows, 1);
    } else {
        assert_int_equal(st.errors, 0);
        assert_int_equal(st.rows, 2);
    }
    unit_text_has(t, "R 3 10.0.0.2 /srv/b\n");
    assert_int_equal(st.lines, 3);
    /* and fed one byte... no: 7 bytes at a time, the same */
    char *t2 = parse_step(buf, k, 7, &st);
    assert_string_equal(t, t2);
    free(t2);
    free(t);
    free(buf);
}

static void test_long_lines(void **s)
{
    (void)s;
    long_line(VH_LEGACY_LINE_MAX - 1, 0, 0); /* 4095: the longest line */
    long_line(VH_LEGACY_LINE_MAX - 1, 1, 0); /* CR LF is no content */
    long_line(VH_LEGACY_LINE_MAX, 0, 1);     /* 4 KiB */
    long_line(VH_LEGACY_LINE_MAX, 1, 1);
    long_line(64 * 1024, 0, 1);        /* 64 KiB */
    long_line(10 * 1024 * 1024, 0, 1); /* 10 MiB */
    /* a long last line without newline */
    char *buf = malloc(70000);
    memset(buf, 'x', 70000);
    vh_legacy_stats st;
    char *t = parse(buf, 70000, &st);
    unit_text_has(t, "E 1 1 line is 70000 bytes long");
    free(t);
    free(buf);
}

static void test_missing_dir(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s("10.0.0.1\n10.0.0.2   \n10.0.0.3\t\ndefault\n", &st);
    unit_text_has(t, "E 1 4 '10.0.0.1' has no directory after it");
    unit_text_has(t, "E 2 4 '10.0.0.2' has no directory");
    unit_text_has(t, "E 3 4 '10.0.0.3' has no directory");
    unit_text_has(t, "E 4 4 'default' has no directory");
    assert_int_equal(st.errors, 4);
    assert_int_equal(st.rows, 0);
    free(t);
}

/* H7, H8, G9, G10: addresses through vh_addr_canon. */
static void test_addresses(void **s)
{
    (void)s;
    static const char *bad[] = {
        "999.1.1.1", "1.2.3",          "010.0.0.1",    "0x0a.0.0.1", "host.example.com", "1.2.3.4/24", "fe80::1%eth0",
        "fe80::1",   "0.0.0.0",        "::",           "224.0.0.1",  "255.255.255.255",  "Default",    "DEFAULT",
        "1.2.3.4.5", "2001:db8::1::2", "[2001:db8::1]"};
    char line[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(line, sizeof line, "%s /srv/a\n", bad[i]);
        vh_legacy_stats st;
        char *t = parse_s(line, &st);
        if (st.errors != 1 || st.rows != 0 || strncmp(t, "E 1 5 ", 6) != 0)
            fail_msg("'%s' accepted or wrongly reported: %s", bad[i], t);
        free(t);
    }
    vh_legacy_stats st;
    char *t = parse_s("2001:DB8:0:0::1 /srv/a\n::FFFF:192.0.2.7 /srv/b\n::1 /srv/c\n2001:db8::2 /srv/d\n", &st);
    unit_text_has(t, "R 1 2001:db8::1 /srv/a\n"); /* G2: stored once, canonical */
    unit_text_has(t, "R 2 192.0.2.7 /srv/b\n");   /* G1: v4-mapped is IPv4 */
    unit_text_has(t, "R 3 ::1 /srv/c\n");
    unit_text_has(t, "R 4 2001:db8::2 /srv/d\n");
    unit_text_has(t, "W 1 34 the legacy program knew IPv4 only");
    unit_text_has(t, "W 2 34 the legacy program read the address as '::FFFF:192.0.2.7'");
    assert_int_equal(st.errors, 0);
    free(t);
    /* a duplicate in another spelling is a duplicate */
    t = parse_s("192.0.2.7 /srv/a\n::ffff:192.0.2.7 /srv/b\n2001:db8::1 /x\n2001:DB8::0:1 /y\n", &st);
    unit_text_has(t, "W 2 33 192.0.2.7 was already given on line 1");
    unit_text_has(t, "W 4 33 2001:db8::1 was already given on line 3");
    assert_int_equal(st.rows, 2);
    free(t);
    /* an address too long to be one */
    char big[600];
    memset(big, '1', 500);
    strcpy(big + 500, " /srv/a\n");
    t = parse_s(big, &st);
    unit_text_has(t, "E 1 5 address '");
    assert_int_equal(st.errors, 1);
    free(t);
}

/* H9: directories through vh_valid_root. */
static void test_dirs(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s("10.0.0.1 srv/a\n10.0.0.2 /srv/../etc\n10.0.0.3 /srv//a\n10.0.0.4 /srv/a/\n"
                      "10.0.0.5 /srv/./a\n10.0.0.6 ./a\n10.0.0.7 /srv/\x01x\n10.0.0.8 /srv/ok\n",
                      &st);
    unit_text_has(t, "E 1 6 jail directory 'srv/a' is relative");
    unit_text_has(t, "E 2 6 jail directory '/srv/../etc' contains a '.' or '..' component");
    unit_text_has(t, "E 3 6 jail directory '/srv//a' contains '//'");
    /* issue 13: a trailing slash, which the legacy program accepted, is
     * a warning and the directory without it */
    unit_text_has(t, "W 4 37 directory '/srv/a/' ends with '/': imported as /srv/a (the same directory)");
    unit_text_has(t, "R 4 10.0.0.4 /srv/a\n");
    unit_text_has(t, "E 5 6 ");
    unit_text_has(t, "E 6 6 ");
    unit_text_has(t, "E 7 6 jail directory '/srv/\\x01x' contains a control character");
    unit_text_has(t, "R 8 10.0.0.8 /srv/ok\n");
    assert_int_equal(st.errors, 6);
    assert_int_equal(st.rows, 2);
    free(t);
    /* a bad address and a bad directory on one line: both said */
    t = parse_s("1.2.3 rel\n", &st);
    unit_text_has(t, "E 1 5 ");
    unit_text_has(t, "E 1 6 ");
    assert_int_equal(st.errors, 2);
    free(t);
}

/* Every bad line is reported, not only the first, and good rows still
 * reach the caller. */
static void test_every_bad_line(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s("bad1 /a\n10.0.0.1 /srv/a\nbad2 /b\n10.0.0.2\n10.0.0.3 rel\n10.0.0.4 /srv/d\n", &st);
    assert_int_equal(st.errors, 4);
    assert_int_equal(st.rows, 2);
    unit_text_has(t, "E 1 5 ");
    unit_text_has(t, "E 3 5 ");
    unit_text_has(t, "E 4 4 ");
    unit_text_has(t, "E 5 6 ");
    free(t);
}

/* Warnings: what the legacy program did differently. */
static void test_shadowed(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s("10.0.0.1 /srv/a\ndefault /srv/d\n10.0.0.2 /srv/b\n10.0.0.3 /srv/c\n", &st);
    unit_text_has(t, "R 1 10.0.0.1 /srv/a\n");
    unit_text_has(t,
                  "W 3 32 the legacy program never reached this line: the 'default' on line 2 matched every connection "
                  "first. Imported, so the meaning changes: connections to 10.0.0.2 now go to /srv/b, not to /srv/d\n");
    unit_text_has(t, "R 3 10.0.0.2 /srv/b\n");
    unit_text_has(t, "W 4 32 the legacy program never reached this line: the 'default' on line 2");
    unit_text_has(t, "R 4 10.0.0.3 /srv/c\n");
    assert_int_equal(st.warnings, 2);
    assert_int_equal(st.rows, 4);
    free(t);
    /* a default line that is bad here still ended the legacy search */
    t = parse_s("default rel\n10.0.0.2 /srv/b\ndefault /srv/d\n", &st);
    unit_text_has(t, "E 1 6 ");
    unit_text_has(t, "W 2 32 the legacy program never reached this line: the 'default' on line 1");
    unit_text_has(
        t, "W 3 32 the legacy program never reached this line: the 'default' on line 1 matched every connection "
           "first. Imported, so the meaning changes: connections to addresses without a line of their own now go "
           "to /srv/d, not to rel");
    free(t);
}

static void test_duplicates(void **s)
{
    (void)s;
    vh_legacy_stats st;
    char *t = parse_s("10.0.0.1 /srv/a\n10.0.0.1 /srv/b\ndefault /srv/d\ndefault /srv/e\n10.0.0.1 /srv/c\n", &st);
    assert_string_equal(t, "R 1 10.0.0.1 /srv/a\n"
                           "W 2 33 10.0.0.1 was already given on line 1, which the legacy program used; this line is "
                           "not imported - delete it\n"
                           "R 3 default /srv/d\n"
                           "W 4 33 'default' was already given on line 3, which the legacy program used; this line "
                           "is not imported - delete it\n"
                           "W 5 33 10.0.0.1 was already given on line 1, which the legacy program used; this line is "
                           "not imported - delete it\n");
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.rows, 2);
    free(t);
}

static void test_legacy_reading(void **s)
{
    (void)s;
    vh_legacy_stats st;
    /* leading blank: the legacy address was "", it never matched */
    char *t = parse_s("  10.0.0.1 /srv/a\n", &st);
    unit_text_has(
        t, "W 1 34 the legacy program read the address as '' (it splits at the first space and compares text), so "
           "it never matched this line. Imported, so the meaning changes: connections to 10.0.0.1 are now served "
           "from /srv/a\n");
    unit_text_has(t, "R 1 10.0.0.1 /srv/a\n");
    free(t);
    /* two spaces, trailing blanks: another directory */
    t = parse_s("10.0.0.1  /srv/a\n10.0.0.2 /srv/b  \n", &st);
    unit_text_has(
        t, "W 1 35 the legacy program read the directory as ' /srv/a' (it kept everything after the first space, "
           "trailing blanks and CR included); imported as '/srv/a'");
    unit_text_has(t, "W 2 35 the legacy program read the directory as '/srv/b  '");
    free(t);
    /* a tab: no space at all; the legacy program refused everything from
     * there on, so the lines below were never reached */
    t = parse_s("10.0.0.1\t/srv/a\n10.0.0.2 /srv/b\n", &st);
    unit_text_has(
        t, "W 1 36 the legacy program found no space in this line and refused every connection that got this far. "
           "Imported, so the meaning changes: connections to 10.0.0.1 are now served from /srv/a\n");
    unit_text_has(
        t, "W 2 32 the legacy program never reached this line: line 1 has no space, and it refused every connection "
           "that got there. Imported, so the meaning changes: connections to 10.0.0.2 are now served from /srv/b\n");
    assert_int_equal(st.rows, 2);
    free(t);
    /* a tab-only blank line did the same */
    t = parse_s("\t\n10.0.0.2 /srv/b\n", &st);
    unit_text_has(t, "W 1 36 the legacy program found no space in this blank line");
    unit_text_has(t, "W 2 32 ");
    assert_int_equal(st.skipped, 1);
    free(t);
    /* a line the legacy program never reached says only that */
    t = parse_s("default /d\n  10.0.0.1  /srv/a  \n", &st);
    assert_int_equal(st.warnings, 1);
    free(t);
}

/* Streaming: any split of the input gives the same result. */
static void test_chunks(void **s)
{
    (void)s;
    static const char f[] = "# c\r\n10.0.0.1 /srv/a\r\n\t10.0.0.2 /srv/b \n\0bad\n10.0.0.3 /srv/c\rx\n"
                            "default /srv/d\n10.0.0.1 /srv/e\n2001:db8::1 /srv/f\n\t\n10.0.0.9\t/srv/g";
    vh_legacy_stats a, b;
    char *whole = parse(f, sizeof f - 1, &a);
    for (size_t step = 1; step < sizeof f; step++) {
        char *t = parse_step(f, sizeof f - 1, step, &b);
        assert_string_equal(whole, t);
        assert_int_equal(a.rows, b.rows);
        assert_int_equal(a.errors, b.errors);
        assert_int_equal(a.warnings, b.warnings);
        assert_int_equal(a.lines, b.lines);
        free(t);
    }
    free(whole);
}

/* A callback that fails stops the parse with its error. */
static void test_callback_stops(void **s)
{
    (void)s;
    struct out o = {0};
    o.f = open_memstream(&o.text, &o.len);
    o.stop_at = 2;
    vh_err e = {0, ""};
    vh_legacy_stats st;
    int rc = vh_legacy_parse_buf("t.conf", "10.0.0.1 /a\n10.0.0.2 /b\n10.0.0.3 /c\n", 36, &ops, &o, &st, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, VH_EX_CANTCREAT);
    assert_string_equal(e.msg, "stopped at row 2");
    fclose(o.f);
    assert_string_equal(o.text, "R 1 10.0.0.1 /a\n");
    free(o.text);
    /* a failed parser refuses more input */
    vh_legacy *p = vh_legacy_new("t.conf", &ops, &o);
    o.rows = 0;
    o.f = open_memstream(&o.text, &o.len);
    assert_int_equal(vh_legacy_feed(p, "10.0.0.1 /a\n10.0.0.2 /b\n", 24, &e), -1);
    assert_int_equal(vh_legacy_feed(p, "x", 1, &e), -1);
    assert_int_equal(vh_legacy_finish(p, &st, &e), -1);
    vh_legacy_free(p);
    fclose(o.f);
    free(o.text);
}

static void test_fd(void **s)
{
    (void)s;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    const char *text = "10.0.0.1 /srv/a\n10.0.0.2 /srv/b\n";
    assert_int_equal(write(pfd[1], text, strlen(text)), (ssize_t)strlen(text));
    close(pfd[1]);
    struct out o = {0};
    o.f = open_memstream(&o.text, &o.len);
    vh_err e;
    vh_legacy_stats st;
    assert_int_equal(vh_legacy_parse_fd("t.conf", pfd[0], &ops, &o, &st, &e), 0);
    close(pfd[0]);
    fclose(o.f);
    assert_string_equal(o.text, "R 1 10.0.0.1 /srv/a\nR 2 10.0.0.2 /srv/b\n");
    free(o.text);
    /* a read error names the file */
    assert_int_equal(vh_legacy_parse_fd("t.conf", -1, &ops, NULL, &st, &e), -1);
    assert_int_equal(e.code, VH_EX_IOERR);
    unit_text_has(e.msg, "cannot read t.conf");
}

/* The duplicate set across its growth: no false duplicate, no missed one. */
static void test_many_addresses(void **s)
{
    (void)s;
    enum { N = 70000 };
    size_t cap = (size_t)N * 2 * 40 + 64, n = 0;
    char *buf = malloc(cap);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++) {
            n += (size_t)snprintf(buf + n, cap - n, "10.%d.%d.%d /j\n", i >> 16, (i >> 8) & 255, i & 255);
            n += (size_t)snprintf(buf + n, cap - n, "2001:db8::%x:%x /j\n", i >> 12, i & 0xfff);
        }
    vh_legacy_stats st;
    vh_legacy *p = vh_legacy_new("t.conf", NULL, NULL);
    vh_err e;
    assert_int_equal(vh_legacy_feed(p, buf, n, &e), 0);
    assert_int_equal(vh_legacy_finish(p, &st, &e), 0);
    vh_legacy_free(p);
    assert_int_equal(st.rows, 2 * N);
    assert_int_equal(st.duplicates, 2 * N);
    assert_int_equal(st.errors, 0);
    free(buf);
}

/* THREATS K11: endless or binary input ends with an error, whatever
 * the size of the pieces it comes in. */
static int feed_until_fail(vh_legacy *p, const char *piece, size_t n, unsigned long max_pieces, vh_err *e)
{
    for (unsigned long i = 0; i < max_pieces; i++)
        if (vh_legacy_feed(p, piece, n, e) < 0)
            return 0;
    return -1; /* never stopped */
}

static void test_bounds(void **s)
{
    (void)s;
    vh_err e;
    enum { CHUNK = 64 * 1024 };
    char *buf = calloc(1, CHUNK);
    /* /dev/zero: binary data on line 1, after at most one chunk */
    vh_legacy *p = vh_legacy_new("zero", NULL, NULL);
    assert_int_equal(feed_until_fail(p, buf, CHUNK, 1, &e), 0);
    assert_int_equal(e.code, VH_EX_DATAERR);
    unit_text_has(e.msg, "zero: binary data at line 1");
    vh_legacy_free(p);
    /* one byte at a time: the same line */
    p = vh_legacy_new("zero", NULL, NULL);
    assert_int_equal(feed_until_fail(p, buf, 1, VH_LEGACY_LINE_MAX + 1, &e), 0);
    unit_text_has(e.msg, "binary data at line 1");
    vh_legacy_free(p);
    /* endless bad lines (yes | vhostctl import -): stops after the
     * error limit, having reported that many */
    vh_legacy_stats st;
    p = vh_legacy_new("t.conf", NULL, NULL);
    assert_int_equal(feed_until_fail(p, "y\n", 2, 100000, &e), 0);
    unit_text_has(e.msg, "more than 1000 errors");
    vh_legacy_free(p);
    /* endless comments: stops past VH_LEGACY_SIZE_MAX */
    for (size_t i = 0; i < CHUNK; i += 64) {
        memset(buf + i, ' ', 64);
        buf[i] = '#';
        buf[i + 63] = '\n';
    }
    p = vh_legacy_new("t.conf", NULL, NULL);
    assert_int_equal(feed_until_fail(p, buf, CHUNK, VH_LEGACY_SIZE_MAX / CHUNK + 2, &e), 0);
    unit_text_has(e.msg, "more than 256 MiB");
    vh_legacy_free(p);
    /* an endless line of text: stops past VH_LEGACY_SIZE_MAX too */
    memset(buf, 'a', CHUNK);
    p = vh_legacy_new("t.conf", NULL, NULL);
    assert_int_equal(feed_until_fail(p, buf, CHUNK, VH_LEGACY_SIZE_MAX / CHUNK + 2, &e), 0);
    unit_text_has(e.msg, "t.conf: more than 256 MiB (at line 1)");
    vh_legacy_free(p);
    /* 1000 bad lines are still all reported, and the good row read */
    struct out o = {0};
    o.f = open_memstream(&o.text, &o.len);
    p = vh_legacy_new("t.conf", &ops, &o);
    for (int i = 0; i < VH_LEGACY_ERRORS_MAX; i++)
        assert_int_equal(vh_legacy_feed(p, "10.0.0.9\n", 9, &e), 0);
    assert_int_equal(vh_legacy_feed(p, "10.0.0.1 /srv/a\n", 16, &e), 0);
    assert_int_equal(vh_legacy_finish(p, &st, &e), 0);
    assert_int_equal(st.errors, VH_LEGACY_ERRORS_MAX);
    assert_int_equal(st.rows, 1);
    vh_legacy_free(p);
    fclose(o.f);
    unit_text_has(o.text, "R 1001 10.0.0.1 /srv/a");
    free(o.text);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_howto),
        cmocka_unit_test(test_blanks),
        cmocka_unit_test(test_no_final_newline),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_dirs),
        cmocka_unit_test(test_every_bad_line),
        cmocka_unit_test(test_shadowed),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_legacy_reading),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_fd),
        cmocka_unit_test(test_many_addresses),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
