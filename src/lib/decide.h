/* decide.h - what virtuald decides for one connection: the lookup index
 * first, then the database (PRODUCT §3). */
#ifndef VH_DECIDE_H
#define VH_DECIDE_H

#include "ix.h"
#include "row.h"
#include "select.h"
#include "vherr.h"

typedef struct sqlite3 sqlite3;

/* What virtuald decides for one connection: the row and the rule, or a
 * refusal. The same function answers `vhostctl lookup`. */
typedef struct vh_decision {
    int rule;              /* 0 when nothing matched */
    unsigned prefix_len;   /* the PREFIX rules: the deciding prefix's length */
    vh_row row;            /* valid when rule != 0 */
    int from_index;        /* 1: answered by the lookup index */
    const char *index_why; /* else why the index could not answer */
} vh_decision;

/* One connection's reads: the trust of its peer (issue 15), then the
 * domain, each from the index when it is current, else from the
 * database. Between the two the caller may wait on the network (a PROXY
 * header): no read transaction is held then (THREATS I4), and the second
 * read checks again that the index still describes the database. */
typedef struct vh_decider {
    const char *dbpath;
    vh_ix_reader ix; /* ix.fd >= 0: the index answers */
    const char *why; /* else why not */
    sqlite3 *db;     /* the database, open with a read transaction, or NULL */
    int waited;      /* vh_decide_wait was called */
} vh_decider;

/* Trust the database (and index) of dbpath and open the index. 0, or -1
 * with e filled. */
int vh_decide_begin(vh_decider *dc, const char *dbpath, vh_err *e);

/* The PROXY trust of peer for service (select.h vh_trust). With no
 * trusted source at all and a current index, no system call. 0 or -1. */
int vh_decide_trust(vh_decider *dc, const char *service, const char *peer, vh_trust *t, vh_err *e);

/* The caller is about to wait: the database's read transaction (if
 * any) ends, and the next select proves the index current again. */
void vh_decide_wait(vh_decider *dc);

/* Select the row for service on address with name (a normalised host
 * name, or NULL; flags: select.h), as vh_decide. 0 when the connection is to be served; -1 refused. */
int vh_decide_select(vh_decider *dc, const char *service, const char *address, const char *name, int flags,
                     vh_decision *d, vh_err *e);

/* Close what is open. Safe to call twice. 0, or -1 when closing the
 * database reported an error (e filled). */
int vh_decide_end(vh_decider *dc, vh_err *e);

/* Open the database for reading with every trust check, select, close.
 * Returns 0 when the connection is to be served; -1 when refused, with e
 * filled: VH_EX_NOHOST no row, VH_EX_UNAVAILABLE the deciding row is
 * disabled (never a fall-through to a shorter prefix or a default),
 * VH_EX_CONFIG and friends for database faults. d->rule tells whether a
 * row decided. */
int vh_decide(const char *dbpath, const char *service, const char *address, vh_decision *d, vh_err *e);

#endif
