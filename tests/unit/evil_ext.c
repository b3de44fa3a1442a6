/* evil_ext.so - a "hostile SQLite extension" for THREATS E8: loading it
 * creates the file named by $VH_E8_MARKER. virtuald must never load it,
 * whatever the database says; the tests' positive controls show that a
 * plain SQLite connection would. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int sqlite3_extension_init(void *db, char **err, const void *api);

__attribute__((constructor)) static void loaded(void)
{
    const char *m = getenv("VH_E8_MARKER");
    if (!m)
        return;
    int fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

int sqlite3_extension_init(void *db, char **err, const void *api)
{
    (void)db;
    (void)err;
    (void)api;
    return 0;
}
