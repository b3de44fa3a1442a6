/* exitcodes.c - the exit-code table in help texts. */
#include "exitcodes.h"

#include <string.h>

struct entry {
    int code;
    const char *meaning[2];
};

static const struct entry table[] = {
#define VH_EXIT_ENTRY(name, code, vd, vc) {code, {vd, vc}},
    VH_EXIT_TABLE(VH_EXIT_ENTRY)
#undef VH_EXIT_ENTRY
};

void vh_exit_help(FILE *f, enum vh_prog prog)
{
    const char *lead = "Exit status: ";
    size_t col = strlen(lead);
    int first = 1;
    fputs(lead, f);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *m = table[i].meaning[prog];
        if (!m)
            continue;
        char item[128];
        int n = snprintf(item, sizeof item, "%s%d %s", first ? "" : ", ", table[i].code, m);
        if (n < 0)
            continue;
        if (!first && col + (size_t)n > 78) {
            fputs(",\n", f);
            col = 0;
            n = snprintf(item, sizeof item, "%d %s", table[i].code, m);
        }
        fputs(item, f);
        col += (size_t)n;
        first = 0;
    }
    fputs(".\n", f);
}
