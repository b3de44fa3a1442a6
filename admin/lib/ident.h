/* ident.h - run-as identities, resolved from the host's user database at
 * admin time (vhostctl), stored as numbers so that virtuald never asks
 * NSS per connection and never reads the jail's /etc/passwd (A10). */
#ifndef VH_IDENT_H
#define VH_IDENT_H

#include "row.h"
#include "vherr.h"

/* Resolve user (required) and group (NULL: the user's primary group)
 * into row->user, group, uid, gid, groups (the user's supplementary
 * groups from the host). Refuses unknown names, uid 0 or gid 0 (a root
 * service is a row without user), 65535 and -1 (B4), and membership in
 * group 0. Sets row->has_user. Returns 0 or -1 (VH_EX_NOUSER). */
int vh_ident_resolve(const char *user, const char *group, vh_row *row, vh_err *e);

#endif
