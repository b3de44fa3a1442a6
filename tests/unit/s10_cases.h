/* s10_cases.h - fleet.md table S row S10 (the order of 3.3) as data,
 * shared by test_select.c (vh_select, SQLite) and test_ix.c (the lookup
 * index through vh_ix_lookup and vh_decide_select): the two must give
 * the same answer for every case. */
#ifndef VH_S10_CASES_H
#define VH_S10_CASES_H

#include "select.h"

/* One row. */
typedef struct s10_row {
    const char *svc, *key, *root;
    int enabled;
} s10_row;

/* The ladder: every candidate of one connection (service imaps on
 * 127.0.1.5 asking for www.example.test, prefix lengths 24 and 8 in
 * use), in the order fleet.md 3.3 tries them. With any subset of these
 * rows, the first present decides. */
#define S10_SVC "imaps"
#define S10_ADDR "127.0.1.5"
#define S10_NAME "www.example.test"
static const struct s10_rung {
    s10_row row;
    int rule;
    unsigned plen;
} s10_ladder[] = {
    {{"imaps", "127.0.1.5", "/j/exact", 1}, VH_RULE_EXACT, 0},
    {{"*", "127.0.1.5", "/j/any-service", 1}, VH_RULE_ANY_SERVICE, 0},
    {{"imaps", "www.example.test", "/j/name", 1}, VH_RULE_NAME, 0},
    {{"*", "www.example.test", "/j/name-any-service", 1}, VH_RULE_NAME_ANY, 0},
    {{"imaps", "*.example.test", "/j/wildcard", 1}, VH_RULE_WILDCARD, 0},
    {{"*", "*.example.test", "/j/wildcard-any-service", 1}, VH_RULE_WILDCARD_ANY, 0},
    {{"imaps", "127.0.1.0/24", "/j/prefix24", 1}, VH_RULE_PREFIX, 24},
    {{"*", "127.0.1.0/24", "/j/prefix-any-service24", 1}, VH_RULE_PREFIX_ANY, 24},
    {{"imaps", "127.0.0.0/8", "/j/prefix8", 1}, VH_RULE_PREFIX, 8},
    {{"*", "127.0.0.0/8", "/j/prefix-any-service8", 1}, VH_RULE_PREFIX_ANY, 8},
    {{"imaps", "default", "/j/default", 1}, VH_RULE_DEFAULT, 0},
    {{"*", "default", "/j/any-service-default", 1}, VH_RULE_ANY_DEFAULT, 0},
};
#define S10_RUNGS (sizeof s10_ladder / sizeof s10_ladder[0])

/* Rows near the ladder's that must never decide for it: another
 * service, the wildcard's own name, a name below www, a wildcard one
 * label deeper, another domain, another address. */
static const s10_row s10_decoys[] = {
    {"pop3s", "www.example.test", "/j/decoy-svc-name", 1},
    {"pop3s", "*.example.test", "/j/decoy-svc-wildcard", 1},
    {"pop3s", "127.0.1.5", "/j/decoy-svc-exact", 1},
    {"pop3s", "default", "/j/decoy-svc-default", 1},
    {"imaps", "example.test", "/j/decoy-apex", 1},
    {"imaps", "a.www.example.test", "/j/decoy-below", 1},
    {"imaps", "*.www.example.test", "/j/decoy-deeper-wildcard", 1},
    {"imaps", "www.example.org", "/j/decoy-other-domain", 1},
    {"imaps", "127.0.1.6", "/j/decoy-other-address", 1},
};
#define S10_DECOYS (sizeof s10_decoys / sizeof s10_decoys[0])

/* A provider's table: two customers by name on shared VIPs, a
 * wildcard, a name for every service, a dedicated address, a parked
 * /24, a default; disabled name and wildcard rows. */
static const s10_row s10_rows[] = {
    {"https", "www.example.test", "/j/www", 1},   {"https", "*.example.test", "/j/wild", 1},
    {"*", "shop.example.test", "/j/shop-any", 1}, {"ftps", "*.example.test", "/j/ftps-wild", 1},
    {"https", "127.0.0.3", "/j/dedicated", 1},    {"https", "127.0.2.0/24", "/j/parking", 1},
    {"*", "127.0.5.0/24", "/j/parking-any", 1},   {"https", "default", "/j/default", 1},
    {"https", "off.example.test", "/j/off", 0},   {"https", "*.off.test", "/j/off-wild", 0},
    {"https", "on.off.test", "/j/on", 1},
};
#define S10_ROWS (sizeof s10_rows / sizeof s10_rows[0])

/* What selects for a connection to svc on addr with name (NULL: none). */
static const struct s10_case {
    const char *svc, *addr, *name;
    int rule;
    const char *root; /* the deciding row's, NULL with no rule */
    int enabled;
    const char *why;
} s10_cases[] = {
    {"https", "127.0.0.2", "www.example.test", VH_RULE_NAME, "/j/www", 1, "a name on a shared VIP"},
    {"https", "127.0.0.3", "www.example.test", VH_RULE_EXACT, "/j/dedicated", 1, "a dedicated address beats a name"},
    {"https", "127.0.2.9", "www.example.test", VH_RULE_NAME, "/j/www", 1, "a name beats a prefix"},
    {"https", "127.0.2.9", "x.example.test", VH_RULE_WILDCARD, "/j/wild", 1, "a wildcard beats a prefix"},
    {"https", "127.0.2.9", "nothing.test", VH_RULE_PREFIX, "/j/parking", 1, "no name row: the prefix"},
    {"https", "127.0.5.9", "x.example.test", VH_RULE_WILDCARD, "/j/wild", 1, "a wildcard beats a '*' prefix"},
    {"https", "127.0.5.9", "nothing.test", VH_RULE_PREFIX_ANY, "/j/parking-any", 1, "no name row: the '*' prefix"},
    {"https", "127.0.0.2", "x.example.test", VH_RULE_WILDCARD, "/j/wild", 1, "one label below the wildcard"},
    {"https", "127.0.0.2", "a.b.example.test", VH_RULE_DEFAULT, "/j/default", 1, "two labels below: no match"},
    {"https", "127.0.0.2", "example.test", VH_RULE_DEFAULT, "/j/default", 1, "the wildcard's own name: no match"},
    {"https", "127.0.0.2", "shop.example.test", VH_RULE_NAME_ANY, "/j/shop-any", 1,
     "('*', name) beats (service, wildcard)"},
    {"smtps", "127.0.0.2", "shop.example.test", VH_RULE_NAME_ANY, "/j/shop-any", 1, "('*', name) for any service"},
    {"ftps", "127.0.0.2", "www.example.test", VH_RULE_WILDCARD, "/j/ftps-wild", 1,
     "another service's name row never matches"},
    {"ftps", "127.0.0.2", "shop.example.test", VH_RULE_NAME_ANY, "/j/shop-any", 1,
     "('*', name) beats the service's wildcard"},
    {"smtps", "127.0.0.2", "x.example.test", VH_RULE_NONE, NULL, 1, "no row of smtps or '*'"},
    {"https", "127.0.0.2", "off.example.test", VH_RULE_NAME, "/j/off", 0, "a disabled name row decides (refuses)"},
    {"https", "127.0.2.9", "off.example.test", VH_RULE_NAME, "/j/off", 0,
     "a disabled name row: no fall-through to the prefix"},
    {"https", "127.0.0.2", "x.off.test", VH_RULE_WILDCARD, "/j/off-wild", 0,
     "a disabled wildcard: no fall-through to the default"},
    {"https", "127.0.0.2", "on.off.test", VH_RULE_NAME, "/j/on", 1, "an enabled name under a disabled wildcard"},
    {"https", "127.0.0.2", "localhost", VH_RULE_DEFAULT, "/j/default", 1, "one label: address rules only"},
    {"https", "127.0.2.9", "localhost", VH_RULE_PREFIX, "/j/parking", 1, "one label: address rules only"},
    {"https", "127.0.0.2", NULL, VH_RULE_DEFAULT, "/j/default", 1, "no name: address rules only"},
    {"https", "127.0.0.2", "", VH_RULE_DEFAULT, "/j/default", 1, "an empty name is none"},
    {"https", "127.0.0.3", NULL, VH_RULE_EXACT, "/j/dedicated", 1, "no name, the dedicated address"},
};
#define S10_CASES (sizeof s10_cases / sizeof s10_cases[0])

#endif
