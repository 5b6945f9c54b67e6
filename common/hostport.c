/*
 * hostport.c - host names, ports and "host:port" (hostport.h).
 */
#include "common/hostport.h"

#include <string.h>

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A DNS name or IPv4 address (letters, digits, '.', '-', '_'), or an IPv6
 * address in brackets. */
bool chr_host_valid(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        if (n < 4 || n > 48)
            return false;
        for (size_t i = 1; i + 1 < n; i++)
            if (!(memchr("0123456789abcdefABCDEF:.", s[i], 24) != NULL))
                return false;
        return true;
    }
    if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alnum(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

bool chr_port_valid(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* "host:port" of n bytes. */
bool chr_hostport_valid(const char *s, size_t n)
{
    size_t colon = n;
    while (colon > 0 && s[colon - 1] != ':')
        colon--;
    if (colon == 0)
        return false;
    return chr_host_valid(s, colon - 1) && chr_port_valid(s + colon, n - colon);
}
