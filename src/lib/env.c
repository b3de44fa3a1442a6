#include "env.h"

#include "exitcodes.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define add vh_env_add

int vh_env_add(vh_env *env, vh_err *e, const char *fmt, ...)
{
    if (env->n >= VH_ENV_MAX - 1)
        return vh_fail(e, VH_EX_SOFTWARE, "too many environment variables");
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(env->buf + env->used, sizeof env->buf - env->used, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof env->buf - env->used)
        return vh_fail(e, VH_EX_SOFTWARE, "environment too large");
    env->vars[env->n++] = env->buf + env->used;
    env->vars[env->n] = NULL;
    env->used += (size_t)len + 1;
    return 0;
}

static int allowed_name(const char *kv)
{
    return strncmp(kv, "TZ=", 3) == 0 || strncmp(kv, "LANG=", 5) == 0 ||
           (strncmp(kv, "LC_", 3) == 0 && strchr(kv, '='));
}

static int clean_value(const char *kv)
{
    size_t n = 0;
    for (const char *p = kv; *p; p++, n++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || n > 256)
            return 0;
    return 1;
}

int vh_env_build(char *const *parent, const vh_conn *c, const char *service, const char *row_address, vh_env *out,
                 vh_err *e)
{
    memset(out, 0, sizeof *out);
    int lc_count = 0;
    for (char *const *p = parent; p && *p; p++) {
        if (!allowed_name(*p) || !clean_value(*p))
            continue;
        if (strncmp(*p, "LC_", 3) == 0 && ++lc_count > 16)
            continue;
        if (add(out, e, "%s", *p) < 0)
            return -1;
    }
    if (add(out, e, "PATH=%s", VH_SAFE_PATH) < 0 ||
        add(out, e, "PROTO=%s", c->local.family == AF_INET6 ? "TCP6" : "TCP") < 0 ||
        add(out, e, "TCPLOCALIP=%s", c->local.text) < 0 || add(out, e, "TCPLOCALPORT=%u", c->local.port) < 0 ||
        add(out, e, "TCPREMOTEIP=%s", c->remote.text) < 0 || add(out, e, "TCPREMOTEPORT=%u", c->remote.port) < 0 ||
        add(out, e, "VIRTUALD_SERVICE=%s", service) < 0 || add(out, e, "VIRTUALD_ADDRESS=%s", row_address) < 0)
        return -1;
    return 0;
}

/* ---- locales ----------------------------------------------------------- */

static int builtin_locale(const char *v)
{
    return strcmp(v, "C") == 0 || strcmp(v, "POSIX") == 0;
}

/* glibc's _nl_normalize_codeset: the codeset lower-cased, only letters
 * and digits kept, "iso" in front when only digits remain. "" when the
 * value has no codeset, or it is already normal. */
static void normalised(const char *v, char *out, size_t n)
{
    out[0] = '\0';
    const char *dot = strchr(v, '.');
    if (!dot)
        return;
    const char *end = strchr(dot, '@');
    size_t clen = end ? (size_t)(end - dot - 1) : strlen(dot + 1);
    char cs[64];
    size_t k = 0;
    int letters = 0;
    for (size_t i = 0; i < clen && k + 4 < sizeof cs; i++) {
        unsigned char ch = (unsigned char)dot[1 + i];
        if (isalpha(ch)) {
            cs[k++] = (char)tolower(ch);
            letters = 1;
        } else if (isdigit(ch)) {
            cs[k++] = (char)ch;
        }
    }
    cs[k] = '\0';
    int len = snprintf(out, n, "%.*s.%s%s%s", (int)(dot - v), v, letters ? "" : "iso", cs, end ? end : "");
    if (len < 0 || (size_t)len >= n || strcmp(out, v) == 0)
        out[0] = '\0';
}

int vh_env_locale_present(const char *value, vh_env_exists_fn exists, void *ctx)
{
    if (builtin_locale(value))
        return 1;
    size_t len = strlen(value);
    if (len == 0 || len > 128 || strchr(value, '/') || strstr(value, ".."))
        return 0;
    char path[sizeof VH_LOCALE_DIR + 2 * 128 + 8], norm[2 * 128];
    normalised(value, norm, sizeof norm);
    /* the normalised name first: it is how localedef and Debian name the
     * directories (C.utf8, de_DE.utf8) */
    if (norm[0]) {
        snprintf(path, sizeof path, VH_LOCALE_DIR "/%s", norm);
        if (exists(ctx, path, 1))
            return 1;
    }
    snprintf(path, sizeof path, VH_LOCALE_DIR "/%s", value);
    if (exists(ctx, path, 1))
        return 1;
    return exists(ctx, VH_LOCALE_DIR "/locale-archive", 0);
}

static int locale_var(const char *kv)
{
    return strncmp(kv, "LANG=", 5) == 0 || strncmp(kv, "LC_", 3) == 0;
}

int vh_env_locales(vh_env *env, vh_env_exists_fn exists, void *ctx)
{
    /* First every answer, then the rewrites: while answering, the
     * earlier values are still intact and a repeated one is asked once. */
    signed char keep[VH_ENV_MAX];
    for (int i = 0; i < env->n; i++) {
        keep[i] = 1;
        const char *kv = env->vars[i];
        if (!locale_var(kv))
            continue;
        const char *v = strchr(kv, '=') + 1;
        if (!*v || builtin_locale(v))
            continue;
        int k = 0;
        while (k < i && !(locale_var(env->vars[k]) && strcmp(strchr(env->vars[k], '=') + 1, v) == 0))
            k++;
        keep[i] = k < i ? keep[k] : (signed char)vh_env_locale_present(v, exists, ctx);
    }
    int rewritten = 0;
    for (int i = 0; i < env->n; i++) {
        if (keep[i])
            continue;
        /* "C" is no longer than the value it replaces: in place */
        char *v = strchr(env->vars[i], '=') + 1;
        v[0] = 'C';
        v[1] = '\0';
        rewritten++;
    }
    return rewritten;
}
