/* vhostctl - the operator's tool for the virtuald database.
 * main() dispatches to one file per subcommand. */
#include "vhostctl.h"

#include "db.h"
#include "exitcodes.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

const struct vc_cmd vc_commands[] = {
    {"init", "init", "create the database, or upgrade its schema (idempotent)", vc_cmd_init},
    {"add",
     "add SERVICE ADDRESS ROOT [--user U] [--group G] [--comment TEXT] [--disabled] [--net-bind-service] [--max-procs "
     "N]"
     " [--max-instances N] [--max-per-source N] [--source-prefix V4,V6] [--force] [--unjailed]",
     "add a domain: SERVICE (or '*') on ADDRESS (an address, a prefix NET/LEN, 'default', or a host name or "
     "*.wildcard chosen by TLS server name) is served from jail ROOT",
     vc_cmd_add},
    {"remove", "remove SERVICE ADDRESS [--kill]", "remove a domain (--kill: and end its running services)",
     vc_cmd_remove},
    {"enable", "enable SERVICE ADDRESS", "enable a domain", vc_cmd_enable},
    {"disable", "disable SERVICE ADDRESS [--kill]",
     "disable a domain: its connections are refused, never given to a default (--kill: its running services end)",
     vc_cmd_disable},
    {"set",
     "set SERVICE ADDRESS [--root DIR] [--user U | --no-user] [--group G] [--comment TEXT] [--net-bind-service on|off]"
     " [--max-procs N] [--max-instances N|none] [--max-per-source N|none] [--source-prefix V4,V6]"
     " [--enable | --disable] [--unjailed on|off] [--force]",
     "change a domain in place, in one transaction: its jail, run-as user, comment, settings, limits, enabled",
     vc_cmd_set},
    {"list", "list [--service SERVICE [--effective]] [--address ADDRESS] [--root DIR] [--user USER] [--live] [--json]",
     "list domains, all or those selected; --effective adds the '*' rows that serve SERVICE; --live: the slots "
     "the rows with limits hold now",
     vc_cmd_list},
    {"lookup", "lookup SERVICE IP [--name NAME] [--peer IP] [--json]",
     "show what virtuald would decide for SERVICE dialled on IP (with --name: for a client asking for that TLS server "
     "name): every probe in order and the deciding rule; --peer: whether that peer is a trusted PROXY source (a "
     "header required) and which row decides",
     vc_cmd_lookup},
    {"check", "check [SERVICE [ADDRESS]] [--program NAME]... [--inetd-conf FILE] [--all] [--json]",
     "check the database and each selected domain's jail (SERVICE ADDRESS: the row that serves it); exit 0 clean or "
     "only accepted findings, 1 warnings, 2 errors",
     vc_cmd_check},
    {"provision",
     "provision ROOT [--program PATH]... [--profile NAME]... [--package NAME]... [--file PATH]... [--pam SERVICE]... "
     "[--gconv] [--user U]... [--group G] [--profile-dir DIR] | provision --refresh ROOT|--all | provision "
     "--list-profiles [--profile-dir DIR]",
     "build or complete jail ROOT: the programs, packages, files and profiles named, with their interpreters, "
     "libraries and run-time modules (PAM, NSS, locale, gconv), /dev, and the users merged into its /etc/passwd and "
     "/etc/group (none dropped; a conflict is an error, nothing written); what was copied is recorded in the "
     "database (the manifest); --refresh copies again what changed on the host since (after apt upgrade)",
     vc_cmd_provision},
    {"import", "import --service SERVICE FILE [--dry-run] [--replace] [--user U] [--group G] [--unjailed]",
     "import a legacy virtuald configuration (ADDRESS DIRECTORY lines) as SERVICE's domains, all or nothing",
     vc_cmd_import},
    {"export", "export --service SERVICE",
     "write SERVICE's domains in the legacy format: exact addresses, then default", vc_cmd_export},
    {"migrate-inetd",
     "migrate-inetd INETD_CONF [--write] [--dry-run] [--virtuald PATH] [--user U] [--group G] [--unjailed]",
     "import the configuration of every legacy virtuald line of INETD_CONF and convert the lines", vc_cmd_migrate},
    /* issue 13 point 9: findings that can go green */
    {"accept", "accept KIND (--domain SERVICE ADDRESS | --jail DIR) [--path P] --reason TEXT",
     "accept a warning of check for a domain or a jail, with the reason: check shows it apart and exits 0 when only "
     "accepted findings remain",
     vc_cmd_accept},
    {"unaccept", "unaccept KIND (--domain SERVICE ADDRESS | --jail DIR) [--path P]",
     "withdraw an acceptance: check shows the finding again", vc_cmd_unaccept},
    /* issue 13 point 8: the audit trail */
    {"history", "history [SERVICE [ADDRESS]] [--limit N] [--json] | history --max N",
     "show the change history (oldest first), or set how many changes it keeps", vc_cmd_history},
    /* issue 15: balancers that send a PROXY protocol header */
    {"proxy-trust",
     "proxy-trust add SOURCE [--service S] [--versions 1|2|1,2] [--comment TEXT] [--wide] | proxy-trust remove SOURCE "
     "[--service S] | proxy-trust list [--json]",
     "trust a load balancer (an address or prefix) to send a PROXY protocol header, required from it from then on, "
     "for service S or every service ('*'); remove it; or list them",
     vc_cmd_proxy_trust},
    /* issue 18: a fleet of hosts sharing one configuration */
    {"snapshot", "snapshot [--out DIR]",
     "on a fleet's master: publish a consistent copy of the fleet's configuration as DIR/vhosts-GENERATION.db "
     "(default "
     "/var/lib/virtuald/outbox"
     ")",
     vc_cmd_snapshot},
    {"sync", "sync FILE [--force]",
     "on a replica: check a master's snapshot (trust, schema, integrity, fleet, newer generation, the same uids "
     "here) and apply its differences in one transaction",
     vc_cmd_sync},
    {"status", "status [--json]", "the role, fleet, generation, last sync and lookup index of this host's database",
     vc_cmd_status},
    {"agent", "agent [--min-generation FILE]",
     "for HAProxy's agent-check, run by inetd: one line, 'ready up', 'up drain #REASON' (the last sync failed, or "
     "this host lags) or 'down #REASON' (the database is unusable)",
     vc_cmd_agent},
    {NULL, NULL, NULL, NULL},
};

const struct vc_cmd *vc_find(const char *name)
{
    for (const struct vc_cmd *c = vc_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: vhostctl [--db FILE] COMMAND [ARGS...]\n"
            "       vhostctl --help | --version | COMMAND --help\n\n"
            "Manage the virtuald domain database (default %s, or $VIRTUALD_DB).\n\nCommands:\n",
            VH_DB_DEFAULT_PATH);
    for (const struct vc_cmd *c = vc_commands; c->name; c++)
        fprintf(f, "  vhostctl [--db FILE] %s\n      %s\n", c->synopsis, c->summary);
    fputc('\n', f);
    vh_exit_help(f, VH_PROG_VHOSTCTL);
    fprintf(f, "See vhostctl(8).\n");
}

int main(int argc, char **argv)
{
    /* Statement journals in memory, never in a temporary file. The
     * prefix_lengths triggers (sql/004) give every INSERT and DELETE of
     * domains a statement journal, which this SQLite build otherwise
     * wrote through a file in /var/tmp: half a million writes per
     * 100,000 imported rows (a million-row import went from 6.4 to 22 s).
     * A journal holds the pages one statement changes: a few for a row;
     * for import --replace's one DELETE of a service's rows, about 0.2 KB
     * per row (47 MiB peak at 200,000). temp_store stays on files, so
     * that nest.c's sorter keeps memory bounded. Before any other SQLite
     * call (sqlite3_config). */
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
    const char *db = getenv("VIRTUALD_DB");
    if (!db || !*db)
        db = VH_DB_DEFAULT_PATH;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("vhostctl %s (schema version %d, SQLite %s)\n", VH_VERSION, vh_db_schema_version(),
                   sqlite3_libversion());
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            db = argv[i] + 5;
        } else {
            fprintf(stderr, "vhostctl: unknown option '%s' - see vhostctl --help\n", argv[i]);
            return VH_EX_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return VH_EX_USAGE;
    }
    for (const struct vc_cmd *c = vc_commands; c->name; c++) {
        if (strcmp(c->name, argv[i]) != 0)
            continue;
        /* Issue 13 point 6: not root - say so, rather than whatever the
         * database or a jail's path would refuse. Help needs no root. */
        int help = 0;
        for (int k = i + 1; k < argc; k++)
            help |= strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0;
        vh_err e;
        if (!help && vc_need_root(&e) < 0)
            return vc_error(&e);
        /* The subcommand sees "vhostctl NAME" as argv[0], then its words. */
        char name[64];
        snprintf(name, sizeof name, "vhostctl %s", c->name);
        argv[i] = name;
        return c->run(db, argc - i, argv + i);
    }
    fprintf(stderr, "vhostctl: unknown command '%s' - see vhostctl --help\n", argv[i]);
    return VH_EX_USAGE;
}
