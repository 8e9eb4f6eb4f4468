/* The hosts file of a StatefulSet's pods (pod-hosts.c): the kubelet's lines, the pod's own
 * stable names, its live peers of the same subdomain and namespace (in cluster mode the
 * fleet's too, at addresses that reach them), hostAliases. */
#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "pod-internal.h"
#include "util.h"

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

/* ---- cluster mode: the other nodes' pods of the fleet ---- */

/* A pod of another node, as fleet_pods() lists it. */
static cJSON *remote(const char *name, const char *ns, const char *sub, const char *ip, const char *node)
{
        cJSON *p = pod(name, name, ns, sub, ip, NULL);

        cr_assert(json_set_string(json_path(p, "spec"), "nodeName", node) >= 0);
        return p;
}

static cJSON *nodes_with(const char *json)
{
        cJSON *n = cJSON_Parse(json);

        cr_assert_not_null(n, "%s", json);
        return n;
}

#define NODES                                                                                               \
        "[{\"metadata\":{\"name\":\"node-b\"},\"status\":{\"addresses\":["                                  \
        "{\"type\":\"Hostname\",\"address\":\"node-b\"},{\"type\":\"InternalIP\",\"address\":\"192.0.2."    \
        "12\"}]}},"                                                                                         \
        "{\"metadata\":{\"name\":\"node-c\"},\"status\":{\"addresses\":["                                   \
        "{\"type\":\"InternalIP\",\"address\":\"2001:db8::13\"}]}},"                                        \
        "{\"metadata\":{\"name\":\"node-e\"},\"status\":{\"addresses\":["                                   \
        "{\"type\":\"Hostname\",\"address\":\"node-e\"}]}},"                                                \
        "{\"metadata\":{\"name\":\"node-f\"}}]"

Test(pod_hosts, remote_address_is_the_pod_ip_or_for_a_loopback_one_its_nodes)
{
        cJSON *nodes = nodes_with(NODES);
        static const struct {
                const char *ip, *node, *want;
        } cases[] = {
            {"10.2.0.5", "node-b", "10.2.0.5"},
            {"10.2.0.5", "node-x", "10.2.0.5"},
            {"127.0.0.1", "node-b", "192.0.2.12"},
            {"127.3.4.5", "node-b", "192.0.2.12"},
            {"::1", "node-c", "2001:db8::13"},
            {"::ffff:127.0.0.1", "node-b", "192.0.2.12"},
            {"fd00::7", "node-c", "fd00::7"},
            {"127.0.0.1", "node-x", NULL}, /* unknown node */
            {"127.0.0.1", "node-e", NULL}, /* no InternalIP */
            {"127.0.0.1", "node-f", NULL}, /* no addresses at all */
            {"127.0.0.1", "", NULL},
            {"", "node-b", NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                cJSON *p = remote("web-1", "default", "web", cases[i].ip, cases[i].node);
                const char *got = pod_hosts_remote_address(p, nodes);

                if (cases[i].want)
                        cr_expect_str_eq(got ?: "(null)", cases[i].want, "%s on %s", cases[i].ip,
                                         cases[i].node);
                else
                        cr_expect_null(got, "%s on %s: %s", cases[i].ip, cases[i].node, got);
                cJSON_Delete(p);
        }
        cr_expect_null(pod_hosts_remote_address(cJSON_GetArrayItem(nodes, 0), NULL));
        cJSON *p = remote("web-1", "default", "web", "127.0.0.1", "node-b");
        cr_expect_null(pod_hosts_remote_address(p, NULL), "no nodes known");
        cJSON_Delete(p);
        cJSON_Delete(nodes);
}

Test(pod_hosts, names_the_fleets_pods_at_addresses_that_reach_them)
{
        cJSON *self = pod("web-0", "u0", "default", "web", "127.0.0.1", NULL), *local = cJSON_CreateArray(),
              *fleet = cJSON_CreateArray(), *nodes = nodes_with(NODES), *peers = NULL;
        char *text = NULL;

        cJSON_AddItemToArray(local, cJSON_Duplicate(self, true));
        cJSON_AddItemToArray(local, pod("web-4", "u4", "default", "web", "127.0.0.1", NULL));
        /* the host runtime's pods say 127.0.0.1: named at their node's InternalIP */
        cJSON_AddItemToArray(fleet, remote("web-1", "default", "web", "127.0.0.1", "node-b"));
        cJSON_AddItemToArray(fleet, remote("web-2", "default", "web", "::1", "node-c"));
        cJSON_AddItemToArray(fleet, remote("web-3", "default", "web", "10.2.0.5", "node-x"));
        /* no known address: an unknown node, a node without an InternalIP, no podIP */
        cJSON_AddItemToArray(fleet, remote("web-5", "default", "web", "127.0.0.1", "node-x"));
        cJSON_AddItemToArray(fleet, remote("web-6", "default", "web", "127.0.0.1", "node-e"));
        cJSON_AddItemToArray(fleet, remote("web-7", "default", "web", "", "node-b"));
        /* another subdomain, another namespace */
        cJSON_AddItemToArray(fleet, remote("db-0", "default", "db", "10.2.0.6", "node-b"));
        cJSON_AddItemToArray(fleet, remote("web-8", "other", "web", "10.2.0.7", "node-b"));
        /* gone or going */
        cJSON_AddItemToArray(fleet, remote("web-9", "default", "web", "10.2.0.8", "node-b"));
        cr_assert(json_set_string(json_path(cJSON_GetArrayItem(fleet, 8), "status"), "phase", "Failed") >=
                  0);
        /* a stale copy of a pod that is here now (this one, or a local peer) */
        cJSON_AddItemToArray(fleet, remote("web-0", "default", "web", "10.2.0.9", "node-b"));
        cJSON_AddItemToArray(fleet, remote("web-4", "default", "web", "10.2.0.10", "node-b"));

        cr_assert_eq(pod_hosts_peers(self, local, fleet, nodes, &peers), 0);
        cr_assert_eq(pod_hosts_render(self, "127.0.0.1", peers, &text), 0);
        cr_assert(has_line(text, "127.0.0.1\tweb-0.web.default.svc.cluster.local\tweb-0.web\tweb-0"), "%s",
                  text);
        cr_assert(has_line(text, "127.0.0.1\tweb-4.web.default.svc.cluster.local\tweb-4.web"), "%s", text);
        cr_assert(has_line(text, "192.0.2.12\tweb-1.web.default.svc.cluster.local\tweb-1.web"), "%s", text);
        cr_assert(has_line(text, "2001:db8::13\tweb-2.web.default.svc.cluster.local\tweb-2.web"), "%s",
                  text);
        cr_assert(has_line(text, "10.2.0.5\tweb-3.web.default.svc.cluster.local\tweb-3.web"), "%s", text);
        for (const char *const *gone = (const char *const[]){"web-5", "web-6", "web-7", "db-0", "web-8",
                                                             "web-9", "10.2.0.9", "10.2.0.10", NULL};
             *gone; gone++)
                cr_expect_null(strstr(text, *gone), "%s in\n%s", *gone, text);
        free(text);
        cJSON_Delete(peers);
        cJSON_Delete(self);
        cJSON_Delete(local);
        cJSON_Delete(fleet);
        cJSON_Delete(nodes);
}

Test(pod_hosts, without_the_fleets_pods_the_text_is_the_single_nodes)
{
        cJSON *self = pod("web-0", "u0", "default", "web", "10.1.0.2", NULL), *local = cJSON_CreateArray(),
              *empty = cJSON_CreateArray(), *peers = NULL, *none = NULL;
        char *single = NULL, *cluster = NULL, *nothing = NULL, *alone = NULL;

        cJSON_AddItemToArray(local, cJSON_Duplicate(self, true));
        cJSON_AddItemToArray(local, pod("web-1", "u1", "default", "web", "10.1.0.3", NULL));
        cJSON_AddItemToArray(local, pod("db-0", "u2", "default", "db", "10.1.0.4", NULL));
        cr_assert_eq(pod_hosts_render(self, "10.1.0.2", local, &single), 0);
        cr_assert_eq(pod_hosts_peers(self, local, empty, NULL, &peers), 0);
        cr_assert_eq(pod_hosts_render(self, "10.1.0.2", peers, &cluster), 0);
        cr_expect_str_eq(cluster, single);
        /* no local peers and no fleet: the pod alone */
        cr_assert_eq(pod_hosts_peers(self, NULL, NULL, NULL, &none), 0);
        cr_assert_eq(cJSON_GetArraySize(none), 0);
        cr_assert_eq(pod_hosts_render(self, "10.1.0.2", none, &nothing), 0);
        cr_assert_eq(pod_hosts_render(self, "10.1.0.2", NULL, &alone), 0);
        cr_expect_str_eq(nothing, alone);
        free(single);
        free(cluster);
        free(nothing);
        free(alone);
        cJSON_Delete(self);
        cJSON_Delete(local);
        cJSON_Delete(empty);
        cJSON_Delete(peers);
        cJSON_Delete(none);
}

/* pod_controller_on_fleet_pod(): which local pods rewrite their hosts file. The controller's
 * queue is swapped for one that records the pods it would sync. */
static char dir[] = "/tmp/berth-test-hosts-XXXXXX";

typedef struct Synced {
        char names[64][64];
        size_t n;
} Synced;

static int record_sync(void *userdata, const char *ns, const char *name)
{
        Synced *s = userdata;

        if (s->n < ELEMENTSOF(s->names))
                snprintf(s->names[s->n++], sizeof(s->names[0]), "%s/%s", ns, name);
        return 0;
}

/* Runs the queue and returns what it synced since the last call, "ns/name ..." */
static const char *synced(sd_event *loop, Synced *s)
{
        static char out[1024];

        for (int i = 0; i < 100; i++)
                if (sd_event_run(loop, 0) <= 0)
                        break;
        out[0] = 0;
        for (size_t i = 0; i < s->n; i++)
                snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", s->names[i]);
        s->n = 0;
        return out;
}

static void store_pod(Store *store, cJSON *p)
{
        cr_assert(json_set_string(p, "apiVersion", "v1") >= 0);
        cr_assert(json_set_string(p, "kind", "Pod") >= 0);
        cJSON_DeleteItemFromObject(json_path(p, "metadata"), "uid");
        cr_assert_eq(store_create(store, p, NULL), 0);
        cJSON_Delete(p);
}

Test(pod_hosts, a_fleet_pod_rewrites_its_subdomains_hosts_files_when_its_name_changes)
{
        Synced s = {0};
        Store *store = NULL;
        sd_event *loop = NULL;
        PodController *c = NULL;
        cJSON *p;

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(pod_controller_new(&c, loop, store, NULL,
                                        &(PodControllerOptions){.node_name = "node-a", .log_dir = dir}),
                     0);
        workqueue_free(c->queue);
        cr_assert_eq(workqueue_new(&c->queue, loop, "test", record_sync, &s), 0);
        store_pod(store, pod("web-0", "", "default", "web", "127.0.0.1", NULL));
        store_pod(store, pod("web-4", "", "default", "web", "127.0.0.1", NULL));
        store_pod(store, pod("db-0", "", "default", "db", "127.0.0.1", NULL));
        store_pod(store, pod("web-0", "", "other", "web", "127.0.0.1", NULL));

        p = remote("web-1", "default", "web", "10.2.0.3", "node-b");
        pod_controller_on_fleet_pod(c, STORE_ADDED, p);
        cr_expect_str_eq(synced(loop, &s), "default/web-0 default/web-4");
        /* a status change that leaves its line as it was: nothing to rewrite */
        cr_assert(json_set_string(json_path(p, "status"), "phase", "Running") >= 0);
        pod_controller_on_fleet_pod(c, STORE_MODIFIED, p);
        cr_expect_str_eq(synced(loop, &s), "");
        /* a new address */
        cr_assert(json_set_string(json_path(p, "status"), "podIP", "10.2.0.4") >= 0);
        pod_controller_on_fleet_pod(c, STORE_MODIFIED, p);
        cr_expect_str_eq(synced(loop, &s), "default/web-0 default/web-4");
        /* finished: no longer named; then its deletion changes nothing more */
        cr_assert(json_set_string(json_path(p, "status"), "phase", "Succeeded") >= 0);
        pod_controller_on_fleet_pod(c, STORE_MODIFIED, p);
        cr_expect_str_eq(synced(loop, &s), "default/web-0 default/web-4");
        pod_controller_on_fleet_pod(c, STORE_DELETED, p);
        cr_expect_str_eq(synced(loop, &s), "");
        cJSON_Delete(p);

        /* one that went while named */
        p = remote("web-2", "default", "web", "10.2.0.5", "node-b");
        pod_controller_on_fleet_pod(c, STORE_ADDED, p);
        cr_expect_str_eq(synced(loop, &s), "default/web-0 default/web-4");
        pod_controller_on_fleet_pod(c, STORE_DELETED, p);
        cr_expect_str_eq(synced(loop, &s), "default/web-0 default/web-4");
        cJSON_Delete(p);

        /* a loopback podIP with no node known, no subdomain, a subdomain with no pod here */
        p = remote("web-3", "default", "web", "127.0.0.1", "node-b");
        pod_controller_on_fleet_pod(c, STORE_ADDED, p);
        cJSON_Delete(p);
        p = remote("plain", "default", "", "10.2.0.6", "node-b");
        pod_controller_on_fleet_pod(c, STORE_ADDED, p);
        cJSON_Delete(p);
        p = remote("api-0", "default", "api", "10.2.0.7", "node-b");
        pod_controller_on_fleet_pod(c, STORE_ADDED, p);
        cJSON_Delete(p);
        cr_expect_str_eq(synced(loop, &s), "");
        /* another namespace's set */
        p = remote("web-1", "other", "web", "10.2.0.8", "node-b");
        pod_controller_on_fleet_pod(c, STORE_ADDED, p);
        cr_expect_str_eq(synced(loop, &s), "other/web-0");
        cJSON_Delete(p);

        pod_controller_free(c);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}
