/* libFuzzer target for the ELF header parser (elf.c): whatever the bytes,
 * vh_elfread_parse answers or refuses, and every string it returns lies
 * inside the buffer and is terminated there. Built with clang and
 * -DVH_FUZZ=ON; see tests/fuzz/CMakeLists.txt. */
#include "elfread.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void inside(const uint8_t *buf, size_t len, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    if (!s)
        return;
    if (p < buf || p >= buf + len || !memchr(p, 0, (size_t)(buf + len - p)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    vh_elfread o;
    vh_err e;
    if (vh_elfread_parse(buf, size, &o, &e) == 0) {
        inside(buf, size, o.interp);
        inside(buf, size, o.runpath);
        inside(buf, size, o.rpath);
        for (int i = 0; i < o.nneeded; i++)
            inside(buf, size, o.needed[i]);
        (void)vh_elfread_multiarch(&o);
    }
    free(buf);
    return 0;
}
