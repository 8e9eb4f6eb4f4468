/* The hosts file of a StatefulSet's pods (pod-hosts.c): the kubelet's lines, the pod's own
 * stable names, its live peers of the same subdomain and namespace, hostAliases. */
#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "pod-internal.h"

static cJSON *pod(const char *name, const char *uid, const char *ns, const char *sub, const char *ip,
                  const char *extra)
{
        char buf[1024];

        snprintf(buf, sizeof(buf),
                 "{\"metadata\":{\"name\":\"%s\",\"uid\":\"%s\",\"namespace\":\"%s\"%s},"
                 "\"spec\":{\"hostname\":\"%s\",\"subdomain\":\"%s\"},\"status\":{\"podIP\":\"%s\"}}",
                 name, uid, ns, extra ? extra : "", name, sub, ip);
        cJSON *p = cJSON_Parse(buf);
        cr_assert_not_null(p, "%s", buf);
        return p;
}

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);

        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == 0))
                        return true;
        return false;
}

Test(pod_hosts, names_itself_and_its_live_peers)
{
        cJSON *self = pod("web-0", "u0", "default", "web", "10.1.0.2", NULL), *peers = cJSON_CreateArray();
        char *text = NULL;

        cJSON_AddItemToArray(peers, cJSON_Duplicate(self, true));
        cJSON_AddItemToArray(peers, pod("web-1", "u1", "default", "web", "10.1.0.3", NULL));
        /* another subdomain, another namespace, no address yet, being deleted: left out */
        cJSON_AddItemToArray(peers, pod("db-0", "u2", "default", "db", "10.1.0.4", NULL));
        cJSON_AddItemToArray(peers, pod("web-0", "u3", "other", "web", "10.1.0.5", NULL));
        cJSON_AddItemToArray(peers, pod("web-2", "u4", "default", "web", "", NULL));
        cJSON_AddItemToArray(peers, pod("web-3", "u5", "default", "web", "10.1.0.6",
                                        ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\""));

        cr_assert_eq(pod_hosts_render(self, "10.1.0.2", peers, &text), 0);
        cr_assert(has_line(text, "# Kubernetes-managed hosts file."));
        cr_assert(has_line(text, "127.0.0.1\tlocalhost"));
        cr_assert(has_line(text, "10.1.0.2\tweb-0.web.default.svc.cluster.local\tweb-0.web\tweb-0"), "%s",
                  text);
        cr_assert(has_line(text, "10.1.0.3\tweb-1.web.default.svc.cluster.local\tweb-1.web"), "%s", text);
        cr_assert_null(strstr(text, "db-0"));
        cr_assert_null(strstr(text, "10.1.0.5"));
        cr_assert_null(strstr(text, "web-2"));
        cr_assert_null(strstr(text, "web-3"));
        /* the pod appears once, under its own address */
        const char *first = strstr(text, "web-0.web.default");
        cr_assert_not_null(first);
        cr_assert_null(strstr(first + 1, "web-0.web.default"));
        free(text);
        cJSON_Delete(self);
        cJSON_Delete(peers);
}

Test(pod_hosts, loopback_without_an_address_and_host_aliases)
{
        cJSON *self = pod("a-0", "u0", "ns1", "a", "", NULL);
        char *text = NULL;

        cr_assert(json_set(json_path(self, "spec"), "hostAliases",
                           cJSON_Parse("[{\"ip\":\"192.0.2.1\",\"hostnames\":[\"x.example\",\"y\"]}]")) >=
                  0);
        cr_assert_eq(pod_hosts_render(self, NULL, NULL, &text), 0);
        cr_assert(has_line(text, "127.0.0.1\ta-0.a.ns1.svc.cluster.local\ta-0.a\ta-0"), "%s", text);
        cr_assert(has_line(text, "# Entries added by HostAliases."), "%s", text);
        cr_assert(has_line(text, "192.0.2.1\tx.example\ty"), "%s", text);
        free(text);
        cJSON_Delete(self);
}

Test(pod_hosts, wanted_only_with_a_subdomain_off_the_host_network)
{
        cJSON *p = pod("a-0", "u0", "ns1", "a", "", NULL);

        cr_assert(pod_hosts_wanted(p));
        cr_assert(json_set_bool(json_path(p, "spec"), "hostNetwork", true) >= 0);
        cr_assert_not(pod_hosts_wanted(p));
        cJSON_Delete(p);
        p = pod("b", "u1", "ns1", "", "", NULL);
        cr_assert_not(pod_hosts_wanted(p));
        cJSON_Delete(p);
}
