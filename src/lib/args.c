#include "args.h"

#include <string.h>

int vh_args_split(int argc, char *const *argv)
{
    int i = 1;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return i + 1 < argc ? i + 1 : argc;
        if (a[0] != '-' || a[1] == '\0')
            return i;
        if (strcmp(a, "--db") == 0 || strcmp(a, "--pids-cgroup") == 0 || strcmp(a, "--proxy") == 0 ||
            strcmp(a, "--first-bytes-timeout") == 0)
            i += 2; /* the value may look like anything */
        else
            i += 1;
    }
    return argc;
}
