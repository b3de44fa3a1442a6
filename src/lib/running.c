#include "running.h"

#include "cgroup.h"
#include "exitcodes.h"
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vh_running_name(const char *service, const char *address, char *out, size_t n, vh_err *e)
{
    return vh_cgroup_name(service, address, out, n, e);
}

/* First connection after boot: the directories. Only root can create in
 * /run, so nobody else can have made them. */
static int make_dirs(vh_err *e)
{
    if (mkdir(VH_RUNNING_PARENT, 0755) < 0 && errno != EEXIST)
        return vh_fail(e, VH_EX_OSERR, "cannot create %s: %s", VH_RUNNING_PARENT, strerror(errno));
    if (mkdir(VH_RUNNING_DIR, 0700) < 0 && errno != EEXIST)
        return vh_fail(e, VH_EX_OSERR, "cannot create %s: %s", VH_RUNNING_DIR, strerror(errno));
    return 0;
}

int vh_running_open(const char *service, const char *address, vh_err *e)
{
    char name[VH_CGROUP_NAME_MAX + 1], path[sizeof VH_RUNNING_DIR + VH_CGROUP_NAME_MAX + 1];
    if (vh_running_name(service, address, name, sizeof name, e) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", VH_RUNNING_DIR, name);
    for (int round = 0;; round++) {
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
        if (fd >= 0)
            return fd;
        if (errno != ENOENT || round > 0)
            return vh_fail(e, VH_EX_OSERR, "cannot open %s: %s", path, strerror(errno));
        if (make_dirs(e) < 0)
            return -1;
    }
}
