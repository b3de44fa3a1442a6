/* vhostctl.h - shared by vhostctl's subcommands (one file each). */
#ifndef VHOSTCTL_H
#define VHOSTCTL_H

#include "audit.h"
#include "finding.h"
#include "ixwrite.h"
#include "row.h"
#include "vherr.h"

#include <argtable2.h>
#include <stdio.h>

typedef struct sqlite3 sqlite3;

/* A subcommand: argv[0] is "vhostctl NAME"; global options already
 * consumed; db is the path chosen by --db, VIRTUALD_DB or the default. */
struct vc_cmd {
    const char *name;
    const char *synopsis; /* after "vhostctl [--db FILE] " */
    const char *summary;
    int (*run)(const char *db, int argc, char **argv);
};

extern const struct vc_cmd vc_commands[];

/* The command called name (never NULL for a name in vc_commands). */
const struct vc_cmd *vc_find(const char *name);

/* Parse argv with an argtable that ends with --help, --db and arg_end (in
 * that order: help = table[n-3], db = table[n-2], end = table[n-1]).
 * Returns 0 to go on, or an exit code (0 after --help, 64 on errors,
 * printed to stderr with the synopsis). *db is replaced when the
 * subcommand's own --db was given. */
int vc_parse(const struct vc_cmd *cmd, void **table, int n, int argc, char **argv, const char **db);

/* Print "vhostctl: MESSAGE" to stderr and return e->code. */
int vc_error(const vh_err *e);

/* Open the database for writing (existing, current schema). */
int vc_open(const char *db, sqlite3 **out);

/* Mark the lookup index stale (vh_ixwrite_begin), commit (rolled back on
 * failure of either), bring the lookup index up to date (the
 * rows of keys in place, or all: keys NULL; vh_ixwrite_finish), close.
 * Returns 0 or the exit status of the printed error; an index that could
 * not be updated is a warning (virtuald then reads the database). */
int vc_commit_close(sqlite3 *h, const vh_ixwrite_key *keys, int nkeys);

/* A write command's failure: roll the transaction back, close the
 * database, print e; returns e's exit code (vc_error). */
int vc_abort_close(sqlite3 *h, const vh_err *e);

/* End a read (rolled back: it changed nothing) and close h. r is the
 * read's result: below 0, e's error is printed; else a failed close is.
 * Returns 0, or the exit status of the printed error. */
int vc_read_close(sqlite3 *h, int r, vh_err *e);

/* Rebuild the lookup index of the database file path (vh_ixwrite_rebuild);
 * failure is printed as a warning. */
void vc_index(const char *path);

/* Print s as a JSON string literal. */
void vc_json_string(FILE *f, const char *s);

/* Findings as vhostctl prints them: one line each (to out, default
 * stdout: "DOMAIN: SEVERITY [KIND] PATH: PROBLEM - fix: FIX"), or JSON
 * objects of one array whose brackets the caller prints. Counts them. */
struct vc_findings {
    int json;
    FILE *out;
    long errors, warnings, shown;
};
void vc_print_finding(void *ctx, const vh_finding *f);

/* The run-as identity import and migrate-inetd give every row: user and
 * group (either NULL) resolved into ident, which is cleared first (no
 * user: root services). --group without --user is a usage error. 0, or
 * -1 with e. */
int vc_bulk_identity(const char *user, const char *group, vh_row *ident, vh_err *e);

/* A finding as a JSON object of --json output, its separator first and
 * its members up to "fix", left open for the caller's own members and
 * closing brace (vc_print_finding, check's accepted findings). */
void vc_finding_json_open(struct vc_findings *s, const vh_finding *f);

/* THREATS K8 over every row of h (in the caller's transaction): each
 * jail inside another and the database db inside a jail, printed as
 * error findings through f (NULL: counted only), only those involving
 * the root only when it is not NULL (nest.h). Returns their number, or
 * -1 with e filled. */
long vc_nest(sqlite3 *h, const char *db, const char *only, struct vc_findings *f, vh_err *e);

/* For import and migrate-inetd, after their rows are written in the
 * transaction: -1 with e filled (the findings printed on stderr) when
 * there are more nesting findings than before (vc_nest's count before
 * the writes), else 0. A nesting left by an earlier add --force does
 * not block other imports. */
int vc_nest_refuse(sqlite3 *h, const char *db, long before, vh_err *e);

/* db made absolute (its directory resolved): 0, or -1. */
int vc_db_abspath(const char *db, char *out, size_t n);

/* Issue 13, point 2: is root no jail at all ("/", or a directory that
 * holds the database db or another domain's jail: nest.h
 * vh_nest_no_jail)? h NULL: without the database (the first two only).
 * 1 with why filled, 0, or -1 with e. */
int vc_no_jail(sqlite3 *h, const char *db, const char *root, char *why, size_t n, vh_err *e);

/* In h's write transaction, after a change that removed or moved rows:
 * every row marked unjailed whose root is a jail now (the jail it held
 * removed or moved) loses the mark, with a warning on stderr naming it -
 * virtuald then judges it as a jail (K7), failing closed. Returns how
 * many marks it took off (the caller then rebuilds the lookup index: pass
 * no keys), or -1 with e. */
int vc_rejudge_unjailed(sqlite3 *h, const char *db, vh_err *e);

/* A comment vhostctl stores: shorter than VH_COMMENT_MAX, UTF-8 without
 * control characters (it is printed as JSON and on terminals). 0, or -1
 * with e (VH_EX_DATAERR). */
int vc_comment_valid(const char *comment, vh_err *e);

/* In a read transaction: 1 when the row (service, address, root) is
 * marked unjailed but its root is a jail now, with why filled; 0; -1 with e. */
int vc_unjailed_stale(sqlite3 *h, const char *db, const char *root, char *why, size_t n, vh_err *e);

/* The command being run (argv as vc_cmd_* get it, db as given) with
 * extra appended, as a shell line the operator can copy: how a refusal
 * names the way to do it on purpose (e.g. extra "--unjailed"). */
void vc_command_with(const char *db, int argc, char **argv, const char *extra, char *out, size_t n);

/* "SERVICE/ADDRESS": how findings and logs name a domain. */
void vc_domain_label(const vh_row *r, char *out, size_t n);

/* ---- issue 13 point 6: messages ---- */

/* SERVICE ADDRESS ROOT given in another order (an address where ROOT
 * goes, a path where ADDRESS goes): -1 with e (VH_EX_USAGE) naming the
 * order and the corrected command line for cmd; 0 when they look right. */
int vc_order_hint(const char *cmd, const char *service, const char *address, const char *root, vh_err *e);

/* vhostctl changes and reads a root-owned database and enters jails'
 * trees: 0 as root, else -1 with e (VH_EX_NOPERM, "run as root"). */
int vc_need_root(vh_err *e);

/* ---- end issue 13 point 6 ---- */

/* Issue 13, points 7 and 8: the audit of a write command and the jail
 * checks add and set share. */
/* vh_audit_write (the history row, in h's transaction), then
 * vc_commit_close, then the syslog line (vh_audit_log) once committed.
 * Returns 0 or the exit status of the printed error. */
int vc_commit_audit(sqlite3 *h, vh_audit *a, const vh_ixwrite_key *keys, int nkeys);
/* The jail of row as add checks it (the checker virtuald runs per
 * connection, the deep scan; findings printed on stderr): 0 when it may
 * be used (no errors, or force), else the exit status after printing
 * "... fix them, or VERB anyway with --force". *errors: their count. */
int vc_jail_admit(const vh_row *row, int force, const char *verb, long *errors);
/* K8 for a row whose root is now root (in h's transaction), the findings
 * printed on stderr, their number in *found: 0 when nothing nests (or
 * force), else the exit status of the printed refusal or error. */
int vc_nest_admit(sqlite3 *h, const char *db, const char *root, int force, const char *verb, long *found);
/* sql/008: the base of row (nothing when it has none) as a jail is
 * checked (the path checker, the deep scan, with the row's identity);
 * refused on an unjailed row, a root of / or the jail itself. 0 or the
 * exit status of the printed refusal; *errors: the findings' count. */
int vc_base_admit(const vh_row *row, int force, const char *verb, long *errors);
/* The mount points of row's base in its jail: each directory the base
 * provides (jail.h VH_BASE_DIRS) made in the jail, root's and 0755, when
 * missing, through the descriptors of the path checker; a symlink or a
 * non-directory in the way is refused. 0 or -1 with e. */
int vc_base_mountpoints(const vh_row *row, vh_err *e);
/* --base DIR|none into row->base. 0 or -1 with e. */
int vc_base_option(const char *text, vh_row *row, vh_err *e);
/* K8 for a base (in h's transaction): the jails that hold it or lie
 * below it, printed through f (NULL: counted). Their number, or -1. */
long vc_nest_base(sqlite3 *h, const char *base, struct vc_findings *f, vh_err *e);
/* vc_nest_base's findings on stderr, as vc_nest_admit: 0, or the exit
 * status of the printed refusal; *found grows by their number. */
int vc_base_nest_admit(sqlite3 *h, const char *base, int force, const char *verb, long *found);
int vc_cmd_history(const char *db, int argc, char **argv);

int vc_cmd_init(const char *db, int argc, char **argv);
int vc_cmd_add(const char *db, int argc, char **argv);
int vc_cmd_remove(const char *db, int argc, char **argv);
int vc_cmd_enable(const char *db, int argc, char **argv);
int vc_cmd_disable(const char *db, int argc, char **argv);
int vc_cmd_list(const char *db, int argc, char **argv);
int vc_cmd_lookup(const char *db, int argc, char **argv);
int vc_cmd_check(const char *db, int argc, char **argv);
int vc_cmd_provision(const char *db, int argc, char **argv);
int vc_cmd_import(const char *db, int argc, char **argv);
int vc_cmd_export(const char *db, int argc, char **argv);
int vc_cmd_migrate(const char *db, int argc, char **argv);
int vc_cmd_set(const char *db, int argc, char **argv);
/* issue 13 point 9 (cmd_accept.c) */
int vc_cmd_accept(const char *db, int argc, char **argv);
int vc_cmd_unaccept(const char *db, int argc, char **argv);
/* issue 15 (cmd_proxytrust.c) */
int vc_cmd_proxy_trust(const char *db, int argc, char **argv);
/* issue 18: a fleet (cmd_fleet.c) */
int vc_cmd_snapshot(const char *db, int argc, char **argv);
int vc_cmd_sync(const char *db, int argc, char **argv);
int vc_cmd_status(const char *db, int argc, char **argv);
int vc_cmd_agent(const char *db, int argc, char **argv);

/* The options of sql/002's settings as add and set take them (cmd_set.c):
 * nbs "on" or "off" into *nbs_out (1/0; "on" refused when run_as), and
 * max_procs digits into *max_out; NULL text leaves its output alone.
 * 0, or -1 with e naming the value and the fix. */
int vc_limits_option(const char *nbs, const char *max_procs, int run_as, int *nbs_out, uint32_t *max_out, vh_err *e);

/* Issue 16: --max-instances N|none, --max-per-source N|none,
 * --source-prefix V4,V6 as add and set take them (cmd_set.c). Each NULL
 * text keeps row's value; the others are written into row. 0, or -1
 * with e naming the value and its range. */
int vc_conn_limits_option(const char *inst, const char *per_source, const char *prefix, vh_row *row, vh_err *e);

/* The limits column of list: "-", "N", "N:M/P4,P6" or "-:M/P4,P6". */
void vc_conn_limits_text(const vh_row *row, char *out, size_t n);

/* Shared by import and migrate-inetd (cmd_import.c). */
struct vh_legacy_diag;
struct vh_row;
/* Print a diagnostic as "FILE:LINE: error|warning: MESSAGE" on stderr. */
void vc_print_diag(void *ctx, const struct vh_legacy_diag *d);
/* Say on f as whom the imported domains run ("THEY run as ..."). */
void vc_print_identity(FILE *f, const struct vh_row *ident, const char *they);

#endif
