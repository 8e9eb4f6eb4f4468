/* This node's address as the other nodes of the fleet reach it (the config key nodeAddress,
 * the Node's InternalIP): given, or found from the routing table and the interfaces. */
#pragma once

#include <ifaddrs.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

/* Whether s is an IPv4 or an IPv6 address in text form. */
bool node_address_valid(const char *s);

/* The interface of the default route in the text of /proc/net/route: of the up routes with
 * destination and mask 0, the one of the lowest metric. 0 with *ret NULL when there is none;
 * -ENOMEM. */
int node_address_default_interface(const char *route_text, char **ret);

/* From a getifaddrs() list: the IPv4 address of default_if (NULL: none) when it is up, else
 * the first global IPv4 address (not loopback, not link-local) of an up interface that is not
 * the loopback, else "127.0.0.1". -ENOMEM. */
int node_address_pick(const struct ifaddrs *list, const char *default_if, char **ret);

/* node_address_pick() over /proc/net/route and getifaddrs(); either missing counts as empty.
 * -ENOMEM. */
int node_address_detect(char **ret);

/* A Node's status.addresses: [{type: InternalIP, address}, {type: Hostname, address:
 * hostname}]. NULL when out of memory. */
cJSON *node_address_list_new(const char *address, const char *hostname);
