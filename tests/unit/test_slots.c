/* slots: slots as byte-range locks (issue 16, THREATS M1, M2): the
 * SipHash-2-4 reference vectors, source buckets grouped by prefix and
 * keyed, slots taken, refused at the limit, freed when the open file is
 * closed, counted from outside; the per-boot key file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "exitcodes.h"
#include "slots.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char ref_key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The paper's appendix A vectors: key 00..0f, message 00..(n-1). */
static void test_siphash_vectors(void **s)
{
    (void)s;
    unsigned char msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    assert_true(vh_siphash24(ref_key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    assert_true(vh_siphash24(ref_key, msg, 1) == 0x74f839c593dc67fdULL);
    assert_true(vh_siphash24(ref_key, msg, 8) == 0x93f5f5799a932462ULL);
    assert_true(vh_siphash24(ref_key, msg, 15) == 0xa129ca6149be45e5ULL);
    assert_true(vh_siphash24(ref_key, msg, 63) == 0x958a324ceb064572ULL);
}

static vh_endpoint ep(const char *text)
{
    vh_endpoint e;
    memset(&e, 0, sizeof e);
    e.family = strchr(text, ':') ? AF_INET6 : AF_INET;
    snprintf(e.text, sizeof e.text, "%s", text);
    return e;
}

/* fleet.md table L, rows 2 and 8 (THREATS M2): one /64 is one source, two /64s are two; the bucket
 * depends on the secret key, so a client cannot choose a victim's. */
static void test_buckets(void **s)
{
    (void)s;
    vh_limit l = {0, 1, 32, 64};
    vh_endpoint a = ep("2001:db8:1:2::1"), b = ep("2001:db8:1:2:ffff::9"), c = ep("2001:db8:1:3::1");
    assert_int_equal(vh_limits_bucket(ref_key, &l, &a), vh_limits_bucket(ref_key, &l, &b));
    vh_endpoint x = ep("192.0.2.1"), y = ep("192.0.2.2");
    l.prefix4 = 24;
    assert_int_equal(vh_limits_bucket(ref_key, &l, &x), vh_limits_bucket(ref_key, &l, &y));
    /* over many neighbours, distinct prefixes spread (not one bucket) */
    int same = 0;
    for (int i = 0; i < 64; i++) {
        char t[64];
        snprintf(t, sizeof t, "2001:db8:1:%x::1", 0x100 + i);
        vh_endpoint n = ep(t);
        same += vh_limits_bucket(ref_key, &l, &n) == vh_limits_bucket(ref_key, &l, &c);
    }
    assert_true(same <= 2);
    /* another key, another bucket for most sources */
    unsigned char k2[16];
    memcpy(k2, ref_key, 16);
    k2[0] ^= 1;
    int moved = 0;
    for (int i = 0; i < 64; i++) {
        char t[64];
        snprintf(t, sizeof t, "10.0.%d.1", i);
        vh_endpoint n = ep(t);
        moved += vh_limits_bucket(ref_key, &l, &n) != vh_limits_bucket(k2, &l, &n);
    }
    assert_true(moved >= 60);
}

/* FNV-1a, 64 bits: the unkeyed hash fleet.md table L row 8 names, over
 * the bytes vh_limits_bucket hashes (the family's tag, 4 or 6, then the
 * 16 address bytes cut to the prefix), bucket = hash mod
 * VH_LIMITS_BUCKETS. What a naive bucket choice would be. */
static uint32_t fnv_bucket(int family, const char *text, unsigned prefix)
{
    unsigned char a[17];
    memset(a, 0, sizeof a);
    assert_int_equal(vh_addr_bytes(text, family, a + 1), 0);
    vh_addr_mask(a + 1, family, prefix);
    a[0] = (unsigned char)(family == AF_INET ? 4 : 6);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < (family == AF_INET ? 5u : 17u); i++) {
        h ^= a[i];
        h *= 0x100000001b3ULL;
    }
    return (uint32_t)(h % VH_LIMITS_BUCKETS);
}

/* fleet.md table L row 8 (THREATS M2): an attacker who holds an IPv6 /48
 * picks, among its 65,536 /64s, one whose bucket under an unkeyed hash is
 * the victim's, and one connection of theirs then takes the victim's
 * per-source slot. The pairs below were found so, by trying every /64 of
 * the attacker's /48 (and every /32 of 198.18.0.0/16) with fnv_bucket
 * until one matched the victim's (about 16 of each collide with any
 * given bucket):
 *
 *     for (unsigned i = 0; i < 65536; i++) {
 *         snprintf(t, sizeof t, "2001:db8:bad:%x::", i);
 *         if (fnv_bucket(AF_INET6, t, 64) == fnv_bucket(AF_INET6, "2001:db8:1:2::", 64))
 *             printf("%s\n", t); // 2001:db8:bad:24d::, :15f4::, :26d1::, ...
 *     }
 *
 * Under the keyed SipHash the same pairs land in different buckets, and
 * whether a pair collides depends on the key (which no client knows):
 * over 64 keys a pair shares a bucket about 64/4096 times. */
static void test_buckets_fnv_pair(void **s)
{
    (void)s;
    vh_limit l = {0, 1, 32, 64};
    struct {
        int family;
        const char *victim, *attacker;
    } pairs[] = {
        {AF_INET6, "2001:db8:1:2::1", "2001:db8:bad:24d::7"},
        {AF_INET6, "2001:db8:1:2::1", "2001:db8:bad:15f4::7"},
        {AF_INET, "192.0.2.1", "198.18.14.97"},
        {AF_INET, "192.0.2.1", "198.18.21.188"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        unsigned prefix = pairs[i].family == AF_INET ? l.prefix4 : l.prefix6;
        /* control: the pair really collides under the unkeyed hash (a pair
         * that did not would prove nothing below) */
        assert_int_equal(fnv_bucket(pairs[i].family, pairs[i].victim, prefix),
                         fnv_bucket(pairs[i].family, pairs[i].attacker, prefix));
        vh_endpoint v = ep(pairs[i].victim), a = ep(pairs[i].attacker);
        assert_int_not_equal(vh_limits_bucket(ref_key, &l, &v), vh_limits_bucket(ref_key, &l, &a));
        /* not one lucky key: the collision is the key's doing, rare */
        int shared = 0;
        for (int k = 0; k < 64; k++) {
            unsigned char key[VH_LIMITS_KEY_LEN];
            for (int j = 0; j < VH_LIMITS_KEY_LEN; j++)
                key[j] = (unsigned char)(ref_key[j] ^ (k * 37 + j * 11));
            shared += vh_limits_bucket(key, &l, &v) == vh_limits_bucket(key, &l, &a);
        }
        assert_true(shared <= 2);
    }
}

static int slot_file(void)
{
    int fd = open(unit_path("running"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    return fd;
}

/* fleet.md table L, row 1, and THREATS M1 at the lock level: at most N holders; a closed holder frees
 * its slot; a refusal holds nothing. */
static void test_instances(void **s)
{
    (void)s;
    assert_int_equal(unit_fixture("slots"), 0);
    vh_limit l = {2, 0, 32, 64};
    vh_endpoint src = ep("127.0.0.1");
    vh_err e;
    int a = slot_file(), b = slot_file(), c = slot_file(), probe = slot_file();
    assert_int_equal(vh_limits_take(a, &l, ref_key, &src, "http/127.0.0.2", &e), 0);
    assert_int_equal(vh_limits_take(b, &l, ref_key, &src, "http/127.0.0.2", &e), 0);
    assert_int_equal(vh_limits_take(c, &l, ref_key, &src, "http/127.0.0.2", &e), -1);
    assert_int_equal(e.code, VH_EX_TEMPFAIL);
    assert_non_null(strstr(e.msg, "limit of 2 instances"));
    assert_non_null(strstr(e.msg, "http/127.0.0.2"));
    uint32_t inst, srcs;
    assert_int_equal(vh_limits_held(probe, &l, &inst, &srcs, &e), 0);
    assert_int_equal(inst, 2);
    close(a); /* the holder ends, however it ends: the kernel frees it */
    assert_int_equal(vh_limits_held(probe, &l, &inst, &srcs, &e), 0);
    assert_int_equal(inst, 1);
    assert_int_equal(vh_limits_take(c, &l, ref_key, &src, "http/127.0.0.2", &e), 0);
    /* control: without a limit nothing is taken or refused */
    vh_limit none = {0, 0, 32, 64};
    int d = slot_file();
    assert_int_equal(vh_limits_take(d, &none, ref_key, &src, "x", &e), 0);
    close(b);
    close(c);
    close(d);
    close(probe);
    unit_fixture_remove();
}

/* fleet.md table L, row 2: per source; a refusal by source gives back the instance slot. */
static void test_per_source(void **s)
{
    (void)s;
    assert_int_equal(unit_fixture("slots-src"), 0);
    vh_limit l = {3, 1, 32, 64};
    vh_endpoint a1 = ep("192.0.2.1"), b1 = ep("198.51.100.7");
    vh_err e;
    int f1 = slot_file(), f2 = slot_file(), f3 = slot_file(), probe = slot_file();
    assert_int_equal(vh_limits_take(f1, &l, ref_key, &a1, "d", &e), 0);
    assert_int_equal(vh_limits_take(f2, &l, ref_key, &a1, "d", &e), -1);
    assert_int_equal(e.code, VH_EX_TEMPFAIL);
    assert_non_null(strstr(e.msg, "from 192.0.2.1/32"));
    uint32_t inst, srcs;
    assert_int_equal(vh_limits_held(probe, &l, &inst, &srcs, &e), 0);
    assert_int_equal(inst, 1); /* the refused one holds nothing */
    assert_int_equal(srcs, 1);
    assert_int_equal(vh_limits_take(f3, &l, ref_key, &b1, "d", &e), 0);
    assert_int_equal(vh_limits_held(probe, &l, &inst, &srcs, &e), 0);
    assert_int_equal(inst, 2);
    assert_int_equal(srcs, 2);
    close(f1);
    assert_int_equal(vh_limits_take(f2, &l, ref_key, &a1, "d", &e), 0);
    close(f2);
    close(f3);
    close(probe);
    unit_fixture_remove();
}

/* One byte locked by fd at off, as a holder under an earlier, higher limit. */
static void hold_byte(int fd, off_t off)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = off;
    fl.l_len = 1;
    assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
}

/* Red team: a limit lowered while connections hold slots past it (max
 * 4 -> 2 with slots 2 and 3 held). Before, the free slots 0 and 1 were
 * taken (4 running under a limit of 2) and list --live said 0; now the
 * held slots count until they end. Per source likewise (5 -> 2). */
static void test_lowered(void **s)
{
    (void)s;
    assert_int_equal(unit_fixture("slots-lowered"), 0);
    vh_limit two = {2, 0, 32, 64};
    vh_endpoint src = ep("192.0.2.1");
    vh_err e;
    int old2 = slot_file(), old3 = slot_file(), c = slot_file(), probe = slot_file();
    hold_byte(old2, 2);
    hold_byte(old3, 3);
    assert_int_equal(vh_limits_take(c, &two, ref_key, &src, "d", &e), -1);
    assert_int_equal(e.code, VH_EX_TEMPFAIL);
    uint32_t inst, srcs;
    assert_int_equal(vh_limits_held(probe, &two, &inst, &srcs, &e), 0);
    assert_int_equal(inst, 2); /* the refused one holds nothing; both old ones count */
    close(old3);
    assert_int_equal(vh_limits_take(c, &two, ref_key, &src, "d", &e), 0); /* 1 old + 1 new = 2 */
    int d = slot_file();
    assert_int_equal(vh_limits_take(d, &two, ref_key, &src, "d", &e), -1);
    close(c);
    close(d);
    close(old2);
    /* per source: slots 2..4 of the source's bucket held under a limit of 5, now 2 */
    vh_limit ps = {0, 2, 32, 64};
    off_t base = VH_LIMITS_SRC_BASE + (off_t)vh_limits_bucket(ref_key, &ps, &src) * VH_LIMITS_PER_SOURCE_MAX;
    int h[3];
    for (int i = 0; i < 3; i++) {
        h[i] = slot_file();
        hold_byte(h[i], base + 2 + i);
    }
    int f = slot_file();
    assert_int_equal(vh_limits_take(f, &ps, ref_key, &src, "d", &e), -1);
    assert_non_null(strstr(e.msg, "limit of 2 connections from 192.0.2.1/32"));
    close(h[0]);
    close(h[1]);
    assert_int_equal(vh_limits_take(f, &ps, ref_key, &src, "d", &e), 0);
    close(f);
    close(h[2]);
    /* control: nothing past the limit, the usual case */
    int g = slot_file();
    assert_int_equal(vh_limits_take(g, &two, ref_key, &src, "d", &e), 0);
    close(g);
    close(probe);
    unit_fixture_remove();
}

/* The key: made once, whole, 0600 root; a key file anyone could have
 * written is refused. */
static void test_key_file(void **s)
{
    (void)s;
    assert_int_equal(unit_fixture("slots-key"), 0);
    unsigned char k1[16], k2[16];
    vh_err e;
    const char *p = unit_path("limits.key");
    assert_int_equal(vh_limits_key(p, k1, &e), 0);
    assert_int_equal(vh_limits_key(p, k2, &e), 0);
    assert_memory_equal(k1, k2, 16);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 16);
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(vh_limits_key(p, k2, &e), -1);
    assert_int_equal(e.code, VH_EX_CONFIG);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    assert_int_equal(vh_limits_key(p, k2, &e), -1);
    unit_fixture_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),  cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_buckets_fnv_pair), cmocka_unit_test(test_instances),
        cmocka_unit_test(test_per_source),       cmocka_unit_test(test_lowered),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
