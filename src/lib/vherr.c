#include "vherr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vh_fail(vh_err *e, int code, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return -1;
}

char *vh_printable_n(const char *s, size_t len, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (n == 0)
        return out;
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 1 >= n)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= n)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

char *vh_printable(const char *s, char *out, size_t n)
{
    return vh_printable_n(s, s ? strlen(s) : 0, out, n);
}
