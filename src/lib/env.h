/* env.h - the service's environment, rebuilt from nothing (THREATS C1). */
#ifndef VH_ENV_H
#define VH_ENV_H

#include "addr.h"
#include "vherr.h"

#define VH_SAFE_PATH "/usr/local/bin:/usr/bin:/bin"
#define VH_ENV_MAX 48     /* entries, including the final NULL */
#define VH_ENV_BYTES 8192 /* storage for all entries */

typedef struct vh_env {
    char *vars[VH_ENV_MAX]; /* NULL-terminated, points into buf */
    int n;
    char buf[VH_ENV_BYTES];
    size_t used;
} vh_env;

/* Build the service environment: from parent only TZ, LANG and LC_*
 * (each at most 256 bytes of printable ASCII, else dropped), PATH fixed
 * to VH_SAFE_PATH, then the ucspi-tcp variables PROTO (TCP or TCP6),
 * TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT computed from c,
 * and VIRTUALD_SERVICE and VIRTUALD_ADDRESS (the matched row's address).
 * Nothing else: not LD_*, not the super-server's TCPREMOTEHOST (C2).
 * Returns 0 or -1. */
int vh_env_build(char *const *parent, const vh_conn *c, const char *service, const char *row_address, vh_env *out,
                 vh_err *e);

/* Append one NAME=VALUE (printf format) to env. 0, or -1 when env is
 * full. The caller vouches for the value (the PROXY variables of
 * virtuald: addresses, ports, hex). */
int vh_env_add(vh_env *env, vh_err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- locales (issue 13 point 4) ----------------------------------------
 * A LANG or LC_* value naming a locale the jail does not have makes
 * glibc programs warn on stderr - the socket under a super-server. So
 * such a value reaches the service as "C" instead. "The jail has it":
 * the value is C or POSIX (built into the C library), or the jail holds
 * /usr/lib/locale/NAME/ (NAME the value itself or with its codeset
 * normalised as glibc does, UTF-8 -> utf8), or a locale archive
 * /usr/lib/locale/locale-archive (whose content is not read: it is the
 * tenant's file, and reading it as root per connection is what we
 * avoid). Only existence is asked, never a file opened (THREATS C3). */

#define VH_LOCALE_DIR "/usr/lib/locale"

/* How the caller asks whether path (absolute, inside the jail) exists:
 * want_dir 1 a directory, 0 a regular file. Returns 1 yes, 0 no. */
typedef int (*vh_env_exists_fn)(void *ctx, const char *path, int want_dir);

/* 1 when the locale named by value is in the jail (as above), else 0.
 * Values with '/' or "..", longer than 128 bytes or empty count as not
 * there. exists is not called for C and POSIX. */
int vh_env_locale_present(const char *value, vh_env_exists_fn exists, void *ctx);

/* Rewrite, in place, every LANG and LC_* of env whose locale is not in
 * the jail to "C"; an empty value is left as it is (it means unset).
 * Costs nothing when there is no such variable or every value is C or
 * POSIX; else one exists() answer per distinct value (at most 3
 * calls each). Returns how many were rewritten. */
int vh_env_locales(vh_env *env, vh_env_exists_fn exists, void *ctx);

#endif
