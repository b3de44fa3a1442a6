#include "select.h"

#include "db.h"
#include "exitcodes.h"
#include "hostname.h"
#include "valid.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *vh_select_rule_name(int rule)
{
    switch (rule) {
    case VH_RULE_EXACT: return "exact";
    case VH_RULE_ANY_SERVICE: return "any-service";
    case VH_RULE_DEFAULT: return "default";
    case VH_RULE_ANY_DEFAULT: return "any-service-default";
    case VH_RULE_PREFIX: return "prefix";
    case VH_RULE_PREFIX_ANY: return "prefix-any-service";
    case VH_RULE_NAME: return "name";
    case VH_RULE_NAME_ANY: return "name-any-service";
    case VH_RULE_WILDCARD: return "wildcard";
    case VH_RULE_WILDCARD_ANY: return "wildcard-any-service";
    default: return "none";
    }
}

static int lens_has(const vh_prefix_lens *l, int family, unsigned p)
{
    if (family == AF_INET)
        return p < 64 && ((l->v4 >> p) & 1);
    return p < 128 && ((l->v6[p / 64] >> (p % 64)) & 1);
}

/* Two candidates for key: (service, key) with rule, ('*', key) with
 * rule + 1. */
static int probe_pair(vh_probe *out, int n, const char *service, const char *key, size_t len, int rule)
{
    out[n].svc = service, memcpy(out[n].key, key, len), out[n].key[len] = '\0', out[n].rule = rule;
    out[n].plen = 0;
    out[n + 1] = out[n];
    out[n + 1].svc = VH_SERVICE_ANY, out[n + 1].rule = rule + 1;
    return n + 2;
}

int vh_select_probes(const char *service, const char *address, const char *name, const vh_prefix_lens *lens, int flags,
                     vh_probe out[VH_PROBES_MAX])
{
    int n = 0;
    size_t la = strlen(address);
    if (la >= VH_ADDR_TEXT)
        return -1;
    n = probe_pair(out, n, service, address, la, VH_RULE_EXACT);
    const char *dot = name ? strchr(name, '.') : NULL;
    if (dot) {
        /* fleet.md 3.3 rules 3-6: the name, then the one-label wildcard
         * that covers it (never for a name of two labels: '*.org' is no
         * key). A name of one label ("localhost") matches no row: keys
         * have two labels or more. */
        size_t ln = strlen(name);
        if (ln > VH_HOSTNAME_MAX)
            return -1;
        n = probe_pair(out, n, service, name, ln, VH_RULE_NAME);
        if (strchr(dot + 1, '.')) {
            char w[VH_KEY_TEXT];
            int lw = snprintf(w, sizeof w, "*%s", dot);
            n = probe_pair(out, n, service, w, (size_t)lw, VH_RULE_WILDCARD);
        }
    }
    if (lens && (lens->v4 || lens->v6[0] || lens->v6[1])) {
        int family = strchr(address, ':') ? AF_INET6 : AF_INET;
        unsigned char a[16];
        if (vh_addr_bytes(address, family, a) < 0)
            return -1;
        for (unsigned p = family == AF_INET ? VH_PREFIX_V4_MAX : VH_PREFIX_V6_MAX; p >= 1; p--) {
            if (!lens_has(lens, family, p))
                continue;
            if (vh_prefix_key_of(a, family, p, out[n].key) < 0)
                return -1;
            out[n].svc = service, out[n].rule = VH_RULE_PREFIX, out[n].plen = p;
            memcpy(out[n + 1].key, out[n].key, sizeof out[n].key);
            n++;
            out[n].svc = VH_SERVICE_ANY, out[n].rule = VH_RULE_PREFIX_ANY, out[n++].plen = p;
        }
    }
    if (!(flags & VH_SELECT_NO_DEFAULT))
        n = probe_pair(out, n, service, VH_ADDR_DEFAULT, strlen(VH_ADDR_DEFAULT), VH_RULE_DEFAULT);
    return n;
}

/* The selection: one primary-key seek per candidate of PRODUCT §3, in
 * rule order, until one exists. One simple statement, reset and bound
 * anew for each probe; usually the first probe decides. (The former
 * single statement over all four candidates, with IN lists and ORDER BY,
 * built two ephemeral tables and a sorter on every run: a quarter of
 * virtuald's instructions, bench/REPORT.md.) */
const char vh_select_sql[] = "SELECT " VH_ROW_COLS " FROM domains WHERE service = ?1 AND address = ?2";

static const char lens_sql[] = "SELECT family, len FROM prefix_lengths WHERE tbl = ?1";

int vh_select_lens(sqlite3 *db, const char *tbl, vh_prefix_lens *lens, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    memset(lens, 0, sizeof *lens);
    int rc = sqlite3_prepare_v2(db, lens_sql, sizeof lens_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "preparing the prefix lengths", e);
    if ((rc = sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC)) != SQLITE_OK) {
        sqlite3_finalize(st);
        return vh_db_fail(db, rc, "binding the prefix lengths", e);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t fam = sqlite3_column_int64(st, 0), len = sqlite3_column_int64(st, 1);
        /* the schema's CHECKs hold these; a file that breaks them is
         * not ours */
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
            !((fam == 4 && len >= 1 && len <= VH_PREFIX_V4_MAX) || (fam == 6 && len >= 1 && len <= VH_PREFIX_V6_MAX))) {
            sqlite3_finalize(st);
            return vh_fail(e, VH_EX_CONFIG,
                           "database prefix_lengths holds family %lld length %lld, which no key can have - restore "
                           "the database from a backup",
                           (long long)fam, (long long)len);
        }
        if (fam == 4)
            lens->v4 |= 1ULL << len;
        else
            lens->v6[len / 64] |= 1ULL << (len % 64);
    }
    if (rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return vh_db_fail(db, rc, "reading the prefix lengths", e);
    }
    rc = sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : vh_db_fail(db, rc, "reading the prefix lengths", e);
}

int vh_select_read_row(sqlite3_stmt *st, vh_row *row, vh_err *e)
{
    const char *text[VH_ROW_NCOLS];
    int type[VH_ROW_NCOLS];
    int64_t ival[VH_ROW_NCOLS];
    for (int i = 0; i < VH_ROW_NCOLS; i++) {
        type[i] = sqlite3_column_type(st, i);
        ival[i] = sqlite3_column_int64(st, i);
        text[i] = (const char *)sqlite3_column_text(st, i);
    }
    return vh_row_from_cols(text, type, ival, row, e);
}

/* Seek the candidates p[0..n) of sql (whose ?1 ?2 are service and key)
 * in order; the first that exists is left as st's current row. Returns
 * its index, n when none exists, -1 on an error. */
static int seek_first(sqlite3 *db, sqlite3_stmt *st, const vh_probe *p, int n, vh_err *e)
{
    for (int i = 0; i < n; i++) {
        int rc;
        if ((rc = sqlite3_reset(st)) != SQLITE_OK ||
            (rc = sqlite3_bind_text(st, 1, p[i].svc, -1, SQLITE_STATIC)) != SQLITE_OK ||
            (rc = sqlite3_bind_text(st, 2, p[i].key, -1, SQLITE_STATIC)) != SQLITE_OK)
            return vh_db_fail(db, rc, "binding the lookup", e);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            continue;
        if (rc != SQLITE_ROW)
            return vh_db_fail(db, rc, "looking up the domain", e);
        return i;
    }
    return n;
}

int vh_select(sqlite3 *db, const char *service, const char *address, const char *name, int flags, vh_row *row,
              unsigned *plen, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int result = -1;
    /* All probes in one read transaction - the caller's (virtuald's, from
     * vh_db_open_runtime) or one opened here: the decided row and the
     * absence of every better candidate come from one snapshot (I3),
     * and so do the prefix lengths that say which candidates exist. */
    int own_txn = sqlite3_get_autocommit(db);
    if (own_txn && vh_db_begin_read(db, e) < 0)
        return -1;
    vh_prefix_lens lens;
    static vh_probe p[VH_PROBES_MAX];
    if (vh_select_lens(db, "domains", &lens, e) < 0)
        goto out;
    int n = vh_select_probes(service, address, name, &lens, flags, p);
    if (n < 0) {
        vh_fail(e, VH_EX_SOFTWARE, "'%s' is not a canonical address or '%s' no normalised name", address,
                name ? name : "");
        goto out;
    }
    int rc = sqlite3_prepare_v2(db, vh_select_sql, sizeof vh_select_sql, &st, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, "preparing the lookup", e);
        goto out;
    }
    int i = seek_first(db, st, p, n, e);
    if (i < 0)
        goto out;
    if (i == n) {
        result = VH_RULE_NONE;
        goto out;
    }
    if (vh_select_read_row(st, row, e) < 0)
        goto out;
    /* a second row would mean the primary key is not what we think */
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        vh_db_fail(db, rc == SQLITE_ROW ? SQLITE_CORRUPT : rc, "finishing the lookup", e);
        goto out;
    }
    if (plen)
        *plen = p[i].plen;
    result = p[i].rule;
out:
    rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK && result >= 0)
        result = vh_db_fail(db, rc, "finishing the lookup", e);
    if (own_txn)
        vh_db_rollback(db);
    return result;
}

static const char trust_sql[] = "SELECT versions FROM proxy_sources WHERE service = ?1 AND source = ?2";
static const char trust_any_sql[] = "SELECT EXISTS (SELECT 1 FROM proxy_sources)";

int vh_select_trust(sqlite3 *db, const char *service, const char *peer, vh_trust *t, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int result = -1, rc;
    memset(t, 0, sizeof *t);
    int own_txn = sqlite3_get_autocommit(db);
    if (own_txn && vh_db_begin_read(db, e) < 0)
        return -1;
    if ((rc = sqlite3_prepare_v2(db, trust_any_sql, sizeof trust_any_sql, &st, NULL)) != SQLITE_OK ||
        (rc = sqlite3_step(st)) != SQLITE_ROW) {
        vh_db_fail(db, rc, "reading the trusted PROXY sources", e);
        goto out;
    }
    t->any = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    st = NULL;
    if (!t->any) {
        result = 0;
        goto out;
    }
    vh_prefix_lens lens;
    static vh_probe p[VH_PROBES_MAX];
    if (vh_select_lens(db, "proxy_sources", &lens, e) < 0)
        goto out;
    int n = vh_select_probes(service, peer, NULL, &lens, VH_SELECT_NO_DEFAULT, p);
    if (n < 0) { /* no address (a peer already gone): trusted by nothing */
        result = 0;
        goto out;
    }
    if ((rc = sqlite3_prepare_v2(db, trust_sql, sizeof trust_sql, &st, NULL)) != SQLITE_OK) {
        vh_db_fail(db, rc, "preparing the trust lookup", e);
        goto out;
    }
    int i = seek_first(db, st, p, n, e);
    if (i < 0)
        goto out;
    if (i < n) {
        int64_t v = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || v < 1 || v > 3) {
            vh_fail(e, VH_EX_CONFIG,
                    "database proxy_sources row %s %s has versions %lld, not 1, 2 or 3 - restore the database from "
                    "a backup",
                    p[i].svc, p[i].key, (long long)v);
            goto out;
        }
        t->versions = (int)v;
        snprintf(t->svc, sizeof t->svc, "%s", p[i].svc);
        snprintf(t->source, sizeof t->source, "%s", p[i].key);
    }
    result = 0;
out:
    rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK && result >= 0)
        result = vh_db_fail(db, rc, "finishing the trust lookup", e);
    if (own_txn)
        vh_db_rollback(db);
    return result;
}
