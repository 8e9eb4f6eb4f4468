/* Finding this node's address (node-address.c): the default route's interface from
 * /proc/net/route, its IPv4 address, the fallbacks. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <net/if.h>
#include <string.h>

#include "node-address.h"

#define ROUTE_HEADER "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

Test(node_address, default_interface_is_the_up_default_route_of_the_lowest_metric)
{
        char *iface = NULL;

        cr_assert_eq(node_address_default_interface(
                         ROUTE_HEADER "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                                      "eth1\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                                      "wlan0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                                      "eth2\t00000000\t0100000A\t0002\t0\t0\t5\t00000000\t0\t0\t0\n"
                                      "garbage line\n",
                         &iface),
                     0);
        cr_expect_str_eq(iface ?: "(null)", "wlan0");
        free(iface);
}

Test(node_address, default_interface_none_without_a_default_route)
{
        char *iface = (char *)"x";

        cr_assert_eq(
            node_address_default_interface(
                ROUTE_HEADER "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", &iface),
            0);
        cr_expect_null(iface);
        cr_assert_eq(node_address_default_interface("", &iface), 0);
        cr_expect_null(iface);
        cr_assert_eq(node_address_default_interface(NULL, &iface), 0);
        cr_expect_null(iface);
        /* the headings alone are no route, even when they would parse */
        cr_assert_eq(node_address_default_interface("eth9 0 0 3 0 0 0 0\n", &iface), 0);
        cr_expect_null(iface);
}

/* A getifaddrs() list built by hand: name, IPv4 or IPv6 address, flags. */
typedef struct FakeIf {
        struct ifaddrs ifa;
        struct sockaddr_storage addr;
} FakeIf;

static void fake(FakeIf *f, FakeIf *next, const char *name, const char *addr, unsigned flags)
{
        memset(f, 0, sizeof(*f));
        f->ifa.ifa_next = next ? &next->ifa : NULL;
        f->ifa.ifa_name = (char *)name;
        f->ifa.ifa_flags = flags;
        if (!addr)
                return;
        f->ifa.ifa_addr = (struct sockaddr *)&f->addr;
        if (strchr(addr, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&f->addr;
                a->sin6_family = AF_INET6;
                cr_assert_eq(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&f->addr;
                a->sin_family = AF_INET;
                cr_assert_eq(inet_pton(AF_INET, addr, &a->sin_addr), 1);
        }
}

static char *pick(const FakeIf *list, const char *default_if)
{
        char *s = NULL;

        cr_assert_eq(node_address_pick(list ? &list->ifa : NULL, default_if, &s), 0);
        cr_assert_not_null(s);
        return s;
}

Test(node_address, picks_the_default_interfaces_then_a_global_one_then_loopback)
{
        FakeIf f[8];
        char *s;

        fake(&f[0], &f[1], "lo", "127.0.0.1", IFF_UP | IFF_LOOPBACK);
        fake(&f[1], &f[2], "eth0", "169.254.3.4", IFF_UP);  /* link-local */
        fake(&f[2], &f[3], "wlan0", "192.0.2.7", 0);        /* down */
        fake(&f[3], &f[4], "eth1", "198.51.100.5", IFF_UP); /* the first global one */
        fake(&f[4], &f[5], "eth2", "fd00::2", IFF_UP);      /* IPv6 only */
        fake(&f[5], &f[6], "eth2", NULL, IFF_UP);           /* no address (a packet socket) */
        fake(&f[6], &f[7], "eth3", "203.0.113.9", IFF_UP);
        fake(&f[7], NULL, "eth3", "203.0.113.10", IFF_UP);

        s = pick(f, "eth3");
        cr_expect_str_eq(s, "203.0.113.9");
        free(s);
        /* a default interface that is down, has no IPv4, or is not there: the first global one */
        s = pick(f, "wlan0");
        cr_expect_str_eq(s, "198.51.100.5");
        free(s);
        s = pick(f, "eth2");
        cr_expect_str_eq(s, "198.51.100.5");
        free(s);
        s = pick(f, "tun7");
        cr_expect_str_eq(s, "198.51.100.5");
        free(s);
        s = pick(f, NULL);
        cr_expect_str_eq(s, "198.51.100.5");
        free(s);
        /* only the loopback, a link-local and a down one */
        fake(&f[2], NULL, "wlan0", "192.0.2.7", 0);
        s = pick(f, "eth0");
        cr_expect_str_eq(s, "127.0.0.1");
        free(s);
        s = pick(NULL, NULL);
        cr_expect_str_eq(s, "127.0.0.1");
        free(s);
}

Test(node_address, detects_an_address)
{
        char *s = NULL;

        cr_assert_eq(node_address_detect(&s), 0);
        cr_assert(node_address_valid(s), "%s", s ?: "(null)");
        cr_assert_not_null(strchr(s, '.'), "an IPv4 address: %s", s);
        free(s);
}

Test(node_address, valid_is_an_ipv4_or_ipv6_address)
{
        for (const char *const *ok = (const char *const[]){"10.0.0.1", "127.0.0.1", "::1", "2001:db8::5",
                                                           "::ffff:192.0.2.1", NULL};
             *ok; ok++)
                cr_expect(node_address_valid(*ok), "%s", *ok);
        for (const char *const *bad = (const char *const[]){"", "node-1", "10.0.0.256", "10.0.0.1/24",
                                                            "10.0.0.1:80", "[::1]", " 10.0.0.1", NULL};
             *bad; bad++)
                cr_expect_not(node_address_valid(*bad), "%s", *bad);
        cr_expect_not(node_address_valid(NULL));
}

Test(node_address, list_is_the_nodes_status_addresses)
{
        cJSON *list = node_address_list_new("192.0.2.10", "node-1");
        char *text;

        cr_assert_not_null(list);
        text = cJSON_PrintUnformatted(list);
        cr_expect_str_eq(text, "[{\"type\":\"InternalIP\",\"address\":\"192.0.2.10\"},"
                               "{\"type\":\"Hostname\",\"address\":\"node-1\"}]");
        free(text);
        cJSON_Delete(list);
}
