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

/* put_words: write "CODE MEANING" word by word from column *col, starting
 * a new line before a word that would pass column 78 - never before the
 * second word, so that a code does not end a line (test_docs reads the
 * codes as a number followed by a space). */
static void put_words(FILE *f, const char *text, size_t *col)
{
    int words = 0;
    for (const char *w = text + strspn(text, " "); *w; w += strspn(w, " ")) {
        size_t n = strcspn(w, " ");
        if (words++ > 1 && *col + 1 + n > 78) {
            fputc('\n', f);
            *col = 0;
        } else if (words > 1) {
            fputc(' ', f);
            (*col)++;
        }
        fwrite(w, 1, n, f);
        *col += n;
        w += n;
    }
}

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
        char item[160];
        int n = snprintf(item, sizeof item, "%d %s", table[i].code, m);
        if (n < 0 || (size_t)n >= sizeof item)
            continue;
        /* an entry starts a line of its own when it does not fit whole
         * after the last; one longer than a line wraps between words */
        if (!first && col + 2 + (size_t)n > 78) {
            fputs(",\n", f);
            col = 0;
        } else if (!first) {
            fputs(", ", f);
            col += 2;
        }
        put_words(f, item, &col);
        first = 0;
    }
    fputs(".\n", f);
}
