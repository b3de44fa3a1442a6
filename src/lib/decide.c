#include "decide.h"

#include "db.h"
#include "exitcodes.h"
#include "timing.h"

#include <string.h>

int vh_decide_begin(vh_decider *dc, const char *dbpath, vh_err *e)
{
    memset(dc, 0, sizeof *dc);
    dc->dbpath = dbpath;
    dc->ix.fd = -1;
    /* The lookup index answers when it holds exactly the database state
     * that is there now (ix.h); otherwise the database does, as it
     * always did. Both are trusted by the same rules first. */
    if (vh_db_trust(dbpath, e) < 0)
        return -1;
    VH_MARK("db_trust");
    int b = vh_ix_begin(dbpath, &dc->ix, &dc->why, e);
    VH_MARK("index_open");
    return b == VH_IX_REFUSE ? -1 : 0;
}

/* The database, open in a read transaction (vh_db_open_runtime). */
static int open_db(vh_decider *dc, vh_err *e)
{
    if (dc->db)
        return 0;
    return vh_db_open_runtime(dc->dbpath, &dc->db, e);
}

static int close_db(vh_decider *dc, vh_err *e)
{
    if (!dc->db)
        return 0;
    int rc = vh_db_close(dc->db, e);
    dc->db = NULL;
    VH_MARK("db_close");
    return rc;
}

int vh_decide_trust(vh_decider *dc, const char *service, const char *peer, vh_trust *t, vh_err *e)
{
    if (dc->ix.fd >= 0 && vh_ix_trust(&dc->ix, service, peer, t))
        return 0;
    /* More trusted sources than the header holds, or no current index:
     * the database answers, in the read transaction the select will use
     * when no header is awaited. */
    if (open_db(dc, e) < 0 || vh_select_trust(dc->db, service, peer, t, e) < 0)
        return -1;
    VH_MARK("db_trust_select");
    return 0;
}

void vh_decide_wait(vh_decider *dc)
{
    vh_err ignored;
    close_db(dc, &ignored); /* a read-only transaction: nothing to lose */
    dc->waited = 1;
}

int vh_decide_select(vh_decider *dc, const char *service, const char *address, const char *name, int flags,
                     vh_decision *d, vh_err *e)
{
    memset(d, 0, sizeof *d);
    int rule = -1;
    if (dc->ix.fd >= 0 && dc->waited && !vh_ix_recheck(dc->dbpath, &dc->ix, &dc->why))
        vh_ix_end(&dc->ix);
    if (dc->ix.fd >= 0) {
        vh_ix_answer a = vh_ix_lookup(&dc->ix, service, address, name, flags, &d->row, &d->prefix_len, &dc->why, e);
        VH_MARK("index");
        if (a == VH_IX_REFUSE)
            return -1;
        if (a != VH_IX_STALE) {
            d->from_index = 1;
            rule = (int)a;
        }
        vh_ix_end(&dc->ix);
    }
    if (!d->from_index) {
        d->index_why = dc->why;
        if (open_db(dc, e) < 0)
            return -1;
        rule = vh_select(dc->db, service, address, name, flags, &d->row, &d->prefix_len, e);
        VH_MARK("db_select");
        vh_err ce;
        /* Closed before anything else happens: the jail never sees it. */
        if (close_db(dc, &ce) < 0 && rule >= 0) {
            *e = ce;
            return -1;
        }
        if (rule < 0)
            return -1;
    }
    d->rule = rule;
    if (rule == VH_RULE_NONE)
        return vh_fail(e, VH_EX_NOHOST, "no domain for service %s on %s%s%s (no %s row) - add one with vhostctl add",
                       service, address, name && name[0] ? " with name " : "", name && name[0] ? name : "",
                       (flags & VH_SELECT_NO_DEFAULT) ? "exact, '*', name or prefix"
                                                      : "exact, '*', name, prefix or default");
    if (!d->row.enabled)
        return vh_fail(e, VH_EX_UNAVAILABLE, "domain %s %s is disabled (decided by rule %s) - vhostctl enable %s %s",
                       d->row.service, d->row.address, vh_select_rule_name(rule), d->row.service, d->row.address);
    return vh_row_valid(&d->row, e);
}

int vh_decide_end(vh_decider *dc, vh_err *e)
{
    vh_ix_end(&dc->ix);
    return close_db(dc, e);
}

int vh_decide(const char *dbpath, const char *service, const char *address, vh_decision *d, vh_err *e)
{
    vh_decider dc;
    memset(d, 0, sizeof *d);
    if (vh_decide_begin(&dc, dbpath, e) < 0)
        return -1;
    int rc = vh_decide_select(&dc, service, address, NULL, 0, d, e);
    vh_err ce;
    if (vh_decide_end(&dc, &ce) < 0 && rc == 0) {
        *e = ce;
        return -1;
    }
    return rc;
}
