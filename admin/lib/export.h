/* export.h - a service's rows out of the database in the legacy flat
 * format (import.h reads it back). */
#ifndef VH_EXPORT_H
#define VH_EXPORT_H

#include "vherr.h"

#include <stdio.h>

typedef struct sqlite3 sqlite3;

typedef struct vh_export_stats {
    unsigned long rows;      /* rows written as ADDRESS DIRECTORY lines */
    unsigned long disabled;  /* written as '# disabled: ' comments */
    unsigned long with_user; /* rows with a run-as user (not expressible) */
    unsigned long settings;  /* rows with net_bind_service or max_procs not the default (not expressible) */
    unsigned long bad;       /* rows the format cannot hold: commented out */
    unsigned long unjailed;  /* rows marked unjailed (issue 13): written, the
                                mark not expressible; import refuses them
                                without --unjailed */
    unsigned long skipped;   /* rows whose key is no address and not 'default'
                                (a prefix, issue 15): not written at all - the
                                legacy format and import are address-only */
    unsigned long based;     /* rows with a base (sql/008): written, the base
                                not expressible */
} vh_export_stats;

/* Write the service's rows in the flat format: a comment line, then one
 * line per row, exact addresses first and 'default' last, so that the
 * legacy first-match rule and PRODUCT §3 agree. What the format cannot
 * express becomes a comment, counted in st (the caller says so): a
 * disabled row (never silently re-enabled by an import), a directory the
 * parser would read differently (trailing blank). A row whose key the
 * format cannot hold (a prefix) is skipped, not even as a comment, and
 * counted in st->skipped. Run it in a read
 * transaction. Returns 0 or -1 with e filled. */
int vh_export(sqlite3 *db, const char *service, FILE *out, vh_export_stats *st, vh_err *e);

#endif
