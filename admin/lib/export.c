#include "export.h"

#include "addr.h"
#include "exitcodes.h"
#include "store.h"
#include "valid.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

struct export_ctx {
    FILE *out;
    vh_export_stats *st;
};

static int export_row(void *ctx, const vh_row *row)
{
    struct export_ctx *x = ctx;
    /* the flat format is address-only (fleet.md 3.4): a prefix, name
     * or wildcard row is left out, counted, and said on stderr by the
     * caller */
    int kind = vh_key_kind(row->address);
    if (kind != VH_KEY_ADDRESS && kind != VH_KEY_DEFAULT) {
        x->st->skipped++;
        return 0;
    }
    size_t len = strlen(row->root);
    vh_err e;
    /* what the parser would not read back as the same row */
    int bad = vh_valid_root(row->root, &e) < 0 || (len && (row->root[len - 1] == ' ' || row->root[len - 1] == '\t'));
    if (bad) {
        char shown[4 * PATH_MAX + 8];
        x->st->bad++;
        fprintf(x->out, "# cannot be expressed in this format: %s %s\n", row->address,
                vh_printable(row->root, shown, sizeof shown));
        return 0;
    }
    if (row->has_user)
        x->st->with_user++;
    if (row->net_bind_service || row->max_procs != VH_MAX_PROCS_DEFAULT)
        x->st->settings++;
    if (row->unjailed)
        x->st->unjailed++;
    if (row->base[0])
        x->st->based++;
    if (!row->enabled) {
        x->st->disabled++;
        fprintf(x->out, "# disabled: %s %s\n", row->address, row->root);
        return 0;
    }
    x->st->rows++;
    fprintf(x->out, "%s %s\n", row->address, row->root);
    return 0;
}

int vh_export(sqlite3 *db, const char *service, FILE *out, vh_export_stats *st, vh_err *e)
{
    memset(st, 0, sizeof *st);
    if (vh_valid_service(service, 1, e) < 0)
        return -1;
    fprintf(out, "# virtuald domains of service %s: ADDRESS DIRECTORY, exact addresses first, default last\n", service);
    struct export_ctx x = {out, st};
    if (vh_store_each(db, service, export_row, &x, e) < 0)
        return -1;
    if (fflush(out) != 0 || ferror(out))
        return vh_fail(e, VH_EX_IOERR, "writing the export: %s", strerror(errno));
    return 0;
}
