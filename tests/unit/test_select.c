/* select: the selection rules of PRODUCT §3 in every precedence case,
 * disabled rows, one index seek per candidate (J5); with names and
 * wildcards, the order of fleet.md 3.3 (table S row S10, the cases of
 * s10_cases.h, which test_ix.c runs through the index). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include "db.h"
#include "exitcodes.h"
#include "row.h"
#include "s10_cases.h"
#include "select.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void put(sqlite3 *db, const char *svc, const char *addr, const char *root, int enabled)
{
    vh_row r;
    unit_row(&r, svc, addr, root);
    r.enabled = enabled;
    unit_row_nobody(&r);
    unit_put(db, &r);
}

static void expect(sqlite3 *db, const char *svc, const char *addr, int rule, const char *root)
{
    vh_row r;
    vh_err e;
    int got = vh_select(db, svc, addr, NULL, 0, &r, NULL, &e);
    if (got != rule)
        fail_msg("%s %s: rule %d, expected %d", svc, addr, got, rule);
    if (root)
        assert_string_equal(r.root, root);
}

/* Every subset of the four candidate rows, inserted in two orders: the
 * first existing rule in 1..4 decides, whatever the row order. */
static void test_precedence_all_subsets(void **s)
{
    (void)s;
    const char *svc[4] = {"http", "*", "http", "*"};
    const char *adr[4] = {"127.0.0.2", "127.0.0.2", "default", "default"};
    const char *root[4] = {"/j/exact", "/j/anysvc", "/j/default", "/j/anydefault"};
    for (int mask = 0; mask < 16; mask++) {
        for (int order = 0; order < 2; order++) {
            sqlite3 *db = unit_mem_db();
            for (int k = 0; k < 4; k++) {
                int i = order ? 3 - k : k;
                if (mask & (1 << i))
                    put(db, svc[i], adr[i], root[i], 1);
            }
            put(db, "ftp", "127.0.0.2", "/j/other-service", 1);  /* never for http */
            put(db, "http", "127.0.0.3", "/j/other-address", 1); /* never for .2 */
            int want = 0;
            for (int i = 0; i < 4 && !want; i++)
                if (mask & (1 << i))
                    want = i + 1;
            expect(db, "http", "127.0.0.2", want, want ? root[want - 1] : NULL);
            sqlite3_close(db);
        }
    }
}

static void test_disabled_never_falls_through(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    put(db, "http", "127.0.0.2", "/j/a", 0);
    put(db, "http", "default", "/j/d", 1);
    vh_row r;
    vh_err e;
    assert_int_equal(vh_select(db, "http", "127.0.0.2", NULL, 0, &r, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(r.enabled, 0);
    assert_string_equal(r.root, "/j/a");
    sqlite3_close(db);
}

static void test_index_seek(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    sqlite3_stmt *st;
    /* the very statement vh_select runs */
    char q[512];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", vh_select_sql);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    int seen = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        assert_null(strstr(d, "SCAN"));
        if (strstr(d, "SEARCH domains USING PRIMARY KEY (service=? AND address=?)"))
            seen = 1;
    }
    sqlite3_finalize(st);
    assert_true(seen);
    sqlite3_close(db);
}

/* A prefix row, written as vhostctl would store it. */
static void put_key(sqlite3 *db, const char *tbl, const char *svc, const char *key, const char *root, int enabled)
{
    char *sql;
    if (strcmp(tbl, "domains") == 0)
        sql = sqlite3_mprintf("INSERT INTO domains (service, address, root, user, grp, uid, gid, groups, enabled) "
                              "VALUES (%Q, %Q, %Q, 'nobody', 'nogroup', 65534, 65534, '65534', %d)",
                              svc, key, root, enabled);
    else
        sql = sqlite3_mprintf("INSERT INTO proxy_sources (service, source, versions) VALUES (%Q, %Q, %d)", svc, key,
                              enabled);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_free(sql);
}

/* fleet.md table C, row 3: the candidates in order, two per prefix length in use for the
 * address's family, longest first. */
static void test_probes(void **s)
{
    (void)s;
    static vh_probe p[VH_PROBES_MAX];
    vh_prefix_lens l = {(1ULL << 8) | (1ULL << 16) | (1ULL << 24), {1ULL << 48, 0}};
    int n = vh_select_probes("http", "127.0.1.5", NULL, &l, 0, p);
    assert_int_equal(n, 2 + 2 * 3 + 2);
    const char *keys[] = {"127.0.1.5",    "127.0.1.5",   "127.0.1.0/24", "127.0.1.0/24", "127.0.0.0/16",
                          "127.0.0.0/16", "127.0.0.0/8", "127.0.0.0/8",  "default",      "default"};
    const int rules[] = {VH_RULE_EXACT,   VH_RULE_ANY_SERVICE, VH_RULE_PREFIX, VH_RULE_PREFIX_ANY,
                         VH_RULE_PREFIX,  VH_RULE_PREFIX_ANY,  VH_RULE_PREFIX, VH_RULE_PREFIX_ANY,
                         VH_RULE_DEFAULT, VH_RULE_ANY_DEFAULT};
    for (int i = 0; i < n; i++) {
        assert_string_equal(p[i].key, keys[i]);
        assert_int_equal(p[i].rule, rules[i]);
        assert_string_equal(p[i].svc, i % 2 ? "*" : "http");
    }
    assert_int_equal(p[2].plen, 24);
    /* IPv6 uses its own lengths; no default for a balancer's own connection */
    n = vh_select_probes("http", "fd56:6864:7600:20::5", NULL, &l, VH_SELECT_NO_DEFAULT, p);
    assert_int_equal(n, 2 + 2);
    assert_string_equal(p[2].key, "fd56:6864:7600::/48");
    /* no lengths: the four of PRODUCT §3 */
    assert_int_equal(vh_select_probes("http", "127.0.1.5", NULL, NULL, 0, p), 4);
    l.v4 = ~0ULL << 1 & ((1ULL << 32) - 1);
    assert_int_equal(vh_select_probes("http", "127.0.1.5", NULL, &l, 0, p), 2 + 2 * 31 + 2);
}

/* fleet.md table C, rows 1 and 4: the longest prefix wins after exact rows and before defaults;
 * a disabled prefix refuses, never falls through. */
static void test_prefix_rows(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    put_key(db, "domains", "http", "127.0.0.0/8", "/j/parking", 1);
    put_key(db, "domains", "http", "127.0.1.0/24", "/j/x", 1);
    put_key(db, "domains", "http", "127.0.1.5", "/j/y", 1);
    put_key(db, "domains", "*", "default", "/j/default", 1);
    unsigned plen = 99;
    vh_row r;
    vh_err e;
    expect(db, "http", "127.0.1.5", VH_RULE_EXACT, "/j/y");
    assert_int_equal(vh_select(db, "http", "127.0.1.7", NULL, 0, &r, &plen, &e), VH_RULE_PREFIX);
    assert_string_equal(r.root, "/j/x");
    assert_int_equal(plen, 24);
    expect(db, "http", "127.0.2.1", VH_RULE_PREFIX, "/j/parking");
    expect(db, "http", "10.0.0.1", VH_RULE_ANY_DEFAULT, "/j/default");
    expect(db, "ftp", "127.0.2.1", VH_RULE_ANY_DEFAULT, "/j/default");
    assert_int_equal(vh_select(db, "http", "10.0.0.1", NULL, VH_SELECT_NO_DEFAULT, &r, NULL, &e), VH_RULE_NONE);
    /* '*' at a longer prefix beats the service at a shorter one */
    put_key(db, "domains", "*", "127.0.2.0/24", "/j/any24", 1);
    expect(db, "http", "127.0.2.1", VH_RULE_PREFIX_ANY, "/j/any24");
    /* row 4: a disabled /24 inside an enabled /8 decides (and refuses) */
    put_key(db, "domains", "http", "127.0.3.0/24", "/j/off", 0);
    expect(db, "http", "127.0.3.9", VH_RULE_PREFIX, "/j/off");
    assert_int_equal(r.enabled, 1);
    vh_row off;
    assert_int_equal(vh_select(db, "http", "127.0.3.9", NULL, 0, &off, NULL, &e), VH_RULE_PREFIX);
    assert_int_equal(off.enabled, 0);
    /* the lengths follow the rows (triggers): gone with the last /24 */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM domains WHERE address LIKE '%/24'", NULL, NULL, NULL), SQLITE_OK);
    vh_prefix_lens l;
    assert_int_equal(vh_select_lens(db, "domains", &l, &e), 0);
    assert_int_equal(l.v4, 1ULL << 8);
    expect(db, "http", "127.0.1.7", VH_RULE_PREFIX, "/j/parking");
    /* IPv6 */
    put_key(db, "domains", "http", "fd56:6864:7600:20::/64", "/j/v6", 1);
    expect(db, "http", "fd56:6864:7600:20::1", VH_RULE_PREFIX, "/j/v6");
    expect(db, "http", "fd56:6864:7600:20:ffff::1", VH_RULE_PREFIX, "/j/v6");
    expect(db, "http", "fd56:6864:7600:21::1", VH_RULE_ANY_DEFAULT, "/j/default");
    sqlite3_close(db);
}

/* Trusted PROXY sources: the candidates of a domain without defaults,
 * first match decides (fleet.md table C, row 5: a mapped peer arrives canonical, as IPv4). */
static void test_trust(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_trust t;
    vh_err e;
    assert_int_equal(vh_select_trust(db, "http", "127.0.0.1", &t, &e), 0);
    assert_int_equal(t.any, 0);
    assert_int_equal(t.versions, 0);
    put_key(db, "proxy_sources", "*", "127.0.0.0/8", NULL, 3);
    put_key(db, "proxy_sources", "http", "127.0.0.0/8", NULL, 2);
    put_key(db, "proxy_sources", "*", "127.0.5.1", NULL, 1);
    put_key(db, "proxy_sources", "smtp", "fd00::/8", NULL, 3);
    assert_int_equal(vh_select_trust(db, "http", "127.0.0.1", &t, &e), 0);
    assert_int_equal(t.any, 1);
    assert_int_equal(t.versions, 2); /* the service's row beats '*' at /8 */
    assert_string_equal(t.svc, "http");
    assert_string_equal(t.source, "127.0.0.0/8");
    assert_int_equal(vh_select_trust(db, "ftp", "127.0.0.1", &t, &e), 0);
    assert_int_equal(t.versions, 3);
    assert_int_equal(vh_select_trust(db, "http", "127.0.5.1", &t, &e), 0);
    assert_int_equal(t.versions, 1); /* the exact address beats every prefix */
    assert_int_equal(vh_select_trust(db, "http", "10.0.0.1", &t, &e), 0);
    assert_int_equal(t.any, 1);
    assert_int_equal(t.versions, 0);
    assert_int_equal(vh_select_trust(db, "smtp", "fd00::1", &t, &e), 0);
    assert_int_equal(t.versions, 3);
    assert_int_equal(vh_select_trust(db, "http", "fd00::1", &t, &e), 0);
    assert_int_equal(t.versions, 0);
    /* a peer with no address (gone): trusted by nothing, no error */
    assert_int_equal(vh_select_trust(db, "http", "", &t, &e), 0);
    assert_int_equal(t.any, 1);
    assert_int_equal(t.versions, 0);
    sqlite3_close(db);
}

/* ---- issue 17: names and wildcards (fleet.md 3.3, table S row S10) ---- */

/* The candidates with a name: exact, any-service, the name and its
 * wildcard (each the service's, then '*'), prefixes, defaults. A name of
 * two labels has no wildcard ('*.test' is no key), one of one label
 * (localhost) nor any name probe: keys have two labels or more. */
static void test_name_probes(void **s)
{
    (void)s;
    static vh_probe p[VH_PROBES_MAX];
    /* the names of lookup and the log, by enum vh_rule */
    static const char *const rule_names[] = {"none",
                                             "exact",
                                             "any-service",
                                             "default",
                                             "any-service-default",
                                             "prefix",
                                             "prefix-any-service",
                                             "name",
                                             "name-any-service",
                                             "wildcard",
                                             "wildcard-any-service"};
    vh_prefix_lens l = {(1ULL << 8) | (1ULL << 24), {0, 0}};
    int n = vh_select_probes(S10_SVC, S10_ADDR, S10_NAME, &l, 0, p);
    assert_int_equal(n, (int)S10_RUNGS);
    for (int i = 0; i < n; i++) {
        if (strcmp(p[i].svc, s10_ladder[i].row.svc) || strcmp(p[i].key, s10_ladder[i].row.key) ||
            p[i].rule != s10_ladder[i].rule || p[i].plen != s10_ladder[i].plen)
            fail_msg("probe %d: (%s, %s) rule %d /%u, expected (%s, %s) rule %d /%u", i, p[i].svc, p[i].key, p[i].rule,
                     p[i].plen, s10_ladder[i].row.svc, s10_ladder[i].row.key, s10_ladder[i].rule, s10_ladder[i].plen);
        assert_string_equal(vh_select_rule_name(p[i].rule), rule_names[p[i].rule]);
    }
    /* two labels: the name, no wildcard */
    n = vh_select_probes("https", "127.0.0.2", "example.test", NULL, 0, p);
    assert_int_equal(n, 6);
    assert_string_equal(p[2].key, "example.test");
    assert_int_equal(p[2].rule, VH_RULE_NAME);
    assert_int_equal(p[3].rule, VH_RULE_NAME_ANY);
    assert_int_equal(p[4].rule, VH_RULE_DEFAULT);
    /* the wildcard replaces exactly the first label */
    n = vh_select_probes("https", "127.0.0.2", "a.b.example.test", NULL, 0, p);
    assert_int_equal(n, 8);
    assert_string_equal(p[4].key, "*.b.example.test");
    assert_int_equal(p[4].rule, VH_RULE_WILDCARD);
    assert_string_equal(p[5].svc, "*");
    assert_int_equal(p[5].rule, VH_RULE_WILDCARD_ANY);
    /* one label, no name, an empty one: the four of PRODUCT §3 */
    assert_int_equal(vh_select_probes("https", "127.0.0.2", "localhost", NULL, 0, p), 4);
    assert_int_equal(vh_select_probes("https", "127.0.0.2", NULL, NULL, 0, p), 4);
    assert_int_equal(vh_select_probes("https", "127.0.0.2", "", NULL, 0, p), 4);
    /* a balancer's own connection: no default, names still tried when given */
    assert_int_equal(vh_select_probes("https", "127.0.0.2", S10_NAME, NULL, VH_SELECT_NO_DEFAULT, p), 6);
    /* the longest name fits; a longer one is no normalised name */
    char name[300];
    memset(name, 'a', sizeof name);
    for (int i = 63; i < 253; i += 64)
        name[i] = '.';
    name[253] = '\0';
    n = vh_select_probes("https", "127.0.0.2", name, NULL, 0, p);
    assert_int_equal(n, 8);
    assert_string_equal(p[2].key, name);
    assert_int_equal(strlen(p[4].key), 253 - 63 + 1);
    name[253] = 'a', name[254] = '\0';
    assert_int_equal(vh_select_probes("https", "127.0.0.2", name, NULL, 0, p), -1);
}

/* vh_select on db for the connection; fails the test unless rule
 * (and the row's root, prefix length and enabled flag) are as given. */
static void expect_name(sqlite3 *db, const char *svc, const char *addr, const char *name, int rule, const char *root,
                        unsigned plen, int enabled, const char *why)
{
    vh_row r;
    vh_err e;
    unsigned got_plen = 999;
    int got = vh_select(db, svc, addr, name, 0, &r, &got_plen, &e);
    if (got != rule)
        fail_msg("%s: %s %s --name %s: rule %s, expected %s (%s)", why, svc, addr, name ? name : "(none)",
                 got < 0 ? e.msg : vh_select_rule_name(got), vh_select_rule_name(rule), root ? root : "-");
    if (rule == VH_RULE_NONE)
        return;
    if (strcmp(r.root, root) != 0 || r.enabled != enabled || got_plen != plen)
        fail_msg("%s: %s %s --name %s: row %s/%s root %s enabled %d /%u, expected root %s enabled %d /%u", why, svc,
                 addr, name ? name : "(none)", r.service, r.address, r.root, r.enabled, got_plen, root, enabled, plen);
}

/* S10: every subset of the ladder's twelve rows (with the decoys, which
 * never decide): the first present in fleet.md 3.3's order decides,
 * with the name and without it (then only the address rules count). */
static void test_name_ladder_all_subsets(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    for (size_t i = 0; i < S10_DECOYS; i++)
        put_key(db, "domains", s10_decoys[i].svc, s10_decoys[i].key, s10_decoys[i].root, 1);
    for (unsigned mask = 0; mask < 1u << S10_RUNGS; mask++) {
        char *sql = sqlite3_mprintf("DELETE FROM domains WHERE root LIKE '/j/%%' AND root NOT LIKE '/j/decoy-%%'");
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(sql);
        int want = -1, want_noname = -1;
        for (size_t i = 0; i < S10_RUNGS; i++) {
            if (!(mask & (1u << i)))
                continue;
            put_key(db, "domains", s10_ladder[i].row.svc, s10_ladder[i].row.key, s10_ladder[i].row.root, 1);
            if (want < 0)
                want = (int)i;
            if (want_noname < 0 && s10_ladder[i].rule != VH_RULE_NAME && s10_ladder[i].rule != VH_RULE_NAME_ANY &&
                s10_ladder[i].rule != VH_RULE_WILDCARD && s10_ladder[i].rule != VH_RULE_WILDCARD_ANY)
                want_noname = (int)i;
        }
        char why[64];
        snprintf(why, sizeof why, "rows 0x%03x", mask);
        if (want < 0)
            expect_name(db, S10_SVC, S10_ADDR, S10_NAME, VH_RULE_NONE, NULL, 0, 1, why);
        else
            expect_name(db, S10_SVC, S10_ADDR, S10_NAME, s10_ladder[want].rule, s10_ladder[want].row.root,
                        s10_ladder[want].plen, 1, why);
        if (want_noname < 0)
            expect_name(db, S10_SVC, S10_ADDR, NULL, VH_RULE_NONE, NULL, 0, 1, why);
        else
            expect_name(db, S10_SVC, S10_ADDR, NULL, s10_ladder[want_noname].rule, s10_ladder[want_noname].row.root,
                        s10_ladder[want_noname].plen, 1, why);
    }
    sqlite3_close(db);
}

/* S10: a provider's table, case by case (s10_cases.h); a row keyed by a
 * one-label name (no vhostctl stores one) is never probed. */
static void test_name_cases(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    for (size_t i = 0; i < S10_ROWS; i++)
        put_key(db, "domains", s10_rows[i].svc, s10_rows[i].key, s10_rows[i].root, s10_rows[i].enabled);
    put_key(db, "domains", "https", "localhost", "/j/never", 1);
    for (size_t i = 0; i < S10_CASES; i++) {
        const struct s10_case *c = &s10_cases[i];
        unsigned plen = 0;
        if (c->rule == VH_RULE_PREFIX || c->rule == VH_RULE_PREFIX_ANY)
            plen = 24;
        expect_name(db, c->svc, c->addr, c->name, c->rule, c->root, plen, c->enabled, c->why);
    }
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence_all_subsets),
        cmocka_unit_test(test_disabled_never_falls_through),
        cmocka_unit_test(test_index_seek),
        cmocka_unit_test(test_probes),
        cmocka_unit_test(test_prefix_rows),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_name_probes),
        cmocka_unit_test(test_name_ladder_all_subsets),
        cmocka_unit_test(test_name_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
