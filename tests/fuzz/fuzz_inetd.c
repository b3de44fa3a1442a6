/* fuzz_inetd - libFuzzer target for the inetd.conf scanner and converter.
 *
 * Checks, aborting when one breaks:
 * - without a valid legacy entry the conversion is the input, byte for
 *   byte;
 * - converting is idempotent, and the converted text has no legacy entry
 *   left: each one became an entry in the new form;
 * - the same holds with a --db argument. */
#include "inetd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int out(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

static char *convert(const char *buf, size_t len, const char *db, size_t *olen)
{
    char *r = NULL;
    FILE *f = open_memstream(&r, olen);
    vh_err e;
    if (!f || vh_inetd_convert(buf, len, NULL, db, out, f, &e) < 0)
        abort();
    fclose(f);
    return r;
}

static void check(const char *buf, size_t len, const char *db)
{
    vh_inetd_stats st, st2;
    vh_err e;
    if (vh_inetd_scan(buf, len, NULL, NULL, &st, &e) < 0)
        abort();
    size_t n1, n2;
    char *c1 = convert(buf, len, db, &n1);
    if (!st.legacy && (n1 != len || memcmp(c1, buf, len) != 0))
        abort();
    if (vh_inetd_scan(c1, n1, NULL, NULL, &st2, &e) < 0)
        abort();
    if (st2.legacy != 0 || st2.converted != st.converted + st.legacy)
        abort();
    char *c2 = convert(c1, n1, db, &n2);
    if (n1 != n2 || memcmp(c1, c2, n1) != 0)
        abort();
    free(c1);
    free(c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size, NULL);
    check((const char *)data, size, "/var/lib/vh/x.db");
    return 0;
}
