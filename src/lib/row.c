#include "row.h"

#include "exitcodes.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vh_row_groups_parse(const char *text, uint32_t *gids, vh_err *e)
{
    int n = 0;
    const char *p = text;
    if (!*p)
        return 0;
    for (;;) {
        if (n >= VH_MAX_GROUPS)
            return vh_fail(e, VH_EX_CONFIG, "more than %d supplementary groups", VH_MAX_GROUPS);
        if (*p < '0' || *p > '9')
            return vh_fail(e, VH_EX_CONFIG, "bad supplementary group list '%.64s'", text);
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v == 0 || v >= 4294967295ULL || v == 65535 || VH_IN_USERNS_RANGE(v))
            return vh_fail(e, VH_EX_CONFIG,
                           "supplementary group %.20s is not allowed (0, 65535, 4294967295 and the root services' "
                           "user-namespace range %u-%u never are)",
                           p, VH_USERNS_BASE, VH_USERNS_BASE + VH_USERNS_COUNT - 1);
        gids[n++] = (uint32_t)v;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return vh_fail(e, VH_EX_CONFIG, "bad supplementary group list '%.64s'", text);
        p = end + 1;
    }
}

void vh_row_groups_format(const uint32_t *gids, int n, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, i ? ",%u" : "%u", (unsigned)gids[i]);
}

void vh_row_init(vh_row *row)
{
    memset(row, 0, sizeof *row);
    row->enabled = 1;
    row->net_bind_service = 0;
    row->max_procs = VH_MAX_PROCS_DEFAULT;
    row->source_prefix4 = VH_SOURCE_PREFIX4_DEFAULT;
    row->source_prefix6 = VH_SOURCE_PREFIX6_DEFAULT;
}

static int id_ok(uint32_t id)
{
    return id != 0 && id != 65535 && id != 4294967295u && !VH_IN_USERNS_RANGE(id);
}

/* The two settings of sql/002: what the schema's CHECKs say, checked
 * again because a row can be written behind the schema's back
 * (writable_schema, a hand-made file, a damaged index record). */
static int limits_valid(const vh_row *row, vh_err *e)
{
    if (row->net_bind_service != 0 && row->net_bind_service != 1)
        return vh_fail(e, VH_EX_CONFIG,
                       "row %s %s: net_bind_service is not 0 or 1 - vhostctl set %s %s --net-bind-service on|off",
                       row->service, row->address, row->service, row->address);
    if (row->net_bind_service && row->has_user)
        return vh_fail(e, VH_EX_CONFIG,
                       "row %s %s: net_bind_service is set on a run-as row, which has no capabilities - "
                       "vhostctl set %s %s --net-bind-service off",
                       row->service, row->address, row->service, row->address);
    if (row->unjailed != 0 && row->unjailed != 1)
        return vh_fail(e, VH_EX_CONFIG, "row %s %s: unjailed is not 0 or 1 - vhostctl set %s %s --unjailed on|off",
                       row->service, row->address, row->service, row->address);
    if (row->max_procs < 1 || row->max_procs > VH_MAX_PROCS_MAX)
        return vh_fail(e, VH_EX_CONFIG,
                       "row %s %s: max_procs is not a number in 1..%u - vhostctl set %s %s --max-procs N", row->service,
                       row->address, VH_MAX_PROCS_MAX, row->service, row->address);
    if (row->max_instances > VH_ROW_MAX_INSTANCES || row->max_per_source > VH_ROW_MAX_PER_SOURCE ||
        row->source_prefix4 < 8 || row->source_prefix4 > 32 || row->source_prefix6 < 16 || row->source_prefix6 > 128)
        return vh_fail(e, VH_EX_CONFIG,
                       "row %s %s: its limits are out of range (max_instances 0..%u, max_per_source 0..%u, source "
                       "prefixes 8..32 and 16..128) - vhostctl set %s %s --max-instances N --max-per-source N",
                       row->service, row->address, VH_ROW_MAX_INSTANCES, VH_ROW_MAX_PER_SOURCE, row->service,
                       row->address);
    return 0;
}

int vh_row_valid(const vh_row *row, vh_err *e)
{
    vh_err sub;
    if (vh_valid_root(row->root, &sub) < 0)
        return vh_fail(e, VH_EX_CONFIG, "row %s %s: %s", row->service, row->address, sub.msg);
    /* sql/008: a base is a path like a root, never "/" (the host's own
     * /usr bound over the jail's), and only for a jail: on an unjailed
     * row or a root of "/" it would cover the host's directories */
    if (row->base[0]) {
        if (vh_valid_root(row->base, &sub) < 0)
            return vh_fail(e, VH_EX_CONFIG, "row %s %s: its base: %s - vhostctl set %s %s --base DIR|none",
                           row->service, row->address, sub.msg, row->service, row->address);
        if (strcmp(row->base, "/") == 0 || strcmp(row->root, "/") == 0 || row->unjailed == 1)
            return vh_fail(e, VH_EX_CONFIG,
                           "row %s %s: a base (%s) is for a jail: not /, and not on a root of / or an unjailed row "
                           "- vhostctl set %s %s --base none",
                           row->service, row->address, row->base, row->service, row->address);
    }
    if (row->has_user) {
        if (!id_ok(row->uid))
            return vh_fail(e, VH_EX_NOUSER,
                           "row %s %s: run-as uid %u is not allowed (0, 65535, 4294967295 and the root services' "
                           "user-namespace range %u-%u never are) - omit --user for a root service, or give a user "
                           "outside that range",
                           row->service, row->address, (unsigned)row->uid, VH_USERNS_BASE,
                           VH_USERNS_BASE + VH_USERNS_COUNT - 1);
        if (!id_ok(row->gid))
            return vh_fail(e, VH_EX_NOUSER, "row %s %s: run-as gid %u is not allowed", row->service, row->address,
                           (unsigned)row->gid);
        for (int i = 0; i < row->ngroups; i++)
            if (!id_ok(row->groups[i]))
                return vh_fail(e, VH_EX_NOUSER, "row %s %s: supplementary gid %u is not allowed", row->service,
                               row->address, (unsigned)row->groups[i]);
    }
    return limits_valid(row, e);
}

/* Copy a column into a fixed buffer; a value that does not fit is
 * refused, never cut: a hand-written root longer than PATH_MAX cut short
 * would name another directory. 0 or -1. */
static int copy_text(const char *t, char *out, size_t n)
{
    size_t len = t ? strlen(t) : 0;
    if (len >= n)
        return -1;
    memcpy(out, t ? t : "", len + 1);
    return 0;
}

/* net_bind_service and max_procs (sql/002), unjailed (sql/003), the
 * limits (sql/005): SQL
 * integers, taken only when they fit (no narrowing turns a bad value
 * into a good one), then limits_valid. */
static int limits_from_cols(const int type[VH_ROW_NCOLS], const int64_t ival[VH_ROW_NCOLS], vh_row *row, vh_err *e)
{
    row->net_bind_service = -1;
    row->max_procs = 0;
    row->unjailed = -1;
    int64_t nbs = ival[VH_ROW_COL_NET_BIND_SERVICE], procs = ival[VH_ROW_COL_MAX_PROCS];
    int64_t unj = ival[VH_ROW_COL_UNJAILED];
    if (type[VH_ROW_COL_UNJAILED] == SQLITE_INTEGER && (unj == 0 || unj == 1))
        row->unjailed = (int)unj;
    if (type[VH_ROW_COL_NET_BIND_SERVICE] == SQLITE_INTEGER && (nbs == 0 || nbs == 1))
        row->net_bind_service = (int)nbs;
    if (type[VH_ROW_COL_MAX_PROCS] == SQLITE_INTEGER && procs >= 1 && procs <= (int64_t)VH_MAX_PROCS_MAX)
        row->max_procs = (uint32_t)procs;
    /* sql/005: a value out of range (or not an integer) becomes one
     * limits_valid refuses, never a default */
    static const int col[4] = {VH_ROW_COL_MAX_INSTANCES, VH_ROW_COL_MAX_PER_SOURCE, VH_ROW_COL_SOURCE_PREFIX4,
                               VH_ROW_COL_SOURCE_PREFIX6};
    uint32_t v[4];
    for (int i = 0; i < 4; i++)
        v[i] = type[col[i]] == SQLITE_INTEGER && ival[col[i]] >= 0 && ival[col[i]] <= 4096 ? (uint32_t)ival[col[i]]
                                                                                           : UINT32_MAX;
    row->max_instances = v[0];
    row->max_per_source = v[1];
    row->source_prefix4 = v[2];
    row->source_prefix6 = v[3];
    return limits_valid(row, e);
}

int vh_row_from_cols(const char *const text[VH_ROW_NCOLS], const int type[VH_ROW_NCOLS],
                     const int64_t ival[VH_ROW_NCOLS], vh_row *row, vh_err *e)
{
    memset(row, 0, sizeof *row);
    static const char *const names[5] = {"service", "address", "root", "user", "group"};
    char *const out[5] = {row->service, row->address, row->root, row->user, row->group};
    const size_t size[5] = {sizeof row->service, sizeof row->address, sizeof row->root, sizeof row->user,
                            sizeof row->group};
    for (int i = 0; i < 5; i++)
        if (copy_text(text[i], out[i], size[i]) < 0) {
            memset(row, 0, sizeof *row);
            return vh_fail(e, VH_EX_CONFIG,
                           "a row's %s is %zu bytes, longer than the %zu this program takes - refusing it; remove the "
                           "row and add it again with vhostctl",
                           names[i], strlen(text[i]), size[i] - 1);
        }
    row->has_user = type[VH_ROW_COL_USER] != SQLITE_NULL;
    if (row->has_user) {
        int64_t uid = ival[VH_ROW_COL_UID], gid = ival[VH_ROW_COL_GID];
        if (type[VH_ROW_COL_UID] != SQLITE_INTEGER || type[VH_ROW_COL_GID] != SQLITE_INTEGER || uid <= 0 ||
            uid >= 4294967295LL || gid <= 0 || gid >= 4294967295LL)
            return vh_fail(e, VH_EX_CONFIG,
                           "row %s %s: run-as uid/gid are not valid numbers - store them again "
                           "(vhostctl set %s %s --user NAME)",
                           row->service, row->address, row->service, row->address);
        row->uid = (uint32_t)uid;
        row->gid = (uint32_t)gid;
        int n = vh_row_groups_parse(text[VH_ROW_COL_GROUPS] ? text[VH_ROW_COL_GROUPS] : "", row->groups, e);
        if (n < 0)
            return -1;
        row->ngroups = n;
    }
    row->enabled = (int)ival[VH_ROW_COL_ENABLED];
    /* sql/008: NULL is no base; anything else must be a text that fits
     * (never cut, never taken as no base) and vh_row_valid checks it */
    if (type[VH_ROW_COL_BASE] != SQLITE_NULL &&
        (type[VH_ROW_COL_BASE] != SQLITE_TEXT || !text[VH_ROW_COL_BASE] || !text[VH_ROW_COL_BASE][0] ||
         copy_text(text[VH_ROW_COL_BASE], row->base, sizeof row->base) < 0))
        return vh_fail(e, VH_EX_CONFIG,
                       "row %s %s: its base is not a path this program takes - refusing it; vhostctl set %s %s "
                       "--base DIR|none",
                       row->service, row->address, row->service, row->address);
    return limits_from_cols(type, ival, row, e);
}

int vh_row_userns(const vh_row *row)
{
    return !row->has_user && !row->net_bind_service && row->unjailed != 1 && strcmp(row->root, "/") != 0;
}
