/* store.h - vhostctl's reads and writes of domain rows. Each function is
 * one statement; the caller wraps a command in one transaction. */
#ifndef VH_STORE_H
#define VH_STORE_H

#include "row.h"
#include "vherr.h"

#include <stddef.h>

typedef struct sqlite3 sqlite3;

/* Insert a new row. An existing (service, address) is an error naming
 * it (VH_EX_DATAERR). */
int vh_store_add(sqlite3 *db, const vh_row *row, vh_err *e);

/* Delete one row; a missing row is an error (VH_EX_NOHOST). */
int vh_store_remove(sqlite3 *db, const char *service, const char *address, vh_err *e);

/* Change a row's settings of sql/002 in place: net_bind_service 0 or 1
 * (-1: keep), max_procs 1..VH_MAX_PROCS_MAX (0: keep). A missing row is
 * VH_EX_NOHOST; net_bind_service 1 on a run-as row VH_EX_DATAERR (it has
 * no capabilities); a value out of range the schema's CHECK. */
int vh_store_set_limits(sqlite3 *db, const char *service, const char *address, int net_bind_service, uint32_t max_procs,
                        vh_err *e);

/* Read the row of (service, address) whole into *row: 0, or -1
 * (VH_EX_NOHOST when there is none). */
int vh_store_get(sqlite3 *db, const char *service, const char *address, vh_row *row, vh_err *e);

/* Write every setting of row (root, run-as identity, enabled, comment,
 * the settings of sql/002) over the row of its key in place, in one
 * statement: vhostctl set. A missing row is VH_EX_NOHOST; a value the
 * schema refuses its CHECK (VH_EX_DATAERR). */
int vh_store_update(sqlite3 *db, const vh_row *row, vh_err *e);

/* The row of (service, address) as the JSON object of list --json
 * (VH_STORE_JSON_OBJECT) into *out (malloc'd; NULL: there is no such
 * row). 0, or -1 with e. The history's before and after (audit.h). */
int vh_store_json(sqlite3 *db, const char *service, const char *address, char **out, vh_err *e);

/* Set enabled; a missing row is an error (VH_EX_NOHOST). */
int vh_store_set_enabled(sqlite3 *db, const char *service, const char *address, int enabled, vh_err *e);

/* Visit rows (all, or one service), ordered by service then address with
 * 'default' last. cb returns 0 to go on, non-zero to stop. Streams: no
 * row count limit, constant memory. Returns 0 or -1. */
typedef int (*vh_row_cb)(void *ctx, const vh_row *row);
int vh_store_each(sqlite3 *db, const char *service, vh_row_cb cb, void *ctx, vh_err *e);

/* The same rows as JSON objects built by SQLite's json_object(), one
 * text per call of cb. */
typedef int (*vh_text_cb)(void *ctx, const char *text);
int vh_store_each_json(sqlite3 *db, const char *service, vh_text_cb cb, void *ctx, vh_err *e);

/* Both: the row and its JSON object, for a reader that picks rows by
 * their columns and prints them as JSON (vhostctl list's filters). */
typedef int (*vh_row_text_cb)(void *ctx, const vh_row *row, const char *text);
int vh_store_each_both(sqlite3 *db, const char *service, vh_row_text_cb cb, void *ctx, vh_err *e);

/* A row of domains as one JSON object (SQLite's json_object over its
 * columns): list --json and the history's before and after. Every column
 * is named here once, with its key. */
#define VH_STORE_JSON_OBJECT                                                                                           \
    "json_object('service', service, 'address', address, 'root', root, 'user', user, 'group', grp, 'uid', uid,"        \
    " 'gid', gid, 'groups', json('[' || groups || ']'),"                                                               \
    " 'enabled', json(CASE enabled WHEN 1 THEN 'true' ELSE 'false' END),"                                              \
    " 'net_bind_service', json(CASE net_bind_service WHEN 1 THEN 'true' ELSE 'false' END), 'max_procs', max_procs,"    \
    " 'unjailed', json(CASE unjailed WHEN 1 THEN 'true' ELSE 'false' END),"                                            \
    " 'max_instances', max_instances, 'max_per_source', max_per_source, 'source_prefix4', source_prefix4,"             \
    " 'source_prefix6', source_prefix6, 'base', base,"                                                                 \
    " 'comment', comment, 'created', created, 'updated', updated)"

/* Their statements (the tests check that SQLite walks the index, no sort). */
extern const char vh_store_each_sql[], vh_store_each_json_sql[];

#endif
