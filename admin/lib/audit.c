#include "audit.h"

#include "db.h"
#include "exitcodes.h"
#include "log.h"
#include "store.h"

#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static int name_of_uid(uid_t uid, char *out, size_t n)
{
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) != 0 || !pwp)
        return -1;
    snprintf(out, n, "%s", pw.pw_name);
    return 0;
}

/* The person behind the command, as well as it can be told: sudo's
 * SUDO_USER (only when running as root: sudo sets it there), the login
 * name of the session (getlogin: the audit login uid or utmp), the owner
 * of the terminal, the name of the real uid. A claim for the record,
 * never used to decide anything. */
static void who(vh_audit *a)
{
    a->uid = (uint32_t)getuid();
    const char *s = getenv("SUDO_USER");
    if (a->uid == 0 && s && *s) {
        snprintf(a->login, sizeof a->login, "%s", s);
        return;
    }
    if (getlogin_r(a->login, sizeof a->login) == 0 && a->login[0])
        return;
    for (int fd = 0; fd <= 2; fd++) {
        char tty[256];
        struct stat st;
        if (ttyname_r(fd, tty, sizeof tty) == 0 && stat(tty, &st) == 0 &&
            name_of_uid(st.st_uid, a->login, sizeof a->login) == 0)
            return;
    }
    if (name_of_uid(a->uid, a->login, sizeof a->login) < 0)
        a->login[0] = '\0';
}

/* A word as a shell would need it to mean itself. */
static void quote(FILE *f, const char *w)
{
    int plain = *w != '\0';
    for (const char *p = w; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,", *p) != NULL;
    if (plain) {
        fputs(w, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = w; *p; p++)
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    fputc('\'', f);
}

int vh_audit_start(vh_audit *a, int argc, char **argv, vh_err *e)
{
    memset(a, 0, sizeof *a);
    who(a);
    size_t len = 0;
    FILE *f = open_memstream(&a->command, &len);
    if (!f)
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    const char *name = argc > 0 && argv[0] ? argv[0] : "";
    if (strncmp(name, "vhostctl ", 9) == 0)
        name += 9;
    fputs(name, f);
    for (int i = 1; i < argc; i++) {
        fputc(' ', f);
        quote(f, argv[i]);
    }
    if (fclose(f) != 0 || !a->command) {
        free(a->command);
        a->command = NULL;
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    }
    return 0;
}

static int dup_or_null(const char *s, char **out, vh_err *e)
{
    free(*out);
    *out = NULL;
    if (s && !(*out = strdup(s)))
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    return 0;
}

int vh_audit_key(vh_audit *a, sqlite3 *db, const char *service, const char *address, vh_err *e)
{
    if (dup_or_null(service, &a->service, e) < 0 || dup_or_null(address, &a->address, e) < 0)
        return -1;
    free(a->before);
    a->before = NULL;
    return vh_store_json(db, service, address, &a->before, e);
}

int vh_audit_summary(vh_audit *a, const char *before, const char *after, vh_err *e)
{
    if (dup_or_null(before, &a->before, e) < 0 || dup_or_null(after, &a->after, e) < 0)
        return -1;
    return 0;
}

int vh_audit_bulk(vh_audit *a, sqlite3 *db, const char *kind, const char *service, const char *file,
                  unsigned long added, unsigned long removed, unsigned long same, vh_err *e)
{
    static const char sql[] = "SELECT json_object('bulk', ?1, 'service', ?2, 'file', ?3, 'added', ?4, 'removed', ?5,"
                              " 'unchanged', ?6)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "writing the history", e);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (service)
        sqlite3_bind_text(st, 2, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, file ? file : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)added);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)removed);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)same);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc == SQLITE_ROW)
        result = vh_audit_summary(a, NULL, (const char *)sqlite3_column_text(st, 0), e);
    else
        result = vh_db_fail(db, rc, "writing the history", e);
    sqlite3_finalize(st);
    return result;
}

int vh_audit_write(vh_audit *a, sqlite3 *db, vh_err *e)
{
    static const char ins[] = "INSERT INTO history (uid, login, command, service, address, before, after)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    /* ids grow by one per row (the newest is never deleted), so the rows
     * to keep are the history_max highest: no scan of the table */
    static const char trim[] = "DELETE FROM history WHERE id <= (SELECT max(id) FROM history) -"
                               " (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'history_max')";
    if (a->service && vh_store_json(db, a->service, a->address, &a->after, e) < 0)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, ins, sizeof ins, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "writing the history", e);
    sqlite3_bind_int64(st, 1, a->uid);
    sqlite3_bind_text(st, 2, a->login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->command ? a->command : "", -1, SQLITE_STATIC);
    if (a->service) {
        sqlite3_bind_text(st, 4, a->service, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->address, -1, SQLITE_STATIC);
    }
    if (a->before)
        sqlite3_bind_text(st, 6, a->before, -1, SQLITE_STATIC);
    if (a->after)
        sqlite3_bind_text(st, 7, a->after, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "writing the history", e);
    if ((rc = sqlite3_exec(db, trim, NULL, NULL, NULL)) != SQLITE_OK)
        return vh_db_fail(db, rc, "trimming the history", e);
    return 0;
}

void vh_audit_line(const vh_audit *a, char *out, size_t n)
{
    char login[1024], command[2048], service[256], address[256], before[2048], after[2048];
    snprintf(out, n, "change uid=%u login=%s command=%s service=%s address=%s before=%s after=%s", (unsigned)a->uid,
             vh_log_value(a->login, login, sizeof login),
             vh_log_value(a->command ? a->command : "", command, sizeof command),
             a->service ? vh_log_value(a->service, service, sizeof service) : "-",
             a->address ? vh_log_value(a->address, address, sizeof address) : "-",
             a->before ? vh_log_value(a->before, before, sizeof before) : "null",
             a->after ? vh_log_value(a->after, after, sizeof after) : "null");
}

void vh_audit_log(const vh_audit *a)
{
    char line[12288];
    vh_audit_line(a, line, sizeof line);
    openlog("vhostctl", LOG_PID, LOG_AUTHPRIV);
    syslog(LOG_NOTICE, "%s", line);
    closelog();
}

void vh_audit_free(vh_audit *a)
{
    free(a->command);
    free(a->service);
    free(a->address);
    free(a->before);
    free(a->after);
    memset(a, 0, sizeof *a);
}

int vh_audit_get_max(sqlite3 *db, long *max, vh_err *e)
{
    static const char sql[] = "SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'history_max'";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the settings", e);
    rc = sqlite3_step(st);
    *max = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading the settings", e);
    return 0;
}

int vh_audit_set_max(sqlite3 *db, long max, vh_err *e)
{
    static const char sql[] = "INSERT OR REPLACE INTO settings (name, value) VALUES ('history_max', ?1)";
    if (max < 0 || max > VH_AUDIT_MAX_MAX)
        return vh_fail(e, VH_EX_USAGE, "the history bound is 0 to %ld rows, not %ld", VH_AUDIT_MAX_MAX, max);
    sqlite3_stmt *st = NULL;
    char text[32];
    snprintf(text, sizeof text, "%ld", max);
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "changing the settings", e);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "changing the settings", e);
    return 0;
}
