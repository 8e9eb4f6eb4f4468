/* The DaemonSet controller in cluster mode (daemonset-cluster.c): agents in one process, each
 * with its own store, coordinator, fleet and DaemonSet controller on one sd-event loop, against
 * a real etcd the fixture starts on loopback (skipped without the etcd binary, a failure with
 * CI=true). The test plays the pod controller: it marks pods Running and Ready and finishes
 * their deletion. Checked: the fleet-wide desired count from the registered nodes' labels and
 * taints, the fleet-wide counts of every node's pods, a rolling update that deletes at most
 * maxUnavailable old pods of the fleet at a time through the roll-out slots, slots given back
 * after the update and with the set, and no slot for OnDelete. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "coordinator.h"
#include "daemonset-controller.h"
#include "etcd-fixture.h"
#include "event-run.h"
#include "fleet-node.h"
#include "fleet.h"
#include "json-util.h"
#include "store.h"
#include "util.h"

#define WAIT_MAX_USEC (15 * USEC_PER_SEC)

/* An agent: a fleet node (store, coordinator, fleet) and its DaemonSet controller. */
typedef struct Agent {
        FleetNode n;
        DaemonSetController *dc;
} Agent;

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static Agent agents[4];

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
}

/* The controller first: it cancels its slot calls. */
static void agent_stop(Agent *a)
{
        a->dc = daemonset_controller_free(a->dc);
        fleet_node_done(&a->n);
}

static void teardown(void)
{
        for (size_t i = 0; i < ELEMENTSOF(agents); i++)
                agent_stop(&agents[i]);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(daemonset_cluster, .init = setup, .fini = teardown, .timeout = 120);

static void on_store(FleetNode *n, StoreChange change, const cJSON *obj, void *userdata)
{
        Agent *a = userdata;

        if (a->dc)
                daemonset_controller_on_store_change(a->dc, change, obj);
}

static void on_claims(FleetNode *n, void *userdata)
{
        Agent *a = userdata;

        if (a->dc)
                daemonset_controller_on_claims_changed(a->dc);
}

static void on_pod(FleetNode *n, StoreChange change, const cJSON *pod, void *userdata)
{
        Agent *a = userdata;

        if (a->dc)
                daemonset_controller_on_fleet_pod(a->dc, pod);
}

static cJSON *parse(const char *s)
{
        cJSON *j = cJSON_Parse(s);

        cr_assert_not_null(j, "bad test JSON: %s", s);
        return j;
}

static cJSON *node_object(const char *name, const char *labels, const char *taints)
{
        _cleanup_free_ char *s = NULL;

        cr_assert(
            asprintf(&s,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":%s},"
                     "\"spec\":{\"taints\":%s}}",
                     name, labels, taints) > 0);
        return parse(s);
}

/* A registered node with no agent behind it: only a coordinator. */
static Agent *register_only(size_t i, const char *name, const char *labels, const char *taints)
{
        _cleanup_json_ cJSON *node = node_object(name, labels, taints);
        FleetNodeOptions o = {.kind = FLEET_NODE_REGISTERED,
                              .name = name,
                              .endpoint = server.url,
                              .lease_ttl_sec = 5,
                              .node = node};
        Agent *a = &agents[i];

        fleet_node_start(&a->n, event, &o, NULL);
        cr_assert(event_run_until(event, fleet_node_is_ready, &a->n, WAIT_MAX_USEC), "%s never registered",
                  name);
        return a;
}

/* A whole agent of kind (AGENT or LOCAL): its store holds its Node object, registered with the
 * same labels, and its DaemonSet controller runs on the fleet, if any. */
static Agent *agent_new(size_t i, FleetNodeKind kind, const char *name, const char *labels)
{
        _cleanup_json_ cJSON *node = node_object(name, labels, "[]");
        FleetNodeOptions o = {
            .kind = kind, .name = name, .endpoint = server.url, .lease_ttl_sec = 5, .node = node};
        FleetNodeCallbacks cb = {
            .on_store_change = on_store, .on_claims = on_claims, .on_pod = on_pod, .userdata = &agents[i]};
        DaemonSetControllerOptions dco = {.node_name = name};
        Agent *a = &agents[i];

        fleet_node_start(&a->n, event, &o, &cb);
        cr_assert_eq(daemonset_controller_new(&a->dc, event, a->n.store, &dco), 0);
        daemonset_controller_set_cluster(a->dc, a->n.co, a->n.fleet);
        return a;
}

/* An agent in cluster mode, registered and synced. */
static Agent *agent_start(size_t i, const char *name, const char *labels)
{
        Agent *a = agent_new(i, FLEET_NODE_AGENT, name, labels);

        cr_assert(event_run_until(event, fleet_node_is_ready, &a->n, WAIT_MAX_USEC), "%s never synced",
                  name);
        return a;
}

#define ROLLING(mu)                                                                                         \
        "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":" mu ",\"maxSurge\":0}}"
#define ON_DELETE "{\"type\":\"OnDelete\"}"

/* DaemonSet default/agent, created on a; tspec_extra is spliced into the pod template spec. */
static void create_ds(Agent *a, const char *strategy, const char *tspec_extra)
{
        _cleanup_free_ char *s = NULL;

        cr_assert(
            asprintf(&s,
                     "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\","
                     "\"namespace\":\"default\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":"
                     "\"agent\"}},\"updateStrategy\":%s,\"minReadySeconds\":0,\"revisionHistoryLimit\":10,"
                     "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},\"spec\":{%s%s"
                     "\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"main\",\"image\":"
                     "\"busybox:1\"}]}}}}",
                     strategy, tspec_extra, *tspec_extra ? "," : "") > 0);
        _cleanup_json_ cJSON *j = parse(s);
        cr_assert_eq(store_create(a->n.store, j, NULL), 0);
}

static cJSON *ds_of(Agent *a)
{
        cJSON *j = NULL;

        return store_get(a->n.store, "DaemonSet", "default", "agent", &j) < 0 ? NULL : j;
}

/* Changes the container image on a: a new template, a new revision. */
static void set_image(Agent *a, const char *image)
{
        _cleanup_json_ cJSON *j = ds_of(a);
        cJSON *c;

        cr_assert_not_null(j);
        c = cJSON_GetArrayItem(json_path(j, "spec.template.spec.containers"), 0);
        cr_assert_eq(json_set_string(c, "image", image), 0);
        cr_assert_eq(store_update(a->n.store, j, NULL), 0);
}

static int64_t status_of(Agent *a, const char *field)
{
        _cleanup_json_ cJSON *j = ds_of(a);

        return j ? json_int(json_path(j, "status"), field, -1) : -1;
}

/* The set's pods in a's store. */
static cJSON *pods_of(Agent *a)
{
        _cleanup_json_ cJSON *ps = NULL;
        cJSON *out = cJSON_CreateArray();
        const cJSON *p, *ref;

        cr_assert_not_null(out);
        cr_assert_eq(store_list(a->n.store, "Pod", "default", NULL, &ps), 0);
        cJSON_ArrayForEach (p, ps)
                cJSON_ArrayForEach (ref, json_path(p, "metadata.ownerReferences"))
                        if (streq_ptr(json_str(ref, "kind"), "DaemonSet") &&
                            streq_ptr(json_str(ref, "name"), "agent"))
                                cr_assert(cJSON_AddItemToArray(out, cJSON_Duplicate(p, true)));
        return out;
}

static bool has_image(const cJSON *pod, const char *image)
{
        return streq_ptr(json_str(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "image"), image);
}

/* Live (not deleting) pods of a with image; NULL: any image. */
static int count_live(Agent *a, const char *image)
{
        _cleanup_json_ cJSON *ps = pods_of(a);
        const cJSON *p;
        int n = 0;

        cJSON_ArrayForEach (p, ps)
                n += !json_str(p, "metadata.deletionTimestamp") && (!image || has_image(p, image));
        return n;
}

static int count_deleting(Agent *a)
{
        _cleanup_json_ cJSON *ps = pods_of(a);
        const cJSON *p;
        int n = 0;

        cJSON_ArrayForEach (p, ps)
                n += json_str(p, "metadata.deletionTimestamp") != NULL;
        return n;
}

/* The pod controller: every live pod of a without a status runs and is Ready. */
static void run_ready(Agent *a)
{
        _cleanup_json_ cJSON *ps = pods_of(a);
        const cJSON *p;
        char ts[64], buf[512];

        cr_assert_eq(format_rfc3339(now_usec(CLOCK_REALTIME), ts, sizeof ts), 0);
        snprintf(buf, sizeof buf,
                 "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                 "\"lastTransitionTime\":\"%s\"}]}",
                 ts);
        cJSON_ArrayForEach (p, ps) {
                _cleanup_json_ cJSON *st = parse(buf);

                if (json_str(p, "metadata.deletionTimestamp") || json_str(p, "status.phase"))
                        continue;
                cr_assert_eq(
                    store_update_status(a->n.store, "Pod", "default", json_str(p, "metadata.name"), st), 0);
        }
}

/* The pod controller: marked pods are stopped and removed. */
static void finish_deletions(Agent *a)
{
        _cleanup_json_ cJSON *ps = pods_of(a);
        const cJSON *p;

        cJSON_ArrayForEach (p, ps)
                if (json_str(p, "metadata.deletionTimestamp"))
                        cr_assert_eq(
                            store_delete(a->n.store, "Pod", "default", json_str(p, "metadata.name"), NULL),
                            0);
}

/* The nodes holding a slot of the set, as a's coordinator sees them. */
static int slot_holders(Agent *a, const char *node)
{
        const char **holders = NULL;
        size_t n = 0;
        int k = 0;

        cr_assert_eq(coordinator_slots(a->n.co, "default", "agent", &holders, &n), 0);
        for (size_t i = 0; i < n; i++)
                k += holders[i] && (!node || streq(holders[i], node));
        return k;
}

typedef struct Want {
        Agent *a;
        const char *field;
        int64_t value;
} Want;

static bool status_is(void *userdata)
{
        const Want *w = userdata;

        return status_of(w->a, w->field) == w->value;
}

static void wait_status(Agent *a, const char *field, int64_t value)
{
        Want w = {a, field, value};

        cr_assert(event_run_until(event, status_is, &w, WAIT_MAX_USEC), "%s: %s never became %lld (is %lld)",
                  a->n.name, field, (long long)value, (long long)status_of(a, field));
}

typedef struct WantSlots {
        Agent *a;
        const char *node;
        int n;
} WantSlots;

static bool slots_are(void *userdata)
{
        const WantSlots *w = userdata;

        return slot_holders(w->a, w->node) == w->n;
}

/* Waits until a's mirror of the slots shows node (NULL: any) holding n of them. */
static bool wait_slots(Agent *a, const char *node, int n)
{
        WantSlots w = {a, node, n};

        return event_run_until(event, slots_are, &w, WAIT_MAX_USEC);
}

static bool has_live_pod(void *userdata)
{
        return count_live(userdata, NULL) > 0;
}

/* Waits until a has created its pod, and makes it Ready. */
static void pod_up(Agent *a)
{
        cr_assert(event_run_until(event, has_live_pod, a, WAIT_MAX_USEC), "%s never created its pod",
                  a->n.name);
        run_ready(a);
}

static bool set_on(void *userdata)
{
        _cleanup_json_ cJSON *j = ds_of(userdata);

        return j != NULL;
}

static bool any_deleting(void *userdata)
{
        Agent **v = userdata;

        return count_deleting(v[0]) + count_deleting(v[1]) > 0;
}

Test(daemonset_cluster, desired_counts_the_eligible_registered_nodes)
{
        Agent *a;

        etcd_fixture_start(&server);
        a = agent_start(0, "a", "{\"role\":\"web\"}");
        register_only(1, "c", "{\"role\":\"db\"}", "[]");
        register_only(2, "d", "{\"role\":\"web\"}", "[]");
        register_only(3, "e", "{\"role\":\"web\"}", "[{\"key\":\"maintenance\",\"effect\":\"NoSchedule\"}]");
        create_ds(a, ROLLING("1"), "\"nodeSelector\":{\"role\":\"web\"}");
        /* a and d: c does not match the selector, e's taint is not tolerated */
        wait_status(a, "desiredNumberScheduled", 2);
        pod_up(a);
        wait_status(a, "numberReady", 1);
        cr_assert_eq(status_of(a, "currentNumberScheduled"), 1);
        cr_assert_eq(status_of(a, "numberAvailable"), 1);
        cr_assert_eq(status_of(a, "numberUnavailable"), 1, "d runs no pod");
        cr_assert_eq(status_of(a, "numberMisscheduled"), 0);
        /* a registration gone (its lease revoked) is a node less */
        agent_stop(&agents[2]);
        wait_status(a, "desiredNumberScheduled", 1);
        wait_status(a, "numberUnavailable", 0);
}

Test(daemonset_cluster, counts_every_nodes_pods_on_every_node)
{
        Agent *a, *b;

        etcd_fixture_start(&server);
        a = agent_start(0, "a", "{}");
        b = agent_start(1, "b", "{}");
        create_ds(a, ROLLING("1"), "");
        cr_assert(event_run_until(event, set_on, b, WAIT_MAX_USEC), "the set never reached b");
        pod_up(a);
        pod_up(b);
        for (size_t i = 0; i < 2; i++) {
                wait_status(&agents[i], "desiredNumberScheduled", 2);
                wait_status(&agents[i], "numberReady", 2);
                wait_status(&agents[i], "updatedNumberScheduled", 2);
                wait_status(&agents[i], "numberAvailable", 2);
                cr_assert_eq(status_of(&agents[i], "currentNumberScheduled"), 2);
                cr_assert_eq(status_of(&agents[i], "numberUnavailable"), 0);
        }
        /* the template changes: nobody's pod is updated any more */
        set_image(b, "busybox:2");
        wait_status(a, "updatedNumberScheduled", 0);
}

/* The rolling update of two agents with maxUnavailable 1: one goes, the other waits for it. */
Test(daemonset_cluster, one_node_at_a_time_with_max_unavailable_1)
{
        Agent *v[2], *first, *second;

        etcd_fixture_start(&server);
        v[0] = agent_start(0, "a", "{}");
        v[1] = agent_start(1, "b", "{}");
        create_ds(v[0], ROLLING("1"), "");
        cr_assert(event_run_until(event, set_on, v[1], WAIT_MAX_USEC), "the set never reached b");
        pod_up(v[0]);
        pod_up(v[1]);
        wait_status(v[0], "numberAvailable", 2);
        wait_status(v[1], "numberAvailable", 2);
        cr_assert_eq(slot_holders(v[0], NULL), 0);

        set_image(v[0], "busybox:2");
        cr_assert(event_run_until(event, any_deleting, v, WAIT_MAX_USEC), "no old pod was ever deleted");
        first = count_deleting(v[0]) > 0 ? v[0] : v[1];
        second = first == v[0] ? v[1] : v[0];
        cr_assert_eq(count_deleting(second), 0, "both nodes deleted their old pod at once");
        cr_assert(wait_slots(second, first->n.name, 1), "%s deleted without a slot", first->n.name);
        /* longer than a lost claim's retry: the second still waits */
        event_run_for(event, 1500 * USEC_PER_MSEC);
        cr_assert_eq(count_deleting(second), 0);
        cr_assert_eq(count_live(second, "busybox:1"), 1);

        /* the first's old pod is gone, its new one comes up: still the first's slot */
        finish_deletions(first);
        cr_assert(event_run_until(event, has_live_pod, first, WAIT_MAX_USEC), "no new pod on %s",
                  first->n.name);
        cr_assert_eq(count_live(first, "busybox:2"), 1);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert_eq(count_deleting(second), 0, "the second went before the first's new pod was ready");
        cr_assert_eq(slot_holders(second, first->n.name), 1);

        /* Ready (minReadySeconds 0: available): the slot goes back, the second takes it */
        run_ready(first);
        cr_assert(event_run_until(event, any_deleting, (Agent *[]){second, second}, WAIT_MAX_USEC),
                  "the second never deleted its old pod");
        cr_assert(wait_slots(first, first->n.name, 0), "the first kept its slot");
        cr_assert(wait_slots(first, second->n.name, 1));
        finish_deletions(second);
        pod_up(second);
        for (size_t i = 0; i < 2; i++) {
                wait_status(v[i], "updatedNumberScheduled", 2);
                wait_status(v[i], "numberAvailable", 2);
        }
        /* every slot given back once the roll-out is done */
        cr_assert(wait_slots(v[0], NULL, 0), "a slot was never given back");
        cr_assert(wait_slots(v[1], NULL, 0));
        cr_assert_eq(count_live(v[0], "busybox:2"), 1);
        cr_assert_eq(count_live(v[1], "busybox:2"), 1);
}

static bool both_deleting(void *userdata)
{
        Agent **v = userdata;

        return count_deleting(v[0]) > 0 && count_deleting(v[1]) > 0;
}

/* maxUnavailable 100% of the fleet's 2 nodes: 2 slots, both nodes roll at once. */
Test(daemonset_cluster, max_unavailable_percent_is_of_the_fleet)
{
        Agent *v[2];

        etcd_fixture_start(&server);
        v[0] = agent_start(0, "a", "{}");
        v[1] = agent_start(1, "b", "{}");
        create_ds(v[0], ROLLING("\"100%\""), "");
        cr_assert(event_run_until(event, set_on, v[1], WAIT_MAX_USEC), "the set never reached b");
        pod_up(v[0]);
        pod_up(v[1]);
        wait_status(v[0], "numberAvailable", 2);
        set_image(v[1], "busybox:2");
        cr_assert(event_run_until(event, both_deleting, v, WAIT_MAX_USEC),
                  "the nodes did not roll together");
        cr_assert(wait_slots(v[0], NULL, 2));
}

Test(daemonset_cluster, on_delete_takes_no_slot)
{
        Agent *v[2];

        etcd_fixture_start(&server);
        v[0] = agent_start(0, "a", "{}");
        v[1] = agent_start(1, "b", "{}");
        create_ds(v[0], ON_DELETE, "");
        cr_assert(event_run_until(event, set_on, v[1], WAIT_MAX_USEC), "the set never reached b");
        pod_up(v[0]);
        pod_up(v[1]);
        wait_status(v[0], "numberAvailable", 2);
        set_image(v[0], "busybox:2");
        wait_status(v[1], "updatedNumberScheduled", 0);
        event_run_for(event, 1500 * USEC_PER_MSEC);
        cr_assert_eq(count_deleting(v[0]) + count_deleting(v[1]), 0, "OnDelete deleted a pod");
        cr_assert_eq(slot_holders(v[0], NULL), 0);
        /* the user deletes b's pod: b replaces it with the new template, still without a slot */
        {
                _cleanup_json_ cJSON *ps = pods_of(v[1]);
                cr_assert_eq(store_delete(v[1]->n.store, "Pod", "default",
                                          json_str(cJSON_GetArrayItem(ps, 0), "metadata.name"), NULL),
                             0);
        }
        cr_assert(event_run_until(event, has_live_pod, v[1], WAIT_MAX_USEC));
        cr_assert_eq(count_live(v[1], "busybox:2"), 1);
        pod_up(v[1]);
        wait_status(v[0], "updatedNumberScheduled", 1);
        cr_assert_eq(slot_holders(v[0], NULL), 0);
        cr_assert_eq(slot_holders(v[1], NULL), 0);
}

/* A node holding a slot when the set is deleted gives it back. */
Test(daemonset_cluster, slot_given_back_with_the_set)
{
        Agent *v[2], *first;

        etcd_fixture_start(&server);
        v[0] = agent_start(0, "a", "{}");
        v[1] = agent_start(1, "b", "{}");
        create_ds(v[0], ROLLING("1"), "");
        cr_assert(event_run_until(event, set_on, v[1], WAIT_MAX_USEC), "the set never reached b");
        pod_up(v[0]);
        pod_up(v[1]);
        wait_status(v[0], "numberAvailable", 2);
        set_image(v[0], "busybox:2");
        cr_assert(event_run_until(event, any_deleting, v, WAIT_MAX_USEC), "no old pod was ever deleted");
        first = count_deleting(v[0]) > 0 ? v[0] : v[1];
        cr_assert(wait_slots(first, first->n.name, 1), "%s deleted without a slot", first->n.name);
        cr_assert_eq(store_delete_object(v[0]->n.store, "DaemonSet", "default", "agent", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        cr_assert(wait_slots(v[0], NULL, 0), "the slot outlived the set");
        cr_assert(wait_slots(v[1], NULL, 0));
}

/* A local coordinator (or no fleet) keeps the single-node behaviour: this node alone. */
Test(daemonset_cluster, local_coordinator_is_single_node)
{
        Agent *a = agent_new(0, FLEET_NODE_LOCAL, "a", "{}");

        create_ds(a, ROLLING("1"), "");
        pod_up(a);
        wait_status(a, "numberAvailable", 1);
        set_image(a, "busybox:2");
        cr_assert(event_run_until(event, any_deleting, (Agent *[]){a, a}, WAIT_MAX_USEC),
                  "the single node never rolled");
        cr_assert_eq(status_of(a, "desiredNumberScheduled"), 1);
}
