/* manifest: SHA-256 against the FIPS 180-4 / NIST vectors (in one piece
 * and fed in odd pieces), the three-way judgement of a recorded file, the
 * diff of two manifests, the store's merge (another run's entries
 * survive, --refresh's drop list), the host checksum cache, and the jail
 * copy's checksum never following a symlink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "manifest.h"
#include "sha256.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[VH_SHA256_HEX];
    vh_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    vh_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    vh_sha256_hex(m448, strlen(m448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
        "mnopqrstnopqrstu";
    vh_sha256_hex(m896, strlen(m896), hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* a million 'a', fed in pieces of 997 bytes (no piece on a block edge) */
    char piece[997];
    memset(piece, 'a', sizeof piece);
    vh_sha256 s;
    vh_sha256_init(&s);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof piece ? left : sizeof piece;
        vh_sha256_update(&s, piece, n);
        left -= n;
    }
    vh_sha256_final_hex(&s, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* every length around the padding edge: one piece and byte by byte agree */
    unsigned char buf[130];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 1);
    for (size_t len = 50; len < sizeof buf; len++) {
        char one[VH_SHA256_HEX], bytes[VH_SHA256_HEX];
        vh_sha256_hex(buf, len, one);
        vh_sha256_init(&s);
        for (size_t i = 0; i < len; i++)
            vh_sha256_update(&s, buf + i, 1);
        vh_sha256_final_hex(&s, bytes);
        assert_string_equal(one, bytes);
    }
}

static void test_sha256_fd(void **state)
{
    (void)state;
    const char *p = unit_path("abc");
    unit_write_file(p, "abc", 3, 0644);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    char hex[VH_SHA256_HEX];
    uint64_t size = 0;
    assert_int_equal(vh_sha256_fd(fd, hex, &size), 0);
    close(fd);
    assert_int_equal(size, 3);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_judge(void **state)
{
    (void)state;
    const char *A = "aaaa", *B = "bbbb", *C = "cccc";
    assert_int_equal(vh_manifest_judge(A, A, A), VH_MS_OK);
    assert_int_equal(vh_manifest_judge(A, B, B), VH_MS_OK); /* refreshed by hand: the copy is the host's */
    assert_int_equal(vh_manifest_judge(A, NULL, A), VH_MS_JAIL_MISSING);
    assert_int_equal(vh_manifest_judge(A, NULL, NULL), VH_MS_JAIL_MISSING);
    assert_int_equal(vh_manifest_judge(A, A, B), VH_MS_STALE);
    assert_int_equal(vh_manifest_judge(A, B, A), VH_MS_JAIL_CHANGED);
    assert_int_equal(vh_manifest_judge(A, B, C), VH_MS_BOTH_CHANGED);
    assert_int_equal(vh_manifest_judge(A, A, NULL), VH_MS_HOST_GONE);
    char sh[13];
    vh_manifest_short("0123456789abcdef0123", sh);
    assert_string_equal(sh, "0123456789ab");
}

struct seen {
    char text[1024];
};

static void diff_cb(void *ctx, enum vh_manifest_change c, const vh_manifest_file *old, const vh_manifest_file *now)
{
    struct seen *s = ctx;
    static const char *const names[] = {"same", "changed", "added", "dropped"};
    size_t l = strlen(s->text);
    snprintf(s->text + l, sizeof s->text - l, "%s %s;", names[c], (now ? now : old)->path);
}

static void test_diff(void **state)
{
    (void)state;
    vh_manifest old = {0}, now = {0};
    /* added out of order: the diff sorts */
    assert_int_equal(
        vh_manifest_add_file(&old, "/usr/bin/b", "/usr/bin/b", "program", "program /usr/bin/b", "11", 0755, 1), 0);
    assert_int_equal(vh_manifest_add_file(&old, "/lib/a", "/lib/a", "library", "program /usr/bin/b", "22", 0644, 2), 0);
    assert_int_equal(
        vh_manifest_add_file(&old, "/lib/gone", "/lib/gone", "library", "program /usr/bin/b", "33", 0644, 3), 0);
    assert_int_equal(
        vh_manifest_add_file(&now, "/usr/bin/b", "/usr/bin/b", "program", "program /usr/bin/b", "44", 0755, 1), 0);
    assert_int_equal(vh_manifest_add_file(&now, "/lib/new", "/lib/new", "library", "program /usr/bin/b", "55", 0644, 4),
                     0);
    assert_int_equal(vh_manifest_add_file(&now, "/lib/a", "/lib/a", "library", "program /usr/bin/b", "00", 0644, 2), 0);
    /* the same path again replaces the entry */
    assert_int_equal(vh_manifest_add_file(&now, "/lib/a", "/lib/a", "library", "program /usr/bin/b", "22", 0644, 2), 0);
    assert_int_equal(now.n, 3);
    struct seen s = {""};
    vh_manifest_diff(&old, &now, diff_cb, &s);
    assert_string_equal(s.text, "same /lib/a;dropped /lib/gone;added /lib/new;changed /usr/bin/b;");
    assert_non_null(vh_manifest_find(&now, "/lib/new"));
    assert_null(vh_manifest_find(&now, "/lib/gone"));
    /* requests once each */
    assert_int_equal(vh_manifest_add_req(&now, "program", "/usr/bin/b"), 0);
    assert_int_equal(vh_manifest_add_req(&now, "program", "/usr/bin/b"), 0);
    assert_int_equal(vh_manifest_add_req(&now, "gconv", ""), 0);
    assert_int_equal(now.nr, 2);
    vh_manifest_free(&old);
    vh_manifest_free(&now);
}

static const char SHA1[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char SHA2[] = "2222222222222222222222222222222222222222222222222222222222222222";

static void test_store_merge(void **state)
{
    (void)state;
    sqlite3 *db = unit_mem_db();
    vh_err e;
    vh_manifest a = {0}, b = {0}, got = {0};
    vh_manifest_add_req(&a, "program", "/usr/bin/a");
    vh_manifest_add_file(&a, "/usr/bin/a", "/usr/bin/a", "program", "program /usr/bin/a", SHA1, 0755, 10);
    vh_manifest_add_file(&a, "/lib/libc.so.6", "/lib/libc.so.6", "library", "program /usr/bin/a", SHA1, 0644, 20);
    assert_int_equal(vh_manifest_store(db, "/srv/j", &a, NULL, 0, &e), 0);
    /* another service's run: its entries merge, a's stay */
    vh_manifest_add_req(&b, "package", "rsync");
    vh_manifest_add_file(&b, "/usr/bin/rsync", "/usr/bin/rsync", "program", "package rsync", SHA2, 0755, 30);
    vh_manifest_add_file(&b, "/lib/libc.so.6", "/lib/libc.so.6", "library", "package rsync", SHA2, 0644, 21);
    assert_int_equal(vh_manifest_store(db, "/srv/j", &b, NULL, 0, &e), 0);
    assert_int_equal(vh_manifest_load(db, "/srv/j", &got, &e), 1);
    assert_int_equal(got.nr, 2);
    assert_int_equal(got.n, 3);
    const vh_manifest_file *libc = vh_manifest_find(&got, "/lib/libc.so.6");
    assert_non_null(libc);
    assert_string_equal(libc->sha, SHA2); /* updated by the later run */
    assert_int_equal(libc->size, 21);
    assert_non_null(vh_manifest_find(&got, "/usr/bin/a"));
    /* another jail has none; the list of jails */
    assert_int_equal(vh_manifest_load(db, "/srv/other", &got, &e), 0);
    vh_manifest_free(&got);
    char **jails = NULL;
    assert_int_equal(vh_manifest_jails(db, &jails, &e), 1);
    assert_string_equal(jails[0], "/srv/j");
    free(jails[0]);
    free(jails);
    /* --refresh's drop list takes files off, the requests stay */
    const char *drop[] = {"/usr/bin/a"};
    vh_manifest none = {0};
    assert_int_equal(vh_manifest_store(db, "/srv/j", &none, drop, 1, &e), 0);
    assert_int_equal(vh_manifest_load(db, "/srv/j", &got, &e), 1);
    assert_int_equal(got.n, 2);
    assert_null(vh_manifest_find(&got, "/usr/bin/a"));
    assert_int_equal(got.nr, 2);
    /* the schema refuses a checksum that is not 64 digits */
    vh_manifest bad = {0};
    vh_manifest_add_file(&bad, "/x", "/x", "file", "file /x", "abc", 0644, 1);
    assert_int_equal(vh_manifest_store(db, "/srv/j", &bad, NULL, 0, &e), -1);
    vh_manifest_free(&bad);
    vh_manifest_free(&got);
    vh_manifest_free(&a);
    vh_manifest_free(&b);
    sqlite3_close(db);
}

static void test_file_sums(void **state)
{
    (void)state;
    unit_sh("mkdir -p %s/jail/bin && printf abc > %s/host && printf abc > %s/jail/bin/x && ln -s /etc/passwd "
            "%s/jail/bin/link && ln -s x %s/jail/bin/inside && mkfifo %s/jail/bin/fifo",
            unit_dir, unit_dir, unit_dir, unit_dir, unit_dir, unit_dir);
    const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    vh_manifest_cache *c = vh_manifest_cache_new();
    assert_non_null(c);
    char sha[VH_SHA256_HEX];
    uint64_t size = 0;
    assert_int_equal(vh_manifest_host_sha(c, unit_path("host"), sha, &size), 1);
    assert_string_equal(sha, abc);
    assert_int_equal(size, 3);
    /* cached: a change on the host is not seen again in the same run */
    unit_write_file(unit_path("host"), "abd", 3, 0644);
    assert_int_equal(vh_manifest_host_sha(c, unit_path("host"), sha, &size), 1);
    assert_string_equal(sha, abc);
    assert_int_equal(vh_manifest_host_sha(NULL, unit_path("host"), sha, &size), 1);
    assert_string_not_equal(sha, abc);
    assert_int_equal(vh_manifest_host_sha(c, unit_path("nothing"), sha, &size), 0);
    /* enough host files to make the cache grow */
    for (int i = 0; i < 600; i++) {
        char p[64];
        snprintf(p, sizeof p, "gone-%d", i);
        assert_int_equal(vh_manifest_host_sha(c, unit_path(p), sha, &size), 0);
    }
    assert_int_equal(vh_manifest_host_sha(c, unit_path("host"), sha, &size), 1);
    assert_string_equal(sha, abc);
    vh_manifest_cache_free(c);
    int root = open(unit_path("jail"), O_PATH | O_DIRECTORY);
    assert_true(root >= 0);
    assert_int_equal(vh_manifest_jail_sha(root, "/bin/x", 3, sha), 1);
    assert_string_equal(sha, abc);
    /* larger than expected: not read, and equal to no checksum */
    assert_int_equal(vh_manifest_jail_sha(root, "/bin/x", 2, sha), 1);
    assert_string_equal(sha, "size 3");
    assert_int_equal(vh_manifest_judge(abc, sha, abc), VH_MS_JAIL_CHANGED);
    /* a symlink is no copy, not even one that stays inside */
    assert_int_equal(vh_manifest_jail_sha(root, "/bin/link", 3, sha), 0);
    assert_int_equal(vh_manifest_jail_sha(root, "/bin/inside", 3, sha), 0);
    assert_int_equal(vh_manifest_jail_sha(root, "/bin/fifo", 3, sha), 0);
    assert_int_equal(vh_manifest_jail_sha(root, "/bin/none", 3, sha), 0);
    close(root);
}

static int setup(void **state)
{
    (void)state;
    return unit_fixture("manifest");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors), cmocka_unit_test_setup_teardown(test_sha256_fd, setup, unit_teardown),
        cmocka_unit_test(test_judge),          cmocka_unit_test(test_diff),
        cmocka_unit_test(test_store_merge),    cmocka_unit_test_setup_teardown(test_file_sums, setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
