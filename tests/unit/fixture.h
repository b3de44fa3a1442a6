/* fixture.h - a root-owned 0755 fixture directory for unit tests that
 * touch the file system (the trust rules hold in tests too). Header-only
 * helpers, static: each test program includes it once. */
#ifndef VH_TEST_FIXTURE_H
#define VH_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fx_dir[256];

/* Create /run/vhtest/unit-NAME.PID (0755). Returns 0 or -1 (not root). */
static int fx_setup(const char *name)
{
    if (geteuid() != 0)
        return -1;
    mkdir("/run/vhtest", 0755);
    chmod("/run/vhtest", 0755);
    snprintf(fx_dir, sizeof fx_dir, "/run/vhtest/unit-%s.%d", name, (int)getpid());
    if (mkdir(fx_dir, 0755) < 0)
        return -1;
    chmod(fx_dir, 0755);
    return 0;
}

static void fx_teardown(void)
{
    char cmd[300];
    if (!fx_dir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fx_dir);
}

/* fx_path("a/b") -> "<fixture>/a/b" in a static buffer (one at a time). */
static const char *fx_path(const char *rel)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", fx_dir, rel);
    return buf[i];
}

#endif
