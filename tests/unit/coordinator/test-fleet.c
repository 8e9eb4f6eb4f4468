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
#include "etcd-fixture.h"
#include "etcd-raw.h"
#include "event-run.h"
#include "fleet-node.h"
#include "fleet.h"
#include "json-util.h"
#include "store.h"
#include "util.h"

#define WAIT_MAX_USEC (10 * USEC_PER_SEC)

/* Other nodes' pods a node's fleet reported. */
typedef struct PodEvents {
        int added, modified, deleted;
} PodEvents;

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static FleetNode nodes[2];
static PodEvents pod_events[ELEMENTSOF(nodes)];
static EtcdRaw *raw; /* etcd as it is, read by a client of the test's own */

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(etcd_raw_new(&raw, event, server.url), 0);
}

static void teardown(void)
{
        if (server.pid > 0)
                (void)kill(server.pid, SIGCONT);
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                fleet_node_done(&nodes[i]);
                pod_events[i] = (PodEvents){};
        }
        raw = etcd_raw_free(raw);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(fleet, .init = setup, .fini = teardown, .timeout = 90);

static void on_pod(FleetNode *n, StoreChange change, const cJSON *pod, void *userdata)
{
        PodEvents *p = userdata;

        cr_assert_not_null(json_str(pod, "metadata.name"));
        cr_assert_str_neq(json_str(pod, "spec.nodeName") ?: "", n->name, "a pod of this node reported");
        if (change == STORE_ADDED)
                p->added++;
        else if (change == STORE_MODIFIED)
                p->modified++;
        else
                p->deleted++;
}

static PodEvents *events_of(FleetNode *n)
{
        return &pod_events[n - nodes];
}

/* The coordinator and the fleet of node i (its store opened the first time), synced. */
static FleetNode *node_start(size_t i, const char *name)
{
        FleetNodeOptions o = {.name = name, .endpoint = server.url, .lease_ttl_sec = 5};
        FleetNode *n = &nodes[i];

        fleet_node_start(n, event, &o, &(FleetNodeCallbacks){.on_pod = on_pod, .userdata = &pod_events[i]});
        cr_assert_not(fleet_synced(n->fleet));
        cr_assert(event_run_until(event, fleet_node_is_synced, n, WAIT_MAX_USEC), "%s never synced", name);
        return n;
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

static cJSON *apply(FleetNode *n, cJSON *obj)
{
        cJSON *ret = NULL;

        cr_assert_eq(store_apply(n->store, obj, &ret, NULL, NULL), 0);
        cJSON_Delete(obj);
        return ret;
}

typedef struct Want {
        FleetNode *n;
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

static cJSON *get(FleetNode *n, const char *kind, const char *name)
{
        cJSON *obj = NULL;

        cr_assert_eq(store_get(n->store, kind, "prod", name, &obj), 0, "%s/%s missing on %s", kind, name,
                     n->name);
        return obj;
}

Test(fleet, an_object_applied_on_a_appears_on_b_with_as_uid)
{
        _cleanup_json_ cJSON *mine = NULL, *theirs = NULL;
        FleetNode *a, *b;
        EtcdRawKey raw_cm;
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
        raw_cm = etcd_raw_get(raw, "/berth/objects/ConfigMap/prod/web");
        cr_assert(raw_cm.found);
        cr_assert_null(strstr(raw_cm.value, "resourceVersion"));
        /* a cluster-scoped kind under "_" */
        cJSON_Delete(apply(
            a, parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\"}}")));
        wait_for((Want){b, "Namespace", "prod", "metadata.name", "prod"}, "the Namespace on b");
        cr_assert(etcd_raw_get(raw, "/berth/objects/Namespace/_/prod").found);
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
        FleetNode *a, *b;

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
        FleetNode *a, *b;
        EtcdRawKey before, after;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, stateful_set(1)));
        wait_for((Want){b, "StatefulSet", "db", "spec.replicas", NULL, 1}, "the set on b");
        event_run_for(event, 300 * USEC_PER_MSEC);
        before = etcd_raw_get(raw, "/berth/objects/StatefulSet/prod/db");
        cr_assert(before.found);
        cr_assert_eq(store_update_status(a->store, "StatefulSet", "prod", "db", status), 0);
        cr_assert_eq(store_update_status(b->store, "StatefulSet", "prod", "db", status), 0);
        event_run_for(event, 1 * USEC_PER_SEC);
        after = etcd_raw_get(raw, "/berth/objects/StatefulSet/prod/db");
        cr_assert_eq(after.mod_revision, before.mod_revision, "a status update was published");
        cr_assert_null(strstr(after.value, "readyReplicas"));
}

Test(fleet, a_delete_on_a_deletes_on_b)
{
        FleetNode *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, config_map("gone", "x")));
        wait_for((Want){b, "ConfigMap", "gone", "data.v", "x"}, "the ConfigMap on b");
        cr_assert_eq(
            store_delete_object(a->store, "ConfigMap", "prod", "gone", -1, STORE_PROPAGATE_BACKGROUND, NULL),
            0);
        wait_for((Want){b, "ConfigMap", "gone"}, "the deletion on b");
        cr_assert_not(etcd_raw_get(raw, "/berth/objects/ConfigMap/prod/gone").found);
}

Test(fleet, a_node_away_is_reconciled_when_it_comes_back)
{
        _cleanup_json_ cJSON *edited = NULL;
        FleetNode *a, *b;
        EtcdRawKey kept;

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
        kept = etcd_raw_get(raw, "/berth/objects/ConfigMap/prod/kept");

        fleet_node_stop(b);
        /* while b is away: a deletes one, b applies one and edits another */
        cr_assert_eq(store_delete_object(a->store, "ConfigMap", "prod", "deleted-there", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        event_run_for(event, 300 * USEC_PER_MSEC);
        cr_assert_not(etcd_raw_get(raw, "/berth/objects/ConfigMap/prod/deleted-there").found);
        cJSON_Delete(apply(b, config_map("new-here", "b")));
        edited = get(b, "ConfigMap", "edited-here");
        cr_assert_eq(json_set_string(json_path(edited, "data"), "v", "2"), 0);
        cr_assert_eq(store_update(b->store, edited, NULL), 0);

        node_start(1, "b");
        wait_for((Want){b, "ConfigMap", "deleted-there"}, "the deletion on b");
        wait_for((Want){a, "ConfigMap", "new-here", "data.v", "b"}, "b's new object on a");
        wait_for((Want){a, "ConfigMap", "edited-here", "data.v", "2"}, "b's edit on a");
        /* what nobody changed stays as it was */
        cr_assert_eq(etcd_raw_get(raw, "/berth/objects/ConfigMap/prod/kept").mod_revision,
                     kept.mod_revision);
}

Test(fleet, a_change_made_elsewhere_while_away_wins_over_the_old_local_copy)
{
        _cleanup_json_ cJSON *cm = NULL;
        FleetNode *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, config_map("cfg", "1")));
        wait_for((Want){b, "ConfigMap", "cfg", "data.v", "1"}, "cfg on b");
        event_run_for(event, 300 * USEC_PER_MSEC);
        fleet_node_stop(b);
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
        FleetNode *a, *b;

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
        cr_assert(etcd_raw_get(raw, "/berth/pods/b/prod/local-0").found);
        cr_assert_eq(events_of(b)->added, 2);
        cr_assert_geq(events_of(b)->modified, 1);
        cr_assert(event_run_until(event, a_sees_pod_of_b, NULL, WAIT_MAX_USEC), "a never saw b's pod");

        /* a deleted pod's key goes */
        cr_assert_eq(store_delete(a->store, "Pod", "prod", "web-1", NULL), 0);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert_null(fleet_pod(b->fleet, "prod", "web-1"));
        cr_assert_eq(events_of(b)->deleted, 1);

        /* a goes: its lease is revoked, its pods with it */
        fleet_node_stop(a);
        cr_assert(event_run_until(event, b_sees_no_pod, NULL, WAIT_MAX_USEC), "a's pods outlived a");
        cr_assert_eq(events_of(b)->deleted, 2);
}

Test(fleet, the_watch_recovers_after_an_etcd_restart)
{
        _cleanup_json_ cJSON *set = NULL;
        FleetNode *a, *b;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, stateful_set(1)));
        wait_for((Want){b, "StatefulSet", "db", "spec.replicas", NULL, 1}, "the set on b");
        etcd_raw_disconnect(raw);

        etcd_fixture_restart(&server);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cJSON_Delete(apply(a, stateful_set(4)));
        cJSON_Delete(apply(a, config_map("after", "restart")));
        cr_assert(event_run_until(event, fleet_node_is_synced, b, WAIT_MAX_USEC));
        cr_assert(event_run_until(event, fleet_node_is_synced, a, WAIT_MAX_USEC));
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
        EtcdRawKey r = etcd_raw_get(raw, "/berth/pods/a/prod/web-0");

        return r.found && r.lease != 0 && r.lease != *old;
}

static bool ghost_gone(void *userdata)
{
        EtcdRawKey r = etcd_raw_get(raw, "/berth/pods/a/prod/ghost");

        return !r.found;
}

static bool b_sees_no_ghost(void *userdata)
{
        return !fleet_pod(nodes[1].fleet, "prod", "ghost");
}

Test(fleet, a_new_lease_writes_the_pods_again_and_deletes_stale_keys)
{
        FleetNode *a, *b;
        EtcdRawKey before;

        etcd_fixture_start(&server);
        a = node_start(0, "a");
        b = node_start(1, "b");
        cJSON_Delete(apply(a, pod_on("a", "web-0")));
        cr_assert(event_run_until(event, b_sees_pod_of_a, "Running", WAIT_MAX_USEC), "b never saw a's pod");
        before = etcd_raw_get(raw, "/berth/pods/a/prod/web-0");
        cr_assert_neq(before.lease, 0);
        cr_assert_eq(before.lease, coordinator_lease(a->co));
        /* a key of a's that no pod of a's stands for (not leased: it outlives the lease) */
        etcd_raw_put(raw, "/berth/pods/a/prod/ghost",
                     "{\"metadata\":{\"name\":\"ghost\",\"namespace\":\"prod\"}}");

        /* the lease gone behind a's back: a registers under a new one and writes its pods again */
        etcd_raw_revoke(raw, before.lease);
        cr_assert(event_run_until(event, pod_key_leased, &before.lease, 2 * WAIT_MAX_USEC),
                  "a's pod never written under the new lease");
        cr_assert_eq(etcd_raw_get(raw, "/berth/pods/a/prod/web-0").lease, coordinator_lease(a->co));
        cr_assert(event_run_until(event, ghost_gone, NULL, WAIT_MAX_USEC), "the stale key stayed");
        cr_assert(event_run_until(event, b_sees_pod_of_a, "Running", WAIT_MAX_USEC));
        cr_assert(event_run_until(event, b_sees_no_ghost, NULL, WAIT_MAX_USEC),
                  "b still sees the stale key");
        cr_assert_geq(events_of(b)->deleted, 1);
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
