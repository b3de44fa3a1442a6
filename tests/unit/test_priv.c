/* priv: every privilege step that fails makes the drop fail (THREATS
 * B1, B3, B6), forced with link-time wrapping: the test process keeps
 * root, the library sees the failures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

/* What each wrapped call does: 0 = pretend success, else fail with it. */
static int fail_setgroups, fail_setresgid, fail_setresuid;
static int regain_works;      /* setuid(0)/seteuid(0)/... succeed */
static uid_t fake_uid = 1000; /* what getresuid reports */
static gid_t fake_gid = 1000;
static int calls; /* order of calls, for B1 */
static char order[16];

int __wrap_setgroups(size_t n, const gid_t *l);
int __wrap_setresgid(gid_t r, gid_t e, gid_t s);
int __wrap_setresuid(uid_t r, uid_t e, uid_t s);
int __wrap_setuid(uid_t u);
int __wrap_seteuid(uid_t u);
int __wrap_setgid(gid_t g);
int __wrap_setegid(gid_t g);
int __wrap_getresuid(uid_t *r, uid_t *e, uid_t *s);
int __wrap_getresgid(gid_t *r, gid_t *e, gid_t *s);

static int ret(int err)
{
    if (!err)
        return 0;
    errno = err;
    return -1;
}

int __wrap_setgroups(size_t n, const gid_t *l)
{
    (void)n;
    (void)l;
    if (calls < 15)
        order[calls++] = 'G';
    /* after the uid drop, setgroups is a regain attempt */
    if (strchr(order, 'U'))
        return ret(regain_works ? 0 : EPERM);
    return ret(fail_setgroups);
}

int __wrap_setresgid(gid_t r, gid_t e, gid_t s)
{
    (void)r;
    (void)e;
    (void)s;
    if (calls < 15)
        order[calls++] = 'g';
    return ret(fail_setresgid);
}

int __wrap_setresuid(uid_t r, uid_t e, uid_t s)
{
    (void)r;
    (void)e;
    (void)s;
    if (calls < 15)
        order[calls++] = 'U';
    return ret(fail_setresuid);
}

int __wrap_setuid(uid_t u)
{
    (void)u;
    return ret(regain_works ? 0 : EPERM);
}

int __wrap_seteuid(uid_t u)
{
    (void)u;
    return ret(regain_works ? 0 : EPERM);
}

int __wrap_setgid(gid_t g)
{
    (void)g;
    return ret(regain_works ? 0 : EPERM);
}

int __wrap_setegid(gid_t g)
{
    (void)g;
    return ret(regain_works ? 0 : EPERM);
}

int __wrap_getresuid(uid_t *r, uid_t *e, uid_t *s)
{
    *r = *e = *s = fake_uid;
    return 0;
}

int __wrap_getresgid(gid_t *r, gid_t *e, gid_t *s)
{
    *r = *e = *s = fake_gid;
    return 0;
}

static int reset(void **s)
{
    (void)s;
    fail_setgroups = fail_setresgid = fail_setresuid = regain_works = 0;
    fake_uid = 1000;
    fake_gid = 1000;
    calls = 0;
    memset(order, 0, sizeof order);
    return 0;
}

static void test_success_and_order(void **s)
{
    (void)s;
    vh_err e;
    uint32_t groups[] = {1000, 27};
    assert_int_equal(vh_priv_set_groups(1000, groups, 2, &e), 0);
    assert_int_equal(vh_priv_set_uid(1000, 1000, &e), 0);
    /* B1: groups, then gid, then uid (then the regain probe) */
    assert_int_equal(strncmp(order, "GgU", 3), 0);
}

static void test_setgroups_fails(void **s)
{
    (void)s;
    vh_err e;
    fail_setgroups = EPERM;
    assert_int_equal(vh_priv_set_groups(1000, NULL, 0, &e), -1);
    assert_int_equal(e.code, VH_EX_OSERR);
    assert_non_null(strstr(e.msg, "setgroups"));
}

static void test_setresgid_fails(void **s)
{
    (void)s;
    vh_err e;
    fail_setresgid = EINVAL;
    assert_int_equal(vh_priv_set_groups(1000, NULL, 0, &e), -1);
    assert_non_null(strstr(e.msg, "setresgid(1000)"));
}

static void test_setresuid_eagain(void **s)
{
    (void)s;
    vh_err e;
    fail_setresuid = EAGAIN; /* RLIMIT_NPROC */
    assert_int_equal(vh_priv_set_uid(1000, 1000, &e), -1);
    assert_int_equal(e.code, VH_EX_OSERR);
    assert_non_null(strstr(e.msg, "setresuid(1000)"));
}

static void test_ids_not_dropped(void **s)
{
    (void)s;
    vh_err e;
    fake_uid = 0; /* setresuid "worked" but nothing changed */
    assert_int_equal(vh_priv_set_uid(1000, 1000, &e), -1);
    assert_int_equal(e.code, VH_EX_NOPERM);
    fake_uid = 1000;
    fake_gid = 0;
    assert_int_equal(vh_priv_set_uid(1000, 1000, &e), -1);
    assert_int_equal(e.code, VH_EX_NOPERM);
}

static void test_root_regainable(void **s)
{
    (void)s;
    vh_err e;
    regain_works = 1; /* B3: a saved uid 0 would allow this */
    assert_int_equal(vh_priv_set_uid(1000, 1000, &e), -1);
    assert_int_equal(e.code, VH_EX_NOPERM);
    assert_non_null(strstr(e.msg, "regained"));
}

static void test_bad_group_count(void **s)
{
    (void)s;
    vh_err e;
    assert_int_equal(vh_priv_set_groups(1000, NULL, -1, &e), -1);
    assert_int_equal(vh_priv_set_groups(1000, NULL, 1000, &e), -1);
}

static void test_root_keep_list(void **s)
{
    (void)s;
    /* K5: an allow-list. The escape-relevant capabilities are not in it,
     * CAP_NET_BIND_SERVICE only on request; and a capability number no
     * header knows yet (a future kernel's) is dropped. */
    int drop[] = {21 /* SYS_ADMIN */,
                  27 /* MKNOD */,
                  16 /* SYS_MODULE */,
                  17 /* SYS_RAWIO */,
                  19 /* SYS_PTRACE */,
                  22 /* SYS_BOOT */,
                  2 /* DAC_READ_SEARCH */,
                  13 /* NET_RAW */,
                  12 /* NET_ADMIN */,
                  8 /* SETPCAP */,
                  31 /* SETFCAP */,
                  15 /* IPC_OWNER */,
                  39 /* BPF */,
                  38 /* PERFMON */,
                  40 /* CHECKPOINT_RESTORE */,
                  41,
                  63};
    int keep[] = {18 /* SYS_CHROOT */,
                  7 /* SETUID */,
                  6 /* SETGID */,
                  0 /* CHOWN */,
                  1 /* DAC_OVERRIDE */,
                  3 /* FOWNER */,
                  5 /* KILL */};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        if (vh_priv_caps_root_keeps(drop[i], 1))
            fail_msg("capability %d kept", drop[i]);
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        if (!vh_priv_caps_root_keeps(keep[i], 0))
            fail_msg("capability %d dropped", keep[i]);
    assert_false(vh_priv_caps_root_keeps(10 /* NET_BIND_SERVICE */, 0));
    assert_true(vh_priv_caps_root_keeps(10, 1));
    assert_int_equal(vh_priv_caps_root_keep_count, 7);
    assert_true(vh_priv_caps_last() >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_success_and_order, reset), cmocka_unit_test_setup(test_setgroups_fails, reset),
        cmocka_unit_test_setup(test_setresgid_fails, reset),   cmocka_unit_test_setup(test_setresuid_eagain, reset),
        cmocka_unit_test_setup(test_ids_not_dropped, reset),   cmocka_unit_test_setup(test_root_regainable, reset),
        cmocka_unit_test_setup(test_bad_group_count, reset),   cmocka_unit_test_setup(test_root_keep_list, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
