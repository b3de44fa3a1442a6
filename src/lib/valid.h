/* valid.h - validation of names and paths given by operators and files. */
#ifndef VH_VALID_H
#define VH_VALID_H

#include "err.h"

#define VH_SERVICE_MAX 64      /* longest service name, bytes */
#define VH_SERVICE_ANY "*"     /* the row serves every service */

/* A service name as in inetd.conf's first column: 1-64 bytes of letters,
 * digits and . _ + -, starting with a letter or digit; or "*" when
 * allow_any. Returns 0 or -1 (VH_EX_DATAERR). */
int vh_service_valid(const char *s, int allow_any, vh_err *e);

/* A jail root: absolute, at most PATH_MAX-1 bytes, no empty, "." or ".."
 * component, no trailing slash (except "/" itself), no control bytes.
 * Returns 0 or -1 (VH_EX_DATAERR) naming the fault and the fix. */
int vh_root_valid(const char *path, vh_err *e);

#endif
