/* The fleet: two nodes in one process, each with its own store (own state directory), curl loop,
 * coordinator and fleet on one sd-event loop, against a real etcd the fixture starts on loopback
 * (skipped without the etcd binary, a failure with CI=true): objects shared both ways with the
 * writer's uid, status never published, deletions, the reconcile of a node that was away, pods
 * seen across nodes and gone with their node's lease, and a watch that survives an etcd restart. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator.h"
#include "etcd-client.h"
#include "etcd-fixture.h"
#include "event-run.h"
#include "fleet.h"
#include "json-util.h"
#include "store.h"
#include "util.h"

#define WAIT_MAX_USEC (10 * USEC_PER_SEC)

typedef struct Node {
        const char *name;
        char dir[64];
        Store *store;
        CurlLoop *curl;
        Coordinator *co;
        Fleet *fleet;
        int pod_added, pod_modified, pod_deleted;
} Node;

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static Node nodes[2];
static CurlLoop *raw_loop;
static EtcdClient *raw;

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
}

/* The fleet goes first: its calls are the coordinator's client's. */
static void node_stop(Node *n)
{
        n->fleet = fleet_free(n->fleet);
        n->co = coordinator_free(n->co);
        if (n->curl)
                cr_assert_eq(curl_loop_in_flight(n->curl), 0, "a call outlived its fleet");
        n->curl = curl_loop_free(n->curl);
}

static void teardown(void)
{
        if (server.pid > 0)
                (void)kill(server.pid, SIGCONT);
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                node_stop(&nodes[i]);
                nodes[i].store = store_free(nodes[i].store);
                if (nodes[i].dir[0])
                        (void)rm_rf(nodes[i].dir);
                nodes[i] = (Node){};
        }
        raw = etcd_client_free(raw);
        raw_loop = curl_loop_free(raw_loop);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(fleet, .init = setup, .fini = teardown, .timeout = 90);

static void on_store(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        Node *n = userdata;

        if (n->fleet)
                fleet_on_store_change(n->fleet, change, obj);
}

static void on_state(Coordinator *co, CoordinatorState state, void *userdata)
{
        Node *n = userdata;

        if (n->fleet)
                fleet_on_coordinator_state(n->fleet, state);
}

static void on_pod(Fleet *f, StoreChange change, const cJSON *pod, void *userdata)
{
        Node *n = userdata;

        cr_assert_not_null(json_str(pod, "metadata.name"));
        cr_assert_str_neq(json_str(pod, "spec.nodeName") ?: "", n->name, "a pod of this node reported");
        if (change == STORE_ADDED)
                n->pod_added++;
        else if (change == STORE_MODIFIED)
                n->pod_modified++;
        else
                n->pod_deleted++;
}

static bool is_synced(void *userdata)
{
        Node *n = userdata;

        return n->fleet && fleet_synced(n->fleet);
}

/* The coordinator and the fleet of node i (its store opened the first time). */
static Node *node_start(size_t i, const char *name)
{
        const char *const endpoints[] = {server.url, NULL};
        CoordinatorOptions o = {
            .type = COORDINATOR_ETCD, .node_name = name, .endpoints = endpoints, .lease_ttl_sec = 5};
        CoordinatorCallbacks cb = {.on_state = on_state, .userdata = &nodes[i]};
        FleetCallbacks fcb = {.on_pod = on_pod, .userdata = &nodes[i]};
        _cleanup_free_ char *error = NULL;
        Node *n = &nodes[i];

        n->name = name;
        if (!n->store) {
                strcpy(n->dir, "/tmp/berth-fleet-test-XXXXXX");
                cr_assert_not_null(mkdtemp(n->dir));
                cr_assert_eq(store_open(&n->store, n->dir), 0);
                store_set_on_change(n->store, on_store, n);
        }
        cr_assert_eq(curl_loop_new(&n->curl, event), 0);
        cr_assert_eq(coordinator_new(&n->co, event, n->curl, &o, &cb, &error), 0, "%s", error ?: "");
        cr_assert_eq(fleet_new(&n->fleet, event, n->store, n->co, &fcb), 0);
        cr_assert_not(fleet_synced(n->fleet));
        cr_assert(event_run_until(event, is_synced, n, WAIT_MAX_USEC), "%s never synced", name);
        return n;
}

/* --- etcd as it is, read by a client of the test's own --- */

typedef struct Raw {
        bool called;
        int error;
        bool found;
        int64_t mod, lease;
        char value[4096];
} Raw;

static void on_raw(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Raw *r = userdata;

        r->called = true;
        if (e) {
                r->error = e->error;
                return;
        }
        if (resp->op.n_kvs > 0) {
                r->found = true;
                r->mod = resp->op.kvs[0].mod_revision;
                r->lease = resp->op.kvs[0].lease;
                snprintf(r->value, sizeof(r->value), "%s", resp->op.kvs[0].value);
        }
}

static EtcdClient *raw_client(void)
{
        const char *const endpoints[] = {server.url, NULL};
        EtcdClientOptions o = {.endpoints = endpoints};

        if (!raw) {
                cr_assert_eq(curl_loop_new(&raw_loop, event), 0);
                cr_assert_eq(etcd_client_new(&raw, raw_loop, &o, NULL), 0);
        }
        return raw;
}

static Raw raw_get(const char *key)
{
        Raw r = {};

        cr_assert_eq(etcd_range(raw_client(), key, NULL, on_raw, &r, NULL), 0);
        cr_assert(event_run_until_set(event, &r.called, WAIT_MAX_USEC));
        cr_assert_eq(r.error, 0);
        return r;
}

static void raw_call_done(Raw *r, int k)
{
        cr_assert_eq(k, 0);
        cr_assert(event_run_until_set(event, &r->called, WAIT_MAX_USEC));
        cr_assert_eq(r->error, 0);
}

static void raw_put(const char *key, const char *value)
{
        Raw r = {};

        raw_call_done(&r, etcd_put(raw_client(), key, value, strlen(value), 0, on_raw, &r, NULL));
}

static void raw_revoke(int64_t lease)
{
        Raw r = {};

        raw_call_done(&r, etcd_lease_revoke(raw_client(), lease, on_raw, &r, NULL));
}

/* --- objects --- */

static cJSON *parse(const char *text)
{
        cJSON *j = cJSON_Parse(text);

        cr_assert_not_null(j, "bad test JSON: %s", text);
        return j;
}

static cJSON *config_map(const char *name, const char *value)
{
        cJSON *cm =
            parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"namespace\":\"prod\","
                  "\"labels\":{\"app\":\"web\"}},\"data\":{}}");

        cr_assert_eq(json_set_string(json_path(cm, "metadata"), "name", name), 0);
        cr_assert_eq(json_set_string(json_path(cm, "data"), "v", value), 0);
        return cm;
}

static cJSON *stateful_set(int replicas)
{
        cJSON *set =
            parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\","
                  "\"namespace\":\"prod\"},\"spec\":{\"serviceName\":\"db\"}}");

        cr_assert_eq(json_set_int(json_path(set, "spec"), "replicas", replicas), 0);
        return set;
}

static cJSON *apply(Node *n, cJSON *obj)
{
        cJSON *ret = NULL;

        cr_assert_eq(store_apply(n->store, obj, &ret, NULL, NULL), 0);
        cJSON_Delete(obj);
        return ret;
}

typedef struct Want {
        Node *n;
        const char *kind, *name;
        const char *field; /* dotted path */
        const char *value; /* NULL: the object absent */
        int64_t number;    /* field a number: its value */
} Want;

static bool wanted(void *userdata)
{
        const Want *w = userdata;
        _cleanup_json_ cJSON *obj = NULL;
        int r = store_get(w->n->store, w->kind, "prod", w->name, &obj);

        if (!w->value && !w->number)
                return r == -ENOENT;
        if (r < 0)
                return false;
        if (w->value)
                return streq_ptr(json_str(obj, w->field), w->value);
        return json_int(obj, w->field, -1) == w->number;
}

static void wait_for(Want w, const char *what)
{
        cr_assert(event_run_until(event, wanted, &w, WAIT_MAX_USEC), "%s: never happened", what);
}

static cJSON *get(Node *n, const char *kind, const char *name)
{
        cJSON *obj = NULL;

        cr_assert_eq(store_get(n->store, kind, "prod", name, &obj), 0, "%s/%s missing on %s", kind, name,
                     n->name);
        return obj;
}

Test(fleet, an_object_applied_on_a_appears_on_b_with_as_uid)
{
        _cleanup_json_ cJSON *mine = NULL, *theirs = NULL;
        Node *a, *b;
        Raw raw_cm;
        uint64_t rv_a, rv_b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        mine = apply(a, config_map("web", "1"));
        wait_for((Want){b, "ConfigMap", "web", "data.v", "1"}, "the ConfigMap on b");
        theirs = get(b, "ConfigMap", "web");
        cr_assert_str_eq(json_str(theirs, "metadata.uid"), json_str(mine, "metadata.uid"));
        cr_assert_str_eq(json_str(theirs, "metadata.creationTimestamp"),
                         json_str(mine, "metadata.creationTimestamp"));
        cr_assert_str_eq(json_str(theirs, "metadata.labels.app"), "web");
        /* the fleet form in etcd: no status, no resourceVersion */
        raw_cm = raw_get("/berth/objects/ConfigMap/prod/web");
        cr_assert(raw_cm.found);
        cr_assert_null(strstr(raw_cm.value, "resourceVersion"));
        /* a cluster-scoped kind under "_" */
        cJSON_Delete(apply(
            a, parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\"}}")));
        wait_for((Want){b, "Namespace", "prod", "metadata.name", "prod"}, "the Namespace on b");
        cr_assert(raw_get("/berth/objects/Namespace/_/prod").found);
        /* once in step, nothing goes back and forth */
        event_run_for(event, 300 * USEC_PER_MSEC);
        rv_a = store_resource_version(a->store);
        rv_b = store_resource_version(b->store);
        event_run_for(event, 1 * USEC_PER_SEC);
        cr_assert_eq(store_resource_version(a->store), rv_a);
        cr_assert_eq(store_resource_version(b->store), rv_b);
}

Test(fleet, a_scale_on_b_reaches_a)
{
        _cleanup_json_ cJSON *set = NULL, *on_a = NULL;
        Node *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, stateful_set(1)));
        wait_for((Want){b, "StatefulSet", "db", "spec.replicas", NULL, 1}, "the set on b");
        set = get(b, "StatefulSet", "db");
        cr_assert_eq(json_set_int(json_path(set, "spec"), "replicas", 3), 0);
        cr_assert_eq(store_update(b->store, set, NULL), 0);
        wait_for((Want){a, "StatefulSet", "db", "spec.replicas", NULL, 3}, "the scale on a");
        on_a = get(a, "StatefulSet", "db");
        /* a's own counters went on: the spec changed, the generation with it */
        cr_assert_eq(json_int(on_a, "metadata.generation", 0), 2);
}

Test(fleet, status_only_updates_are_not_published)
{
        _cleanup_json_ cJSON *status = parse("{\"readyReplicas\":1,\"replicas\":1}");
        Node *a, *b;
        Raw before, after;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, stateful_set(1)));
        wait_for((Want){b, "StatefulSet", "db", "spec.replicas", NULL, 1}, "the set on b");
        event_run_for(event, 300 * USEC_PER_MSEC);
        before = raw_get("/berth/objects/StatefulSet/prod/db");
        cr_assert(before.found);
        cr_assert_eq(store_update_status(a->store, "StatefulSet", "prod", "db", status), 0);
        cr_assert_eq(store_update_status(b->store, "StatefulSet", "prod", "db", status), 0);
        event_run_for(event, 1 * USEC_PER_SEC);
        after = raw_get("/berth/objects/StatefulSet/prod/db");
        cr_assert_eq(after.mod, before.mod, "a status update was published");
        cr_assert_null(strstr(after.value, "readyReplicas"));
}

Test(fleet, a_delete_on_a_deletes_on_b)
{
        Node *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, config_map("gone", "x")));
        wait_for((Want){b, "ConfigMap", "gone", "data.v", "x"}, "the ConfigMap on b");
        cr_assert_eq(
            store_delete_object(a->store, "ConfigMap", "prod", "gone", -1, STORE_PROPAGATE_BACKGROUND, NULL),
            0);
        wait_for((Want){b, "ConfigMap", "gone"}, "the deletion on b");
        cr_assert_not(raw_get("/berth/objects/ConfigMap/prod/gone").found);
}

Test(fleet, a_node_away_is_reconciled_when_it_comes_back)
{
        _cleanup_json_ cJSON *edited = NULL;
        Node *a, *b;
        Raw kept;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, config_map("deleted-there", "1")));
        cJSON_Delete(apply(a, config_map("edited-here", "1")));
        cJSON_Delete(apply(a, config_map("kept", "1")));
        wait_for((Want){b, "ConfigMap", "deleted-there", "data.v", "1"}, "deleted-there on b");
        wait_for((Want){b, "ConfigMap", "edited-here", "data.v", "1"}, "edited-here on b");
        wait_for((Want){b, "ConfigMap", "kept", "data.v", "1"}, "kept on b");
        event_run_for(event, 300 * USEC_PER_MSEC);
        kept = raw_get("/berth/objects/ConfigMap/prod/kept");

        node_stop(b);
        /* while b is away: a deletes one, b applies one and edits another */
        cr_assert_eq(store_delete_object(a->store, "ConfigMap", "prod", "deleted-there", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        event_run_for(event, 300 * USEC_PER_MSEC);
        cr_assert_not(raw_get("/berth/objects/ConfigMap/prod/deleted-there").found);
        cJSON_Delete(apply(b, config_map("new-here", "b")));
        edited = get(b, "ConfigMap", "edited-here");
        cr_assert_eq(json_set_string(json_path(edited, "data"), "v", "2"), 0);
        cr_assert_eq(store_update(b->store, edited, NULL), 0);

        node_start(1, "b");
        wait_for((Want){b, "ConfigMap", "deleted-there"}, "the deletion on b");
        wait_for((Want){a, "ConfigMap", "new-here", "data.v", "b"}, "b's new object on a");
        wait_for((Want){a, "ConfigMap", "edited-here", "data.v", "2"}, "b's edit on a");
        /* what nobody changed stays as it was */
        cr_assert_eq(raw_get("/berth/objects/ConfigMap/prod/kept").mod, kept.mod);
}

Test(fleet, a_change_made_elsewhere_while_away_wins_over_the_old_local_copy)
{
        _cleanup_json_ cJSON *cm = NULL;
        Node *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, config_map("cfg", "1")));
        wait_for((Want){b, "ConfigMap", "cfg", "data.v", "1"}, "cfg on b");
        event_run_for(event, 300 * USEC_PER_MSEC);
        node_stop(b);
        cJSON_Delete(apply(a, config_map("cfg", "2")));
        event_run_for(event, 300 * USEC_PER_MSEC);
        node_start(1, "b");
        wait_for((Want){b, "ConfigMap", "cfg", "data.v", "2"}, "a's change on b");
        event_run_for(event, 300 * USEC_PER_MSEC);
        cm = get(a, "ConfigMap", "cfg");
        cr_assert_str_eq(json_str(cm, "data.v"), "2");
}

/* --- pods --- */

static cJSON *pod_on(const char *node, const char *name)
{
        cJSON *pod = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"prod\"},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},"
                           "\"status\":{\"phase\":\"Running\"}}");

        cr_assert_eq(json_set_string(json_path(pod, "metadata"), "name", name), 0);
        cr_assert_eq(json_set_string(json_path(pod, "spec"), "nodeName", node), 0);
        return pod;
}

static bool b_sees_pod_of_a(void *userdata)
{
        const cJSON *p = fleet_pod(nodes[1].fleet, "prod", "web-0");

        return p && streq_ptr(json_str(p, "status.phase"), userdata);
}

static bool a_sees_pod_of_b(void *userdata)
{
        return fleet_pod(nodes[0].fleet, "prod", "local-0") != NULL;
}

static bool b_sees_no_pod(void *userdata)
{
        const cJSON *pods = fleet_pods(nodes[1].fleet, NULL);

        return pods && cJSON_GetArraySize(pods) == 0;
}

Test(fleet, pods_of_a_are_seen_from_b_until_a_goes)
{
        _cleanup_json_ cJSON *status = parse("{\"phase\":\"Failed\"}");
        const cJSON *pods;
        Node *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, pod_on("a", "web-0")));
        cJSON_Delete(apply(a, pod_on("a", "web-1")));
        cJSON_Delete(apply(b, pod_on("b", "local-0")));
        cr_assert(event_run_until(event, b_sees_pod_of_a, "Running", WAIT_MAX_USEC), "b never saw a's pod");
        cr_assert_eq(store_update_status(a->store, "Pod", "prod", "web-0", status), 0);
        cr_assert(event_run_until(event, b_sees_pod_of_a, "Failed", WAIT_MAX_USEC),
                  "b never saw the status");
        event_run_for(event, 300 * USEC_PER_MSEC);
        pods = fleet_pods(b->fleet, "prod");
        cr_assert_eq(cJSON_GetArraySize(pods), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(pods, 0), "metadata.name"), "web-0");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(pods, 1), "metadata.name"), "web-1");
        cr_assert_eq(cJSON_GetArraySize(fleet_pods(b->fleet, "other")), 0);
        /* b's own pods are in b's store, never in its fleet view; a sees them */
        cr_assert_null(fleet_pod(b->fleet, "prod", "local-0"));
        cr_assert(raw_get("/berth/pods/b/prod/local-0").found);
        cr_assert_eq(b->pod_added, 2);
        cr_assert_geq(b->pod_modified, 1);
        cr_assert(event_run_until(event, a_sees_pod_of_b, NULL, WAIT_MAX_USEC), "a never saw b's pod");

        /* a deleted pod's key goes */
        cr_assert_eq(store_delete(a->store, "Pod", "prod", "web-1", NULL), 0);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert_null(fleet_pod(b->fleet, "prod", "web-1"));
        cr_assert_eq(b->pod_deleted, 1);

        /* a goes: its lease is revoked, its pods with it */
        node_stop(a);
        cr_assert(event_run_until(event, b_sees_no_pod, NULL, WAIT_MAX_USEC), "a's pods outlived a");
        cr_assert_eq(b->pod_deleted, 2);
}

Test(fleet, the_watch_recovers_after_an_etcd_restart)
{
        _cleanup_json_ cJSON *set = NULL;
        Node *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, stateful_set(1)));
        wait_for((Want){b, "StatefulSet", "db", "spec.replicas", NULL, 1}, "the set on b");
        raw = etcd_client_free(raw);
        raw_loop = curl_loop_free(raw_loop);

        etcd_fixture_restart(&server);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cJSON_Delete(apply(a, stateful_set(4)));
        cJSON_Delete(apply(a, config_map("after", "restart")));
        cr_assert(event_run_until(event, is_synced, b, WAIT_MAX_USEC));
        cr_assert(event_run_until(event, is_synced, a, WAIT_MAX_USEC));
        wait_for((Want){b, "StatefulSet", "db", "spec.replicas", NULL, 4}, "the scale after the restart");
        wait_for((Want){b, "ConfigMap", "after", "data.v", "restart"}, "the object after the restart");
        set = get(b, "StatefulSet", "db");
        cr_assert_eq(json_set_int(json_path(set, "spec"), "replicas", 2), 0);
        cr_assert_eq(store_update(b->store, set, NULL), 0);
        wait_for((Want){a, "StatefulSet", "db", "spec.replicas", NULL, 2}, "b's scale after the restart");
}

static bool pod_key_leased(void *userdata)
{
        const int64_t *old = userdata;
        Raw r = raw_get("/berth/pods/a/prod/web-0");

        return r.found && r.lease != 0 && r.lease != *old;
}

static bool ghost_gone(void *userdata)
{
        Raw r = raw_get("/berth/pods/a/prod/ghost");

        return !r.found;
}

static bool b_sees_no_ghost(void *userdata)
{
        return !fleet_pod(nodes[1].fleet, "prod", "ghost");
}

Test(fleet, a_new_lease_writes_the_pods_again_and_deletes_stale_keys)
{
        Node *a, *b;
        Raw before;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, pod_on("a", "web-0")));
        cr_assert(event_run_until(event, b_sees_pod_of_a, "Running", WAIT_MAX_USEC), "b never saw a's pod");
        before = raw_get("/berth/pods/a/prod/web-0");
        cr_assert_neq(before.lease, 0);
        cr_assert_eq(before.lease, coordinator_lease(a->co));
        /* a key of a's that no pod of a's stands for (not leased: it outlives the lease) */
        raw_put("/berth/pods/a/prod/ghost", "{\"metadata\":{\"name\":\"ghost\",\"namespace\":\"prod\"}}");

        /* the lease gone behind a's back: a registers under a new one and writes its pods again */
        raw_revoke(before.lease);
        cr_assert(event_run_until(event, pod_key_leased, &before.lease, 2 * WAIT_MAX_USEC),
                  "a's pod never written under the new lease");
        cr_assert_eq(raw_get("/berth/pods/a/prod/web-0").lease, coordinator_lease(a->co));
        cr_assert(event_run_until(event, ghost_gone, NULL, WAIT_MAX_USEC), "the stale key stayed");
        cr_assert(event_run_until(event, b_sees_pod_of_a, "Running", WAIT_MAX_USEC));
        cr_assert(event_run_until(event, b_sees_no_ghost, NULL, WAIT_MAX_USEC),
                  "b still sees the stale key");
        cr_assert_geq(b->pod_deleted, 1);
}

Test(fleet, needs_an_etcd_coordinator)
{
        CoordinatorOptions o = {.type = COORDINATOR_LOCAL, .node_name = "solo"};
        Coordinator *co = NULL;
        Fleet *f = NULL;
        Store *s = NULL;
        char dir[] = "/tmp/berth-fleet-test-XXXXXX";

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&s, dir), 0);
        cr_assert_eq(coordinator_new(&co, event, NULL, &o, NULL, NULL), 0);
        cr_assert_eq(fleet_new(&f, event, s, co, NULL), -EINVAL);
        cr_assert_null(f);
        cr_assert(fleet_kind("StatefulSet"));
        cr_assert(fleet_kind("Namespace"));
        cr_assert_not(fleet_kind("Pod"));
        cr_assert_not(fleet_kind("Job"));
        cr_assert_not(fleet_synced(NULL));
        coordinator_free(co);
        store_free(s);
        cr_assert_eq(rm_rf(dir), 0);
}
