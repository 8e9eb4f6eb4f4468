/* Finding this node's address: the kernel's default route names the interface other hosts
 * most likely reach this one through; its IPv4 address is what the fleet is told. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "node-address.h"
#include "util.h"

bool node_address_valid(const char *s)
{
        unsigned char buf[sizeof(struct in6_addr)];

        return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

int node_address_default_interface(const char *route_text, char **ret)
{
        unsigned long best_metric = 0;
        char *best = NULL;

        *ret = NULL;
        /* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex in host order,
         * after one line of headings */
        for (const char *line = route_text ? strchr(route_text, '\n') : NULL; line && *line;
             line = strchr(line, '\n')) {
                char iface[IF_NAMESIZE + 1];
                unsigned long dest, flags, metric, mask;

                line++;
                if (sscanf(line, "%16s %lx %*x %lx %*d %*d %lu %lx", iface, &dest, &flags, &metric, &mask) !=
                    5)
                        continue;
                if (dest != 0 || mask != 0 || !(flags & RTF_UP) || (best && metric >= best_metric))
                        continue;
                free(best);
                best = strdup(iface);
                if (!best)
                        return -ENOMEM;
                best_metric = metric;
        }
        *ret = best;
        return 0;
}

static bool ipv4_global(const struct sockaddr *sa)
{
        uint32_t a;

        if (!sa || sa->sa_family != AF_INET)
                return false;
        a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        /* 127.0.0.0/8 is the loopback, 169.254.0.0/16 link-local, 0.0.0.0 no address */
        return a != 0 && (a >> 24) != 127 && (a >> 16) != 0xa9fe;
}

static int format_ipv4(const struct sockaddr *sa, char **ret)
{
        char buf[INET_ADDRSTRLEN];

        if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof(buf)))
                return -EINVAL;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int node_address_pick(const struct ifaddrs *list, const char *default_if, char **ret)
{
        const struct ifaddrs *i;

        for (i = list; default_if && i; i = i->ifa_next)
                if (streq_ptr(i->ifa_name, default_if) && (i->ifa_flags & IFF_UP) &&
                    ipv4_global(i->ifa_addr))
                        return format_ipv4(i->ifa_addr, ret);
        for (i = list; i; i = i->ifa_next)
                if ((i->ifa_flags & IFF_UP) && !(i->ifa_flags & IFF_LOOPBACK) && ipv4_global(i->ifa_addr))
                        return format_ipv4(i->ifa_addr, ret);
        *ret = strdup("127.0.0.1");
        return *ret ? 0 : -ENOMEM;
}

int node_address_detect(char **ret)
{
        _cleanup_free_ char *routes = NULL, *iface = NULL;
        struct ifaddrs *list = NULL;
        int r;

        *ret = NULL;
        (void)read_full_file("/proc/net/route", 1024 * 1024, &routes, NULL);
        r = node_address_default_interface(routes, &iface);
        if (r < 0)
                return r;
        if (getifaddrs(&list) < 0)
                list = NULL;
        r = node_address_pick(list, iface, ret);
        if (list)
                freeifaddrs(list);
        return r;
}

cJSON *node_address_list_new(const char *address, const char *hostname)
{
        _cleanup_json_ cJSON *list = cJSON_CreateArray();
        const char *const types[] = {"InternalIP", "Hostname"}, *values[] = {address, hostname};

        if (!list)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_json_ cJSON *a = cJSON_CreateObject();

                if (!a || json_set_string(a, "type", types[i]) < 0 ||
                    json_set_string(a, "address", values[i]) < 0 || !cJSON_AddItemToArray(list, a))
                        return NULL;
                a = NULL; /* the list's now */
        }
        return TAKE_PTR(list);
}
