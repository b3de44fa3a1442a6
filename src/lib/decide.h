/* decide.h - what virtuald decides for one connection: the lookup index
 * first, then the database (PRODUCT §3). */
#ifndef VH_DECIDE_H
#define VH_DECIDE_H

#include "row.h"
#include "vherr.h"

/* What virtuald decides for one connection: the row and the rule, or a
 * refusal. The same function answers `vhostctl lookup`. */
typedef struct vh_decision {
    int rule;              /* 0 when nothing matched */
    vh_row row;            /* valid when rule != 0 */
    int from_index;        /* 1: answered by the lookup index */
    const char *index_why; /* else why the index could not answer */
} vh_decision;

/* Open the database for reading with every trust check, select, close.
 * Returns 0 when the connection is to be served; -1 when refused, with e
 * filled: VH_EX_NOHOST no row, VH_EX_UNAVAILABLE the deciding row is
 * disabled (never a fall-through to a default), VH_EX_CONFIG and friends
 * for database faults. d->rule tells whether a row decided. */
int vh_decide(const char *dbpath, const char *service, const char *address, vh_decision *d, vh_err *e);

#endif
