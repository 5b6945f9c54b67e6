/*
 * hostport.h - checks of "host:port" as the ZooKeeper connect string and the
 * Mesos master's address take them: a DNS name or IPv4 address of
 * [A-Za-z0-9._-] (at most 253, not starting with '-' or '.'), or an IPv6
 * address in brackets; a port of 1..65535.  Pure: no lookup.
 */
#ifndef CHR_COMMON_HOSTPORT_H
#define CHR_COMMON_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>

/* The n bytes at s are a host name or address. */
bool chr_host_valid(const char *s, size_t n);
/* The n bytes at s are a decimal port 1..65535. */
bool chr_port_valid(const char *s, size_t n);
/* The n bytes at s are "host:port" (the last ':' splits). */
bool chr_hostport_valid(const char *s, size_t n);

#endif
