/* elfread: real binaries from the host, hand-made images in
 * both classes and byte orders, and damaged ones (every truncation, every
 * field pointed outside, random mutations): the parser must answer or
 * refuse, never read outside the buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "elfread.h"
#include "elf_builder.h"
#include "rootfd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char img[1 << 16];

static int has_needed(const vh_elfread *o, const char *name)
{
    for (int i = 0; i < o->nneeded; i++)
        if (strcmp(o->needed[i], name) == 0)
            return 1;
    return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    unsigned char *b = NULL;
    int r = vh_rootfd_read_all(fd, (size_t)1 << 30, &b, len);
    close(fd);
    return r == 0 ? b : NULL;
}

/* ---- real binaries ------------------------------------------------ */

static void real_dynamic(const char *path)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_non_null(b);
    vh_elfread o;
    vh_err e;
    assert_int_equal(vh_elfread_parse(b, len, &o, &e), 0);
    assert_int_equal(o.elfclass, 64);
    assert_int_equal(o.big_endian, 0);
    assert_int_equal(o.machine, 62);
    assert_non_null(o.interp);
    assert_string_equal(o.interp, "/lib64/ld-linux-x86-64.so.2");
    assert_true(o.is_dynamic);
    assert_true(has_needed(&o, "libc.so.6"));
    assert_string_equal(vh_elfread_multiarch(&o), "x86_64-linux-gnu");
    free(b);
}

static void test_real_ls(void **state)
{
    (void)state;
    real_dynamic("/bin/ls");
}

static void test_real_sbin(void **state)
{
    (void)state;
    /* openbsd-inetd and chroot: both dynamically linked system programs */
    real_dynamic("/usr/sbin/inetd");
    real_dynamic("/usr/sbin/chroot");
}

static void test_real_static(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b = slurp("/bin/busybox", &len); /* busybox-static */
    assert_non_null(b);
    vh_elfread o;
    assert_int_equal(vh_elfread_parse(b, len, &o, NULL), 0);
    assert_null(o.interp);
    assert_int_equal(o.nneeded, 0);
    free(b);
}

static void test_real_ldso(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b = slurp("/lib64/ld-linux-x86-64.so.2", &len);
    assert_non_null(b);
    vh_elfread o;
    assert_int_equal(vh_elfread_parse(b, len, &o, NULL), 0);
    assert_int_equal(o.nneeded, 0);
    assert_null(o.interp);
    free(b);
}

static void test_not_elf(void **state)
{
    (void)state;
    vh_elfread o;
    vh_err e;
    assert_int_equal(vh_elfread_parse("#!/bin/sh\n", 10, &o, &e), -1);
    assert_string_equal(e.msg, "not an ELF file");
    assert_int_equal(vh_elfread_parse("", 0, &o, &e), -1);
    assert_int_equal(vh_elfread_parse(NULL, 0, &o, &e), -1);
    assert_int_equal(vh_elfread_parse("\177EL", 3, &o, &e), -1);
}

/* ---- hand-made images --------------------------------------------- */

static size_t build_std(int is64, int be, struct eb_layout *L)
{
    struct eb b = {.is64 = is64,
                   .be = be,
                   .machine = is64 ? 62 : 8,
                   .interp = "/lib/ld.so.1",
                   .needed = {"libfoo.so.1", "libbar.so.2"},
                   .nneeded = 2,
                   .runpath = "$ORIGIN/../lib:/opt/x",
                   .rpath = "/old"};
    size_t n = eb_build(&b, img, sizeof img, L);
    assert_true(n > 0);
    return n;
}

static void check_std(int is64, int be)
{
    struct eb_layout L;
    size_t n = build_std(is64, be, &L);
    vh_elfread o;
    vh_err e;
    assert_int_equal(vh_elfread_parse(img, n, &o, &e), 0);
    assert_int_equal(o.elfclass, is64 ? 64 : 32);
    assert_int_equal(o.big_endian, be);
    assert_string_equal(o.interp, "/lib/ld.so.1");
    assert_int_equal(o.nneeded, 2);
    assert_string_equal(o.needed[0], "libfoo.so.1");
    assert_string_equal(o.needed[1], "libbar.so.2");
    assert_string_equal(o.runpath, "$ORIGIN/../lib:/opt/x");
    assert_string_equal(o.rpath, "/old");
}

static void test_classes_and_orders(void **state)
{
    (void)state;
    check_std(1, 0);
    check_std(1, 1);
    check_std(0, 0);
    check_std(0, 1);
}

static void test_compatible_multiarch(void **state)
{
    (void)state;
    vh_elfread a = {.elfclass = 64, .machine = 62}, b = a, c = a;
    c.elfclass = 32;
    assert_true(vh_elfread_compatible(&a, &b));
    assert_false(vh_elfread_compatible(&a, &c));
    b.big_endian = 1;
    assert_false(vh_elfread_compatible(&a, &b));
    vh_elfread arm = {.elfclass = 64, .machine = 183};
    assert_string_equal(vh_elfread_multiarch(&arm), "aarch64-linux-gnu");
    vh_elfread x86 = {.elfclass = 32, .machine = 3};
    assert_string_equal(vh_elfread_multiarch(&x86), "i386-linux-gnu");
    vh_elfread odd = {.elfclass = 64, .machine = 9999};
    assert_null(vh_elfread_multiarch(&odd));
}

static void test_no_segments_no_dynamic(void **state)
{
    (void)state;
    struct eb b = {.is64 = 1, .machine = 62, .no_dynamic = 1};
    struct eb_layout L;
    size_t n = eb_build(&b, img, sizeof img, &L);
    vh_elfread o;
    assert_int_equal(vh_elfread_parse(img, n, &o, NULL), 0);
    assert_false(o.is_dynamic);
    assert_int_equal(o.nneeded, 0);
    eb_put(img, 56, 2, 0, 0); /* phnum 0 */
    assert_int_equal(vh_elfread_parse(img, n, &o, NULL), 0);
}

/* Every prefix of a valid image: parsed or refused, nothing else. With
 * the whole image in a heap block of exactly that size, a read past the
 * end is caught by ASan/valgrind when the tests run under them. */
static void test_every_truncation(void **state)
{
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        struct eb_layout L;
        size_t n = build_std(variant & 1, variant >> 1, &L);
        for (size_t len = 0; len <= n; len++) {
            unsigned char *copy = malloc(len ? len : 1);
            memcpy(copy, img, len);
            vh_elfread o;
            vh_err e;
            int r = vh_elfread_parse(copy, len, &o, &e);
            if (len == n)
                assert_int_equal(r, 0);
            if (r == 0) /* what was found lies inside the prefix */
                for (int i = 0; i < o.nneeded; i++)
                    assert_true((const unsigned char *)o.needed[i] >= copy &&
                                (const unsigned char *)o.needed[i] < copy + len);
            free(copy);
        }
    }
}

static void expect_refused(size_t n, const char *needle)
{
    vh_elfread o;
    vh_err e;
    assert_int_equal(vh_elfread_parse(img, n, &o, &e), -1);
    if (!strstr(e.msg, needle))
        fail_msg("message '%s' does not contain '%s'", e.msg, needle);
}

static void test_bad_identification(void **state)
{
    (void)state;
    struct eb_layout L;
    size_t n = build_std(1, 0, &L);
    img[4] = 3;
    expect_refused(n, "class");
    n = build_std(1, 0, &L);
    img[5] = 0;
    expect_refused(n, "byte order");
    n = build_std(1, 0, &L);
    img[6] = 2;
    expect_refused(n, "version");
    n = build_std(1, 0, &L);
    expect_refused(40, "truncated");
}

static void test_bad_program_headers(void **state)
{
    (void)state;
    struct eb_layout L;
    size_t n = build_std(1, 0, &L);
    eb_put(img, 32, 8, n, 0); /* phoff at the end */
    expect_refused(n, "outside the file");
    n = build_std(1, 0, &L);
    eb_put(img, 32, 8, UINT64_MAX - 8, 0); /* phoff wraps around */
    expect_refused(n, "outside the file");
    n = build_std(1, 0, &L);
    eb_put(img, 54, 2, 20, 0); /* phentsize smaller than a header */
    expect_refused(n, "smaller");
    n = build_std(1, 0, &L);
    eb_put(img, 56, 2, 0xffff, 0); /* PN_XNUM */
    expect_refused(n, "extended");
    n = build_std(1, 0, &L);
    eb_put(img, 56, 2, 5000, 0); /* more headers than the file holds */
    expect_refused(n, "outside the file");
}

static void test_bad_interp(void **state)
{
    (void)state;
    struct eb_layout L;
    size_t n = build_std(1, 0, &L);
    eb_put(img, L.interp_ph + 8, 8, n - 2, 0); /* offset: runs off the end */
    expect_refused(n, "interpreter");
    n = build_std(1, 0, &L);
    eb_put(img, L.interp_ph + 32, 8, 4, 0); /* filesz cuts off the NUL */
    expect_refused(n, "not terminated");
    n = build_std(1, 0, &L);
    img[L.interp_off] = 0; /* empty */
    expect_refused(n, "empty");
    n = build_std(1, 0, &L);
    eb_put(img, L.interp_ph + 8, 8, UINT64_MAX - 1, 0);
    expect_refused(n, "outside");
    /* two PT_INTERP */
    n = build_std(1, 0, &L);
    eb_put(img, L.dyn_ph, 4, 3, 0);
    eb_put(img, L.dyn_ph + 8, 8, L.interp_off, 0);
    eb_put(img, L.dyn_ph + 32, 8, 13, 0);
    expect_refused(n, "more than one PT_INTERP");
}

static void test_bad_dynamic(void **state)
{
    (void)state;
    struct eb_layout L;
    size_t n = build_std(1, 0, &L);
    eb_put(img, L.dyn_ph + 32, 8, n, 0); /* dynamic larger than the file */
    expect_refused(n, "dynamic segment");
    n = build_std(1, 0, &L);
    eb_put(img, L.dyn_ph, 4, 2, 0);
    eb_put(img, L.interp_ph, 4, 2, 0); /* two PT_DYNAMIC */
    expect_refused(n, "more than one PT_DYNAMIC");
    /* DT_NEEDED pointing past the string table */
    n = build_std(1, 0, &L);
    eb_put(img, L.dyn_off + 8, 8, L.str_size, 0);
    expect_refused(n, "outside the string table");
    n = build_std(1, 0, &L);
    eb_put(img, L.dyn_off + 8, 8, UINT64_MAX, 0);
    expect_refused(n, "outside the string table");
    /* the table's last string not terminated */
    n = build_std(1, 0, &L);
    img[L.str_off + L.str_size - 1] = 'x';
    expect_refused(n, "outside the string table");
    /* DT_STRTAB address not in any PT_LOAD */
    n = build_std(1, 0, &L);
    size_t strtab_ent = L.dyn_off + 4 * 16; /* after 2 needed, runpath, rpath */
    assert_int_equal(img[strtab_ent], 5);
    eb_put(img, strtab_ent + 8, 8, 0x100, 0);
    expect_refused(n, "not in a loaded segment");
    /* DT_STRSZ beyond the file */
    n = build_std(1, 0, &L);
    eb_put(img, strtab_ent + 16 + 8, 8, UINT64_MAX / 2, 0);
    expect_refused(n, "outside the file");
    /* a PT_LOAD whose offset is past the file */
    n = build_std(1, 0, &L);
    eb_put(img, L.load_ph + 8, 8, UINT64_MAX - 10, 0);
    expect_refused(n, "not in a loaded segment");
    /* DT_NEEDED but no string table at all */
    n = build_std(1, 0, &L);
    eb_put(img, strtab_ent, 8, 7, 0); /* DT_STRTAB -> DT_RELA */
    expect_refused(n, "no string table");
    /* empty library name */
    n = build_std(1, 0, &L);
    eb_put(img, L.dyn_off + 8, 8, 0, 0);
    expect_refused(n, "empty name");
}

static void test_no_dt_null(void **state)
{
    (void)state;
    struct eb_layout L;
    size_t n = build_std(0, 1, &L);
    /* overwrite DT_NULL with another DT_NEEDED: the section simply ends */
    size_t last = L.dyn_off + L.dyn_size - 8;
    eb_put(img, last, 4, 1, 1);
    eb_put(img, last + 4, 4, 1, 1);
    vh_elfread o;
    assert_int_equal(vh_elfread_parse(img, n, &o, NULL), 0);
    assert_int_equal(o.nneeded, 3);
}

static void test_too_many_needed(void **state)
{
    (void)state;
    static struct eb b = {.is64 = 1, .machine = 62};
    static unsigned char big[1 << 16];
    b.nneeded = VH_ELFREAD_MAX_NEEDED + 1;
    for (int i = 0; i < b.nneeded; i++)
        b.needed[i] = "l.so";
    struct eb_layout L;
    size_t n = eb_build(&b, big, sizeof big, &L);
    assert_true(n > 0);
    vh_elfread o;
    vh_err e;
    assert_int_equal(vh_elfread_parse(big, n, &o, &e), -1);
    assert_non_null(strstr(e.msg, "more than"));
    b.nneeded = VH_ELFREAD_MAX_NEEDED;
    n = eb_build(&b, big, sizeof big, &L);
    assert_int_equal(vh_elfread_parse(big, n, &o, &e), 0);
    assert_int_equal(o.nneeded, VH_ELFREAD_MAX_NEEDED);
}

/* Random damage to real and hand-made images: never a crash, and any
 * string returned lies inside the buffer. */
static void test_mutations(void **state)
{
    (void)state;
    size_t rlen;
    unsigned char *real = slurp("/bin/ls", &rlen);
    assert_non_null(real);
    srand(12345);
    for (int round = 0; round < 20000; round++) {
        struct eb_layout L;
        size_t n;
        unsigned char *buf;
        if (round & 1) {
            n = rlen;
            buf = malloc(n);
            memcpy(buf, real, n);
        } else {
            n = build_std(round & 2 ? 1 : 0, round & 4 ? 1 : 0, &L);
            buf = malloc(n);
            memcpy(buf, img, n);
        }
        int flips = 1 + rand() % 8;
        size_t span = n < 4096 ? n : 4096; /* headers live at the start */
        for (int k = 0; k < flips; k++)
            buf[(size_t)rand() % span] ^= (unsigned char)(1u << (rand() % 8));
        if (rand() % 4 == 0)
            n = (size_t)rand() % n;
        vh_elfread o;
        if (vh_elfread_parse(buf, n, &o, NULL) == 0) {
            for (int i = 0; i < o.nneeded; i++) {
                const unsigned char *s = (const unsigned char *)o.needed[i];
                assert_true(s >= buf && s < buf + n);
                assert_non_null(memchr(s, 0, (size_t)(buf + n - s)));
            }
            if (o.interp)
                assert_true((const unsigned char *)o.interp >= buf && (const unsigned char *)o.interp < buf + n);
        }
        free(buf);
    }
    free(real);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_ls),
        cmocka_unit_test(test_real_sbin),
        cmocka_unit_test(test_real_static),
        cmocka_unit_test(test_real_ldso),
        cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_classes_and_orders),
        cmocka_unit_test(test_compatible_multiarch),
        cmocka_unit_test(test_no_segments_no_dynamic),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_bad_identification),
        cmocka_unit_test(test_bad_program_headers),
        cmocka_unit_test(test_bad_interp),
        cmocka_unit_test(test_bad_dynamic),
        cmocka_unit_test(test_no_dt_null),
        cmocka_unit_test(test_too_many_needed),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
