/* select.h - the selection rules of PRODUCT §3 on the database. */
#ifndef VH_SELECT_H
#define VH_SELECT_H

#include "row.h"
#include "vherr.h"

typedef struct sqlite3 sqlite3;

/* Which rule of PRODUCT §3 decided. */
enum vh_rule {
    VH_RULE_NONE = 0,
    VH_RULE_EXACT = 1,       /* service and address */
    VH_RULE_ANY_SERVICE = 2, /* '*' and address */
    VH_RULE_DEFAULT = 3,     /* service and 'default' */
    VH_RULE_ANY_DEFAULT = 4, /* '*' and 'default' */
};

const char *vh_select_rule_name(int rule);

/* Find the row that decides a connection to service on address (both
 * already canonical). One prepared statement (vh_select_sql), one primary
 * key seek per candidate in rule order (J5), all in one read transaction:
 * every column of the decision comes from one snapshot (THREATS I3).
 * Returns the rule (1-4), 0 when nothing matches, -1 on a database error.
 * The row is filled only when a rule matched. */
int vh_select(sqlite3 *db, const char *service, const char *address, vh_row *row, vh_err *e);
extern const char vh_select_sql[];

#endif
