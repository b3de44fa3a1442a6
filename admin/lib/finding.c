#include "finding.h"

#include <string.h>

const char *vh_finding_severity_name(enum vh_severity s)
{
    return s == VH_SEV_ERROR ? "error" : "warning";
}

char *vh_finding_split_remedy(char *msg)
{
    char *last = NULL;
    for (char *p = strstr(msg, " - "); p; p = strstr(p + 1, " - "))
        last = p;
    if (!last)
        return NULL;
    *last = '\0';
    return last + 3;
}
