#include "ident.h"

#include "exitcodes.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad_id(uint32_t id)
{
    return id == 0 || id == 65535 || id == 4294967295u || VH_IN_USERNS_RANGE(id);
}

int vh_ident_resolve(const char *user, const char *group, vh_row *row, vh_err *e)
{
    char buf[16384], shown[VH_NAME_MAX * 4];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;

    vh_printable(user, shown, sizeof shown);
    if (!*user)
        return vh_fail(e, VH_EX_NOUSER, "empty user name - give an existing user, or omit --user for a root service");
    int rc = getpwnam_r(user, &pw, buf, sizeof buf, &pwp);
    if (rc != 0 || !pwp)
        return vh_fail(e, VH_EX_NOUSER,
                       "unknown user '%s' on this host - create it (useradd --system %s) or name an existing one",
                       shown, shown);
    if (pw.pw_uid == 0)
        return vh_fail(e, VH_EX_NOUSER,
                       "user '%s' is uid 0 - omit --user to run the service as root inside its own mount namespace",
                       shown);
    if (bad_id(pw.pw_uid))
        return vh_fail(e, VH_EX_NOUSER,
                       "user '%s' has uid %u, which cannot be a run-as user (0, 65535, 4294967295 and the root "
                       "services' user-namespace range %u-%u never are)",
                       shown, (unsigned)pw.pw_uid, VH_USERNS_BASE, VH_USERNS_BASE + VH_USERNS_COUNT - 1);
    snprintf(row->user, sizeof row->user, "%s", pw.pw_name);
    row->uid = pw.pw_uid;
    gid_t gid = pw.pw_gid;

    if (group) {
        char gshown[VH_NAME_MAX * 4];
        vh_printable(group, gshown, sizeof gshown);
        rc = getgrnam_r(group, &gr, buf, sizeof buf, &grp);
        if (rc != 0 || !grp)
            return vh_fail(e, VH_EX_NOUSER,
                           "unknown group '%s' on this host - create it (groupadd --system %s) or name an existing one",
                           gshown, gshown);
        gid = gr.gr_gid;
        snprintf(row->group, sizeof row->group, "%s", gr.gr_name);
    } else {
        rc = getgrgid_r(gid, &gr, buf, sizeof buf, &grp);
        if (rc == 0 && grp)
            snprintf(row->group, sizeof row->group, "%s", gr.gr_name);
        else
            snprintf(row->group, sizeof row->group, "%u", (unsigned)gid);
    }
    if (gid == 0)
        return vh_fail(e, VH_EX_NOUSER, "group '%s' is gid 0 - choose an unprivileged group with --group", row->group);
    if (bad_id(gid))
        return vh_fail(e, VH_EX_NOUSER, "group '%s' has gid %u, which cannot be a run-as group", row->group,
                       (unsigned)gid);
    row->gid = gid;

    /* Supplementary groups: the user's own on the host, nothing else (B2). */
    gid_t list[VH_MAX_GROUPS + 1];
    int n = VH_MAX_GROUPS + 1;
    if (getgrouplist(user, gid, list, &n) < 0)
        return vh_fail(e, VH_EX_NOUSER, "user '%s' is in more than %d groups - trim its memberships", shown,
                       VH_MAX_GROUPS);
    row->ngroups = 0;
    for (int i = 0; i < n; i++) {
        if (list[i] == 0)
            return vh_fail(e, VH_EX_NOUSER,
                           "user '%s' is a member of group 0 (root) - remove it from that group (gpasswd -d %s root)",
                           shown, shown);
        if (bad_id(list[i]))
            return vh_fail(e, VH_EX_NOUSER, "user '%s' is in group %u, which is not allowed", shown, (unsigned)list[i]);
        int dup = 0;
        for (int k = 0; k < row->ngroups; k++)
            dup |= row->groups[k] == list[i];
        if (!dup && row->ngroups < VH_MAX_GROUPS)
            row->groups[row->ngroups++] = list[i];
    }
    row->has_user = 1;
    return 0;
}
