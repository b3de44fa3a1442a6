#include "hostname.h"

#include <string.h>

vh_hostname_error vh_hostname_norm(const unsigned char *v, size_t n, char out[VH_HOSTNAME_MAX + 1])
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7E)
            return VH_HOSTNAME_BYTE;
    if (n > 0 && v[n - 1] == '.')
        n--; /* one dot only: "a.b.." keeps an empty last label, refused below */
    if (n == 0 || n > VH_HOSTNAME_MAX)
        return VH_HOSTNAME_LENGTH;
    char name[VH_HOSTNAME_MAX + 1];
    size_t label = 0;
    int all_digits = 1;
    for (size_t i = 0; i < n; i++) {
        char c = (char)v[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == '.') {
            if (label == 0)
                return VH_HOSTNAME_LABEL;
            if (name[i - 1] == '-')
                return VH_HOSTNAME_HYPHEN;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if (c == '-' && label == 0)
                return VH_HOSTNAME_HYPHEN;
            if (++label > VH_HOSTNAME_LABEL_MAX)
                return VH_HOSTNAME_LABEL;
            if (c < '0' || c > '9')
                all_digits = 0;
        } else {
            return VH_HOSTNAME_CHAR;
        }
        name[i] = c;
    }
    if (label == 0)
        return VH_HOSTNAME_LABEL; /* an empty last label: two trailing dots */
    if (name[n - 1] == '-')
        return VH_HOSTNAME_HYPHEN;
    name[n] = '\0';
    if (!all_digits)
        memcpy(out, name, n + 1);
    return VH_HOSTNAME_OK;
}

const char *vh_hostname_error_text(vh_hostname_error e)
{
    switch (e) {
    case VH_HOSTNAME_OK: return "a valid host name";
    case VH_HOSTNAME_BYTE:
        return "host name with a byte outside printable ASCII (NUL, space, 8-bit: an IDN must come as its xn-- "
               "A-label)";
    case VH_HOSTNAME_LENGTH: return "host name empty or longer than 253 bytes";
    case VH_HOSTNAME_CHAR: return "host name with a character other than a letter, digit, hyphen or dot";
    case VH_HOSTNAME_LABEL: return "host name with an empty label or a label longer than 63 bytes";
    case VH_HOSTNAME_HYPHEN: return "host name with a label starting or ending with a hyphen";
    }
    return "unknown host-name error";
}
