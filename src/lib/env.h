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

#endif
