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

/* A fake jail for the locale check: the paths it holds, and the calls. */
struct fakejail {
    const char *const *have; /* "d:/path" a directory, "f:/path" a file */
    int calls;
};

static int fake_exists(void *ctx, const char *path, int want_dir)
{
    struct fakejail *j = ctx;
    j->calls++;
    for (const char *const *p = j->have; p && *p; p++)
        if ((*p)[0] == (want_dir ? 'd' : 'f') && strcmp(*p + 2, path) == 0)
            return 1;
    return 0;
}

static void build_with(char **parent, vh_env *env)
{
    vh_conn c;
    memset(&c, 0, sizeof c);
    c.local.family = AF_INET;
    vh_err e;
    assert_int_equal(vh_env_build(parent, &c, "svn", "default", env, &e), 0);
}

/* Issue 13 point 4: a locale the jail lacks becomes C. */
static void test_locales(void **s)
{
    (void)s;
    char *parent[] = {
        "LANG=de_DE.UTF-8",     "LC_ALL=", "LC_TIME=de_DE.UTF-8", "LC_CTYPE=sv_SE.ISO-8859-1", "LC_PAPER=POSIX",
        "LC_NUMERIC=../../etc", NULL};
    vh_env env;
    /* an empty jail: every value but the built-in and the empty one is C */
    struct fakejail none = {NULL, 0};
    build_with(parent, &env);
    assert_int_equal(vh_env_locales(&env, fake_exists, &none), 4);
    assert_true(has(&env, "LANG=C"));
    assert_true(has(&env, "LC_ALL="));
    assert_true(has(&env, "LC_TIME=C"));
    assert_true(has(&env, "LC_CTYPE=C"));
    assert_true(has(&env, "LC_PAPER=POSIX"));
    assert_true(has(&env, "LC_NUMERIC=C"));
    assert_int_equal(none.calls, 3 + 3 + 0); /* de_DE: norm, name, archive; sv_SE too; ../ never asked */
    /* the normalised directory, as Debian names it (de_DE.utf8), and the
     * digits-only codeset with "iso" in front (sv_SE.iso88591) */
    const char *dirs[] = {"d:/usr/lib/locale/de_DE.utf8", "d:/usr/lib/locale/sv_SE.iso88591", NULL};
    struct fakejail some = {dirs, 0};
    build_with(parent, &env);
    assert_int_equal(vh_env_locales(&env, fake_exists, &some), 1);
    assert_true(has(&env, "LANG=de_DE.UTF-8"));
    assert_true(has(&env, "LC_TIME=de_DE.UTF-8"));
    assert_true(has(&env, "LC_CTYPE=sv_SE.ISO-8859-1"));
    assert_int_equal(some.calls, 2); /* once per distinct value */
    /* the exact name, and an archive (its content is not read) */
    const char *exact[] = {"d:/usr/lib/locale/de_DE.UTF-8", NULL};
    assert_int_equal(vh_env_locale_present("de_DE.UTF-8", fake_exists, &(struct fakejail){exact, 0}), 1);
    const char *arch[] = {"f:/usr/lib/locale/locale-archive", NULL};
    assert_int_equal(vh_env_locale_present("fr_FR", fake_exists, &(struct fakejail){arch, 0}), 1);
    const char *wrongkind[] = {"d:/usr/lib/locale/locale-archive", "f:/usr/lib/locale/fr_FR", NULL};
    assert_int_equal(vh_env_locale_present("fr_FR", fake_exists, &(struct fakejail){wrongkind, 0}), 0);
    /* the common case costs nothing: no locale variable, or only C/POSIX */
    char *plain[] = {"LANG=C", "LC_ALL=POSIX", "TZ=UTC", NULL};
    struct fakejail count = {NULL, 0};
    build_with(plain, &env);
    assert_int_equal(vh_env_locales(&env, fake_exists, &count), 0);
    assert_int_equal(count.calls, 0);
    /* C.UTF-8 is not built into glibc (2.35+ ships it as data) */
    assert_int_equal(vh_env_locale_present("C.UTF-8", fake_exists, &(struct fakejail){NULL, 0}), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_build), cmocka_unit_test(test_ipv4_proto),
                                       cmocka_unit_test(test_locales)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
