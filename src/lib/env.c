#include "env.h"

#include "exitcodes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int add(vh_env *env, vh_err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int add(vh_env *env, vh_err *e, const char *fmt, ...)
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
