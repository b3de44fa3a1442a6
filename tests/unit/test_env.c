/* env: the allow-list and the computed ucspi-tcp variables (THREATS C). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "env.h"

#include <string.h>

static int has(const vh_env *env, const char *kv)
{
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->vars[i], kv) == 0)
            return 1;
    return 0;
}

static int has_prefix(const vh_env *env, const char *p)
{
    for (int i = 0; i < env->n; i++)
        if (strncmp(env->vars[i], p, strlen(p)) == 0)
            return 1;
    return 0;
}

static void test_build(void **s)
{
    (void)s;
    char *parent[] = {"LD_PRELOAD=/evil.so",
                      "LD_LIBRARY_PATH=/x",
                      "LD_AUDIT=/x",
                      "GCONV_PATH=/x",
                      "GLIBC_TUNABLES=x",
                      "MALLOC_CHECK_=3",
                      "IFS=x",
                      "ENV=/x",
                      "BASH_ENV=/x",
                      "PATH=/tmp",
                      "TCPREMOTEHOST=evil\nline",
                      "TCPLOCALIP=6.6.6.6",
                      "HOME=/root",
                      "TZ=Europe/Berlin",
                      "LANG=tr_TR.UTF-8",
                      "LC_CTYPE=C",
                      "LC_BAD=a\nb",
                      "LCX=no",
                      NULL};
    vh_conn c;
    memset(&c, 0, sizeof c);
    c.local.family = AF_INET6;
    strcpy(c.local.text, "::1");
    c.local.port = 21;
    c.remote.family = AF_INET6;
    strcpy(c.remote.text, "::1");
    c.remote.port = 50000;
    vh_env env;
    vh_err e;
    assert_int_equal(vh_env_build(parent, &c, "ftp", "::1", &env, &e), 0);
    assert_true(has(&env, "TZ=Europe/Berlin"));
    assert_true(has(&env, "LANG=tr_TR.UTF-8"));
    assert_true(has(&env, "LC_CTYPE=C"));
    assert_true(has(&env, "PATH=" VH_SAFE_PATH));
    assert_true(has(&env, "PROTO=TCP6"));
    assert_true(has(&env, "TCPLOCALIP=::1"));
    assert_true(has(&env, "TCPLOCALPORT=21"));
    assert_true(has(&env, "TCPREMOTEIP=::1"));
    assert_true(has(&env, "TCPREMOTEPORT=50000"));
    assert_true(has(&env, "VIRTUALD_SERVICE=ftp"));
    assert_true(has(&env, "VIRTUALD_ADDRESS=::1"));
    const char *gone[] = {"LD_",       "GCONV",         "GLIBC",        "MALLOC", "IFS",    "ENV=", "BASH_ENV",
                          "PATH=/tmp", "TCPREMOTEHOST", "TCPLOCALIP=6", "HOME",   "LC_BAD", "LCX"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        if (has_prefix(&env, gone[i]))
            fail_msg("%s reached the service", gone[i]);
    assert_int_equal(env.n, 11);
    assert_null(env.vars[env.n]);
}

static void test_ipv4_proto(void **s)
{
    (void)s;
    vh_conn c;
    memset(&c, 0, sizeof c);
    c.local.family = AF_INET;
    strcpy(c.local.text, "127.0.0.2");
    vh_env env;
    vh_err e;
    char *parent[] = {NULL};
    assert_int_equal(vh_env_build(parent, &c, "http", "default", &env, &e), 0);
    assert_true(has(&env, "PROTO=TCP"));
    assert_true(has(&env, "VIRTUALD_ADDRESS=default"));
    assert_int_equal(env.n, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_build), cmocka_unit_test(test_ipv4_proto)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
