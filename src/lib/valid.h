/* valid.h - validation of names and paths given by operators and files. */
#ifndef VH_VALID_H
#define VH_VALID_H

#include "vherr.h"

#include <stdint.h>

#define VH_SERVICE_MAX 64          /* longest service name, bytes */
#define VH_SERVICE_ANY "*"         /* the row serves every service */
#define VH_MAX_PROCS_DEFAULT 1024u /* a domain's process bound unless set (sql/002) */
#define VH_MAX_PROCS_MAX 4194304u  /* the kernel's PID_MAX_LIMIT on 64-bit */
/* sql/005 (issue 16): the limits' ranges, as the schema's CHECKs */
#define VH_ROW_MAX_INSTANCES 4096u
#define VH_ROW_MAX_PER_SOURCE 64u
#define VH_SOURCE_PREFIX4_DEFAULT 32u
#define VH_SOURCE_PREFIX6_DEFAULT 64u

/* A service name as in inetd.conf's first column: 1-64 bytes of letters,
 * digits and . _ + -, starting with a letter or digit; or "*" when
 * allow_any. Returns 0 or -1 (VH_EX_DATAERR). */
int vh_valid_service(const char *s, int allow_any, vh_err *e);

/* A jail root: absolute, at most PATH_MAX-1 bytes, no empty, "." or ".."
 * component, no trailing slash (except "/" itself), no control bytes.
 * Returns 0 or -1 (VH_EX_DATAERR) naming the fault and the fix. */
int vh_valid_root(const char *path, vh_err *e);

/* The same rules for any absolute path (the database, a cgroup
 * directory), named "path" in the messages, never "jail directory". */
int vh_valid_path(const char *path, vh_err *e);

/* A domain's process bound as an operator writes it: decimal digits only,
 * 1..VH_MAX_PROCS_MAX. Returns 0 with *out set, or -1 (VH_EX_DATAERR)
 * naming the value and the range. */
int vh_valid_max_procs(const char *text, uint32_t *out, vh_err *e);

#endif
