/* priv.h - dropping privileges and capabilities.
 *
 * The order is fixed and each step is fatal on failure (THREATS B1, B6):
 *   vh_priv_set_groups (setgroups, setresgid)   - before the jail
 *   enter the jail (jail.h)
 *   vh_priv_caps_limit (bounding set, inheritable, ambient)
 *   vh_priv_no_new_privs
 *   vh_priv_set_uid (setresuid, then prove root cannot come back)
 */
#ifndef VH_PRIV_H
#define VH_PRIV_H

#include "vherr.h"

#include <stdint.h>

/* setgroups(n, groups) then setresgid(gid, gid, gid). n may be 0. */
int vh_priv_set_groups(uint32_t gid, const uint32_t *groups, int n, vh_err *e);

/* setresuid(uid, uid, uid), then check that real, effective and saved
 * ids are all uid and gid, and that setuid(0), setgid(0) and
 * setgroups(0 groups) all fail (OpenSSH permanently_set_uid, B3). */
int vh_priv_set_uid(uint32_t uid, uint32_t gid, vh_err *e);

/* The capabilities a root service keeps in its bounding set: an
 * allow-list (THREATS K5; priv.c says why each one). CAP_NET_BIND_SERVICE
 * is not in it: it is kept only for rows that allow it. */
extern const int vh_priv_caps_root_keep[];
extern const int vh_priv_caps_root_keep_count;

/* 1 when a root service keeps capability cap, 0 when it is dropped. */
int vh_priv_caps_root_keeps(int cap, int net_bind_service);

enum vh_caps_kind {
    VH_CAPS_NONE = 0,          /* run-as user: an empty bounding set */
    VH_CAPS_ROOT = 1,          /* root service: vh_priv_caps_root_keep only */
    VH_CAPS_ROOT_NET_BIND = 2, /* ... and CAP_NET_BIND_SERVICE */
};

/* Drop from the bounding set every capability the running kernel knows
 * except those kind keeps; clear the inheritable and ambient sets (B5,
 * K5). Needs CAP_SETPCAP. */
int vh_priv_caps_limit(int kind, vh_err *e);

/* prctl(PR_SET_NO_NEW_PRIVS): set-uid files and file capabilities in the
 * jail give nothing (A6). */
int vh_priv_no_new_privs(vh_err *e);

/* The highest capability number the running kernel knows. */
int vh_priv_caps_last(void);

#endif
