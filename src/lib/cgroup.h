/* cgroup.h - a root service's process count bounded per domain (THREATS
 * K10).
 *
 * RLIMIT_NPROC never limits uid 0, so a root service's fork bomb is
 * bounded by nothing else: each domain's service trees run in one pids
 * cgroup, "DIR/NAME", whose pids.max the kernel enforces for every uid.
 *
 * DIR (--pids-cgroup) must pass the jail trust rules (vh_path_trust:
 * every component root-owned, not writable by group or others, no
 * symlink), so a local user can neither pre-create a domain's group nor
 * move one. When DIR is missing and its parent is a cgroup directory,
 * DIR is created (mode 0755). Works on cgroup v1 (a hierarchy with the
 * pids controller) and v2 (pids enabled in DIR's cgroup.subtree_control,
 * done here when missing; pids is a threaded controller, so DIR may hold
 * processes itself, e.g. a super-server in its own delegated unit).
 *
 * NAME is "vh-" HEX(service) "-" HEX(address) of the domain's row, lower
 * case: only [0-9a-f-], so it can hold no "/", no "..", and never names
 * a control file ("pids.max", "tasks", ...) nor another domain's group.
 *
 * Use: the waiting parent calls vh_cgroup_open before it leaves the
 * host's mount namespace (it creates the group, sets its limit and opens
 * its cgroup.procs: every later step works on descriptors, and nothing is
 * opened between jail entry and exec, THREATS A10), the child that
 * becomes the service tree calls vh_cgroup_enter (moves in; its children
 * inherit the group), the parent calls vh_cgroup_leave once the tree is
 * gone, or on any refusal after open. The parent itself never enters: on cgroup v2 it
 * could not move back into DIR once DIR distributes pids to populated
 * groups.
 */
#ifndef VH_CGROUP_H
#define VH_CGROUP_H

#include "paths.h"
#include "vherr.h"

#include <stdint.h>

/* VH_CGROUP_DEFAULT_DIR: paths.h */
#define VH_CGROUP_DEFAULT_MAX 1024u
#define VH_CGROUP_NAME_MAX 255

typedef struct vh_cgroup_cfg {
    const char *dir; /* parent group; NULL: VH_CGROUP_DEFAULT_DIR */
} vh_cgroup_cfg;

typedef struct vh_cgroup {
    int dir_fd;         /* O_PATH descriptor of DIR, -1 when closed */
    int procs_fd;       /* NAME/cgroup.procs for writing, -1 when closed */
    int v2;             /* DIR is on cgroup v2 */
    uint32_t max_procs; /* pids.max written into NAME */
    char name[VH_CGROUP_NAME_MAX + 1];
    char dir[4096]; /* for messages */
} vh_cgroup;

/* The group's name for a domain key into out (size n >= 256), also the
 * domain's running file's (running.h): "vh-", the service in hex, "-",
 * then the key in hex, or for a host-name or wildcard key "n" and the
 * key itself. Returns 0 or -1 (VH_EX_SOFTWARE) when it would not fit a
 * file name (vhostctl add refuses such a key). */
int vh_cgroup_name(const char *service, const char *address, char *out, size_t n, vh_err *e);

/* Trust DIR (creating it below a cgroup directory when missing), check
 * that the pids controller reaches its children (v2: enable it), create
 * the domain's group (EEXIST: another connection's, accepted only when
 * root's and not writable by others), write its pids.max = max_procs (1
 * or more) and open its cgroup.procs. Moves nobody. Returns 0, or -1
 * with e filled: VH_EX_CONFIG when DIR is missing, untrusted, no cgroup
 * or without the pids controller, or the group is not root's (the
 * message names the remedy), VH_EX_OSERR when a system call fails. On
 * -1, cg holds no descriptor. */
int vh_cgroup_open(const vh_cgroup_cfg *cfg, const char *service, const char *address, uint32_t max_procs,
                   vh_cgroup *cg, vh_err *e);

/* Move the calling process into the domain's group. Another connection's
 * vh_cgroup_leave may have removed the group since vh_cgroup_open: then
 * it is created again with its limit (bounded retries, descriptors
 * only), so the caller is never left outside. Closes every descriptor cg holds, on
 * success and on failure: a service must never hold one of the
 * hierarchy (it could move itself out). Returns 0 or -1 with e filled. */
int vh_cgroup_enter(vh_cgroup *cg, vh_err *e);

/* Remove the domain's group unless another connection's processes still
 * use it (EBUSY: the last one out removes it), then close cg's
 * descriptors. Never fails: a group left behind is removed by the
 * domain's next connection's leave. */
void vh_cgroup_leave(vh_cgroup *cg);

/* Close cg's descriptors without removing anything. */
void vh_cgroup_close(vh_cgroup *cg);

#endif
