#include "decide.h"

#include "db.h"
#include "exitcodes.h"
#include "ix.h"
#include "select.h"
#include "timing.h"

#include <string.h>

int vh_decide(const char *dbpath, const char *service, const char *address, vh_decision *d, vh_err *e)
{
    sqlite3 *db = NULL;
    memset(d, 0, sizeof *d);
    /* The lookup index answers when it holds exactly the database state
     * that is there now (ix.h); otherwise the database does, as it
     * always did. Both are trusted by the same rules first. */
    if (vh_db_trust(dbpath, e) < 0)
        return -1;
    VH_MARK("db_trust");
    vh_ix_answer ix = vh_ix_select(dbpath, service, address, &d->row, &d->index_why, e);
    VH_MARK("index");
    if (ix == VH_IX_REFUSE)
        return -1;
    int rule = (int)ix;
    if (ix != VH_IX_STALE) {
        d->from_index = 1;
    } else {
        if (vh_db_open_runtime(dbpath, &db, e) < 0)
            return -1;
        rule = vh_select(db, service, address, &d->row, e);
        VH_MARK("db_select");
        vh_err ce;
        /* Closed before anything else happens: the jail never sees it. */
        if (vh_db_close(db, &ce) < 0 && rule >= 0) {
            *e = ce;
            return -1;
        }
        VH_MARK("db_close");
        if (rule < 0)
            return -1;
    }
    d->rule = rule;
    if (rule == VH_RULE_NONE)
        return vh_fail(e, VH_EX_NOHOST,
                       "no domain for service %s on %s (no exact, '*', or default row) - add one with vhostctl add",
                       service, address);
    if (!d->row.enabled)
        return vh_fail(e, VH_EX_UNAVAILABLE, "domain %s %s is disabled (decided by rule %s) - vhostctl enable %s %s",
                       d->row.service, d->row.address, vh_select_rule_name(rule), d->row.service, d->row.address);
    return vh_row_valid(&d->row, e);
}
