/* elfread.h - a pure parser of ELF headers over a byte buffer.
 *
 * Reads what the dynamic linker would act on: the ELF interpreter
 * (PT_INTERP), the needed libraries (DT_NEEDED) and the library search
 * paths (DT_RUNPATH, DT_RPATH). 32- and 64-bit, both byte orders. It
 * reads only program headers and the dynamic segment, as ld.so does, and
 * never trusts an offset, a size or a count before checking it against
 * the buffer: the input is a file from a hostile jail (and a fuzz
 * target, tests/fuzz/fuzz_elf.c). No allocation, no I/O. */
#ifndef VH_ELFREAD_H
#define VH_ELFREAD_H

#include "vherr.h"

#include <stddef.h>

#define VH_ELFREAD_MAX_NEEDED 512 /* more DT_NEEDED entries is refused */

typedef struct vh_elfread {
    int elfclass;     /* 32 or 64 */
    int big_endian;   /* 0: little-endian */
    unsigned type;    /* ET_EXEC, ET_DYN, ... */
    unsigned machine; /* EM_X86_64, ... */
    /* Strings point into the parsed buffer, each checked to end with a
     * NUL inside it; NULL when absent. Valid as long as the buffer. */
    const char *interp;
    const char *runpath;
    const char *rpath;
    const char *needed[VH_ELFREAD_MAX_NEEDED];
    int nneeded;
    int is_dynamic; /* has a PT_DYNAMIC segment */
} vh_elfread;

/* Parse buf (len bytes). Returns 0 and fills out, or -1 with e
 * (VH_EX_DATAERR) naming what is malformed. A buffer that does not start
 * with the ELF magic fails with the message "not an ELF file". */
int vh_elfread_parse(const void *buf, size_t len, vh_elfread *out, vh_err *e);

/* True when buf starts with the ELF magic. */
int vh_elfread_is_elf(const void *buf, size_t len);

/* Can an object b be loaded into a process of a (class, byte order,
 * machine all equal)? */
int vh_elfread_compatible(const vh_elfread *a, const vh_elfread *b);

/* Debian's multiarch triple for the object's machine and class
 * ("x86_64-linux-gnu"), or NULL when unknown. */
const char *vh_elfread_multiarch(const vh_elfread *o);

#endif
