/* The StatefulSet controller in cluster mode (statefulset-cluster.c): agents in one process, each
 * with its own store, coordinator, fleet and StatefulSet controller on one sd-event loop, against
 * a real etcd the fixture starts on loopback (skipped without the etcd binary, a failure with
 * CI=true). The test plays the pod controller: it binds pods to their agent (spec.nodeName, so
 * that the fleet publishes them), marks them Running and Ready and finishes their deletion.
 * Checked: a set applied to one agent runs one ordinal per agent, in order across agents
 * (OrderedReady), with the fleet-wide status on every agent; max-ordinals-per-node; a scale-down
 * and the set's deletion give the ordinals back once their pods are gone; an ordinal without data
 * moves to another agent when its holder is gone, a sticky one stays with its data until
 * `berth release`; fail closed (LOSING, a local pod of an ordinal not held); and the errors of
 * statefulset_controller_release(). */
#include <criterion/criterion.h>
#include <string.h>

#include "coordinator.h"
#include "etcd-fixture.h"
#include "event-run.h"
#include "fleet.h"
#include "json-util.h"
#include "manifest.h"
#include "statefulset-controller.h"
#include "store.h"
#include "util.h"

#define WAIT_MAX_USEC (15 * USEC_PER_SEC)
/* longer than a lost or refused claim's retry (STS_CLAIM_RETRY_USEC, 1 s) */
#define SETTLE_USEC (2 * USEC_PER_SEC)

typedef struct Agent {
        const char *name;
        char dir[64];
        Store *store;
        CurlLoop *curl;
        Coordinator *co;
        Fleet *fleet;
        StatefulSetController *sc;
} Agent;

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static Agent agents[3];

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
}

/* The controller first (it cancels its claim calls), then the fleet, whose calls are the
 * coordinator's client's. */
static void agent_stop(Agent *a)
{
        a->sc = statefulset_controller_free(a->sc);
        a->fleet = fleet_free(a->fleet);
        a->co = coordinator_free(a->co);
        if (a->curl)
                cr_assert_eq(curl_loop_in_flight(a->curl), 0, "a call outlived its coordinator");
        a->curl = curl_loop_free(a->curl);
        a->store = store_free(a->store);
        if (a->dir[0])
                (void)rm_rf(a->dir);
        *a = (Agent){};
}

static void teardown(void)
{
        for (size_t i = 0; i < ELEMENTSOF(agents); i++)
                agent_stop(&agents[i]);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(statefulset_cluster, .init = setup, .fini = teardown, .timeout = 120);

/* The manager's wiring: store changes to the fleet and the controller, the coordinator's state
 * to the controller first (its pods stop before the lease can run out), then the fleet. */
static void on_store(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        Agent *a = userdata;

        (void)s;
        if (a->fleet)
                fleet_on_store_change(a->fleet, change, obj);
        if (a->sc)
                statefulset_controller_on_store_change(a->sc, change, obj);
}

static void on_state(Coordinator *co, CoordinatorState state, void *userdata)
{
        Agent *a = userdata;

        (void)co;
        statefulset_controller_on_coordinator_state(a->sc, state);
        if (a->fleet)
                fleet_on_coordinator_state(a->fleet, state);
}

static void on_claims(Coordinator *co, void *userdata)
{
        Agent *a = userdata;

        (void)co;
        statefulset_controller_on_claims_changed(a->sc);
}

static void on_pod(Fleet *f, StoreChange change, const cJSON *pod, void *userdata)
{
        Agent *a = userdata;

        (void)f;
        (void)change;
        statefulset_controller_on_fleet_pod(a->sc, pod);
}

static cJSON *parse(const char *s)
{
        cJSON *j = cJSON_Parse(s);

        cr_assert_not_null(j, "bad test JSON: %s", s);
        return j;
}

static cJSON *node_object(const char *name)
{
        _cleanup_free_ char *s = NULL;

        cr_assert(asprintf(&s, "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\"}}",
                           name) > 0);
        return parse(s);
}

static bool is_ready(void *userdata)
{
        Agent *a = userdata;

        return coordinator_state(a->co) == COORDINATOR_READY && fleet_synced(a->fleet);
}

static Agent *agent_start(size_t i, const char *name)
{
        const char *const endpoints[] = {server.url, NULL};
        _cleanup_json_ cJSON *node = node_object(name);
        CoordinatorOptions o = {.type = COORDINATOR_ETCD,
                                .node_name = name,
                                .endpoints = endpoints,
                                .lease_ttl_sec = 5,
                                .node = node};
        CoordinatorCallbacks cb = {.on_state = on_state, .on_change = on_claims, .userdata = &agents[i]};
        StatefulSetControllerOptions sco = {.node_name = name};
        _cleanup_free_ char *error = NULL;
        Agent *a = &agents[i];

        a->name = name;
        strcpy(a->dir, "/tmp/berth-sts-cluster-XXXXXX");
        cr_assert_not_null(mkdtemp(a->dir));
        cr_assert_eq(store_open(&a->store, a->dir), 0);
        store_set_on_change(a->store, on_store, a);
        cr_assert_eq(store_apply(a->store, node, NULL, NULL, NULL), 0);
        cr_assert_eq(curl_loop_new(&a->curl, event), 0);
        cr_assert_eq(statefulset_controller_new(&a->sc, event, a->store, &sco), 0);
        cr_assert_eq(coordinator_new(&a->co, event, a->curl, &o, &cb, &error), 0, "%s", error ?: "");
        cr_assert_eq(
            fleet_new(&a->fleet, event, a->store, a->co, &(FleetCallbacks){.on_pod = on_pod, .userdata = a}),
            0);
        statefulset_controller_set_cluster(a->sc, a->co, a->fleet);
        cr_assert(event_run_until(event, is_ready, a, WAIT_MAX_USEC), "%s never synced", name);
        return a;
}

#define PARALLEL "\"podManagementPolicy\":\"Parallel\","
#define CLAIMS                                                                                              \
        "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},\"spec\":{\"accessModes\":"            \
        "[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Mi\"}}}}],"
#define MAX_PER_NODE(n) ",\"annotations\":{\"" STS_ANNOTATION_MAX_PER_NODE "\":\"" n "\"}"

/* StatefulSet default/<name> created on a as the manifest module leaves it (defaulted);
 * meta_extra is spliced into its metadata, spec_extra (ending with a comma) into its spec. */
static void create_set(Agent *a, const char *name, int replicas, const char *meta_extra,
                       const char *spec_extra)
{
        _cleanup_free_ char *s = NULL;
        _cleanup_json_ cJSON *j = NULL;

        cr_assert(
            asprintf(&s,
                     "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"%s\","
                     "\"namespace\":\"default\"%s},\"spec\":{\"replicas\":%d,\"serviceName\":\"%s\",%s"
                     "\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},\"template\":{\"metadata\":{"
                     "\"labels\":{\"app\":\"%s\"}},\"spec\":{\"restartPolicy\":\"Always\","
                     "\"containers\":[{\"name\":\"main\",\"image\":\"busybox:1\"}]}}}}",
                     name, meta_extra, replicas, name, spec_extra, name, name) > 0);
        j = parse(s);
        cr_assert_eq(manifest_default(j), 0);
        cr_assert_eq(store_create(a->store, j, NULL), 0);
}

static cJSON *get(Agent *a, const char *kind, const char *name)
{
        cJSON *j = NULL;

        return store_get(a->store, kind, "default", name, &j) < 0 ? NULL : j;
}

typedef struct At {
        Agent *a;
        const char *name;
} At;

static bool set_on(void *userdata)
{
        const At *w = userdata;
        _cleanup_json_ cJSON *j = get(w->a, "StatefulSet", w->name);

        return j != NULL;
}

static void wait_set(Agent *a, const char *set)
{
        At w = {a, set};

        cr_assert(event_run_until(event, set_on, &w, WAIT_MAX_USEC), "the set %s never reached %s", set,
                  a->name);
}

/* a's pod of that name, not being deleted */
static bool live_pod(Agent *a, const char *pod)
{
        _cleanup_json_ cJSON *j = get(a, "Pod", pod);

        return j && !json_str(j, "metadata.deletionTimestamp");
}

static bool deleting_pod(Agent *a, const char *pod)
{
        _cleanup_json_ cJSON *j = get(a, "Pod", pod);

        return j && json_str(j, "metadata.deletionTimestamp");
}

static bool pod_live_at(void *userdata)
{
        const At *w = userdata;

        return live_pod(w->a, w->name);
}

static bool pod_deleting_at(void *userdata)
{
        const At *w = userdata;

        return deleting_pod(w->a, w->name);
}

/* The started agents whose store has the pod, live or not; *ret the last of them. */
static int stores_with(const char *pod, Agent **ret)
{
        int n = 0;

        for (size_t i = 0; i < ELEMENTSOF(agents); i++) {
                _cleanup_json_ cJSON *j = NULL;

                if (!agents[i].store || !(j = get(&agents[i], "Pod", pod)))
                        continue;
                n++;
                if (ret)
                        *ret = &agents[i];
        }
        return n;
}

static bool pod_anywhere(void *userdata)
{
        return stores_with(userdata, NULL) > 0;
}

/* Waits until some agent has created the pod; that agent. */
static Agent *wait_anywhere(const char *pod)
{
        Agent *a = NULL;

        cr_assert(event_run_until(event, pod_anywhere, (void *)pod, WAIT_MAX_USEC), "%s was never created",
                  pod);
        cr_assert_eq(stores_with(pod, &a), 1, "%s was created on more than one agent", pod);
        return a;
}

/* The pod controller's binding: the pod is this node's (and so published to the fleet). */
static void pod_bind(Agent *a, const char *pod)
{
        _cleanup_json_ cJSON *j = get(a, "Pod", pod);

        cr_assert_not_null(j, "%s has no pod %s", a->name, pod);
        if (!isempty(json_str(j, "spec.nodeName")))
                return;
        cr_assert_eq(json_set_string(json_ensure_object(j, "spec"), "nodeName", a->name), 0);
        cr_assert_eq(store_update(a->store, j, NULL), 0);
}

/* The pod controller: the pod runs and is Ready (minReadySeconds 0: available). */
static void pod_ready(Agent *a, const char *pod)
{
        _cleanup_json_ cJSON *st = NULL;
        char ts[64], buf[512];

        pod_bind(a, pod);
        cr_assert_eq(format_rfc3339(now_usec(CLOCK_REALTIME), ts, sizeof ts), 0);
        snprintf(buf, sizeof buf,
                 "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                 "\"lastTransitionTime\":\"%s\"}]}",
                 ts);
        st = parse(buf);
        cr_assert_eq(store_update_status(a->store, "Pod", "default", pod, st), 0);
}

/* Whether a holds the ordinal as its own record says (coordinator_claims()). */
static bool holds(Agent *a, const char *set, unsigned ordinal)
{
        const CoordinatorHeld *held = NULL;
        size_t n = coordinator_claims(a->co, &held);

        for (size_t i = 0; i < n; i++)
                if (streq(held[i].ns, "default") && streq(held[i].set, set) && held[i].ordinal == ordinal)
                        return true;
        return false;
}

static size_t n_held(Agent *a, const char *set)
{
        const CoordinatorHeld *held = NULL;
        size_t n = coordinator_claims(a->co, &held), k = 0;

        for (size_t i = 0; i < n; i++)
                k += streq(held[i].ns, "default") && streq(held[i].set, set);
        return k;
}

/* The holder of the ordinal in a's mirror of etcd (coordinator_ordinals()), NULL: free. Lives
 * until the next call or change. */
static const char *ordinal_holder(Agent *a, const char *set, unsigned ordinal)
{
        const char **holders = NULL;
        size_t n = 0;

        cr_assert_eq(coordinator_ordinals(a->co, "default", set, &holders, &n), 0);
        return ordinal < n ? holders[ordinal] : NULL;
}

static const char *sticky_holder(Agent *a, const char *set, unsigned ordinal)
{
        const char **holders = NULL;
        size_t n = 0;

        cr_assert_eq(coordinator_sticky(a->co, "default", set, &holders, &n), 0);
        return ordinal < n ? holders[ordinal] : NULL;
}

typedef struct WantHolder {
        Agent *a;
        const char *set;
        unsigned ordinal;
        const char *node; /* NULL: free */
        bool sticky;
} WantHolder;

static bool holder_is(void *userdata)
{
        const WantHolder *w = userdata;

        return streq_ptr(w->sticky ? sticky_holder(w->a, w->set, w->ordinal)
                                   : ordinal_holder(w->a, w->set, w->ordinal),
                         w->node);
}

/* Waits until a's mirror shows node (NULL: nobody) holding the ordinal (sticky: its data). */
static void wait_holder(Agent *a, const char *set, unsigned ordinal, bool sticky, const char *node)
{
        WantHolder w = {a, set, ordinal, node, sticky};

        cr_assert(event_run_until(event, holder_is, &w, WAIT_MAX_USEC),
                  "%s sees %s of %s/%u held by %s, not %s", a->name, sticky ? "the data" : "the ordinal",
                  set, ordinal,
                  (sticky ? sticky_holder(a, set, ordinal) : ordinal_holder(a, set, ordinal)) ?: "nobody",
                  node ?: "nobody");
}

typedef struct Held {
        Agent *a;
        const char *set;
        unsigned ordinal;
} Held;

static bool not_held(void *userdata)
{
        const Held *w = userdata;

        return !holds(w->a, w->set, w->ordinal);
}

/* Waits until a's own record no longer has the ordinal. */
static void wait_not_held(Agent *a, const char *set, unsigned ordinal)
{
        Held w = {a, set, ordinal};

        cr_assert(event_run_until(event, not_held, &w, WAIT_MAX_USEC), "%s still holds %s/%u", a->name, set,
                  ordinal);
}

static int64_t status_of(Agent *a, const char *set, const char *field)
{
        _cleanup_json_ cJSON *j = get(a, "StatefulSet", set);

        return j ? json_int(json_path(j, "status"), field, -1) : -1;
}

typedef struct WantStatus {
        Agent *a;
        const char *set, *field;
        int64_t value;
} WantStatus;

static bool status_is(void *userdata)
{
        const WantStatus *w = userdata;

        return status_of(w->a, w->set, w->field) == w->value;
}

static void wait_status(Agent *a, const char *set, const char *field, int64_t value)
{
        WantStatus w = {a, set, field, value};

        cr_assert(event_run_until(event, status_is, &w, WAIT_MAX_USEC), "%s: %s never became %lld (is %lld)",
                  a->name, field, (long long)value, (long long)status_of(a, set, field));
}

static Agent *other_of(Agent *a, Agent *b, Agent *x)
{
        return x == a ? b : a;
}

/* Set "web", 2 replicas OrderedReady, applied to a only: web-0 on one agent (bound, Ready),
 * web-1 on the other (bound, not Ready yet); *ret_first and *ret_second run them. */
static void two_ordinals(Agent *a, Agent *b, Agent **ret_first, Agent **ret_second)
{
        Agent *first, *second;

        create_set(a, "web", 2, "", "");
        wait_set(b, "web");
        first = wait_anywhere("web-0");
        pod_ready(first, "web-0");
        second = wait_anywhere("web-1");
        cr_assert_neq(first, second, "both ordinals on %s", first->name);
        pod_bind(second, "web-1");
        *ret_first = first;
        *ret_second = second;
}

Test(statefulset_cluster, ordered_ready_one_ordinal_per_agent)
{
        Agent *a, *b, *first, *second;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        create_set(a, "web", 2, "", "");
        wait_set(b, "web");
        first = wait_anywhere("web-0");
        cr_assert(holds(first, "web", 0), "%s made web-0 without holding ordinal 0", first->name);
        /* web-0 runs on its node (published to the fleet) but is not Ready: nobody makes web-1,
         * neither the holder of ordinal 0 nor the other agent */
        pod_bind(first, "web-0");
        cr_assert_not(event_run_until(event, pod_anywhere, (void *)"web-1", SETTLE_USEC),
                      "web-1 was created before web-0 was Ready");
        cr_assert_null(ordinal_holder(first, "web", 1), "ordinal 1 was claimed before web-0 was Ready");

        pod_ready(first, "web-0");
        second = wait_anywhere("web-1");
        cr_assert_neq(first, second, "both ordinals on %s", first->name);
        cr_assert(holds(second, "web", 1), "%s made web-1 without holding ordinal 1", second->name);
        /* one ordinal each, one pod each, in every agent's mirror */
        cr_assert_eq(n_held(first, "web"), 1);
        cr_assert_eq(n_held(second, "web"), 1);
        cr_assert_eq(stores_with("web-0", NULL), 1);
        cr_assert_eq(stores_with("web-1", NULL), 1);
        for (size_t i = 0; i < 2; i++) {
                wait_holder(&agents[i], "web", 0, false, first->name);
                wait_holder(&agents[i], "web", 1, false, second->name);
        }
        /* settled: still one pod per ordinal */
        pod_ready(second, "web-1");
        event_run_for(event, SETTLE_USEC);
        cr_assert_eq(stores_with("web-0", NULL), 1);
        cr_assert_eq(stores_with("web-1", NULL), 1);
        cr_assert_eq(stores_with("web-2", NULL), 0);
        cr_assert(live_pod(first, "web-0") && live_pod(second, "web-1"));
}

Test(statefulset_cluster, status_counts_every_agents_pods)
{
        Agent *a, *b, *first, *second;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        two_ordinals(a, b, &first, &second);
        /* one Ready of two */
        wait_status(first, "web", "replicas", 2);
        wait_status(first, "web", "readyReplicas", 1);
        pod_ready(second, "web-1");
        for (size_t i = 0; i < 2; i++) {
                wait_status(&agents[i], "web", "readyReplicas", 2);
                wait_status(&agents[i], "web", "availableReplicas", 2);
                cr_assert_eq(status_of(&agents[i], "web", "replicas"), 2, "%s", agents[i].name);
                cr_assert_eq(status_of(&agents[i], "web", "updatedReplicas"), 2, "%s", agents[i].name);
        }
}

/* BUG (statefulset-cluster.c:266, max_per_node()): this test fails. The annotation is read with
 * json_str(set, "metadata.annotations." STS_ANNOTATION_MAX_PER_NODE), but json_path() splits
 * the whole path at every '.', so the key "berth.dev/max-ordinals-per-node" is looked up as
 * annotations -> "berth" -> "dev/max-ordinals-per-node" and never found: every set gets the
 * default of 1 ordinal per node. Fix: cJSON_GetObjectItemCaseSensitive(json_path(set,
 * "metadata.annotations"), STS_ANNOTATION_MAX_PER_NODE) and take its valuestring when
 * cJSON_IsString(). */
Test(statefulset_cluster, max_ordinals_per_node_lets_one_agent_run_both)
{
        Agent *a;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        create_set(a, "web", 2, MAX_PER_NODE("2"), PARALLEL);
        cr_assert(event_run_until(event, pod_live_at, &(At){a, "web-0"}, WAIT_MAX_USEC), "no web-0");
        cr_assert(event_run_until(event, pod_live_at, &(At){a, "web-1"}, WAIT_MAX_USEC), "no web-1");
        cr_assert(holds(a, "web", 0));
        cr_assert(holds(a, "web", 1));
        cr_assert_eq(n_held(a, "web"), 2);
        wait_holder(a, "web", 0, false, "a");
        wait_holder(a, "web", 1, false, "a");
}

/* Without the annotation a node runs at most one ordinal of a set, even alone. */
Test(statefulset_cluster, one_ordinal_per_node_by_default)
{
        Agent *a;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        create_set(a, "web", 2, "", PARALLEL);
        (void)wait_anywhere("web-0");
        event_run_for(event, SETTLE_USEC);
        cr_assert_eq(stores_with("web-1", NULL), 0, "a alone runs both ordinals");
        cr_assert_eq(n_held(a, "web"), 1);
        cr_assert_null(ordinal_holder(a, "web", 1));
}

Test(statefulset_cluster, scale_down_releases_the_ordinal_once_its_pod_is_gone)
{
        Agent *a, *b, *first, *second;
        _cleanup_json_ cJSON *set = NULL;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        two_ordinals(a, b, &first, &second);
        pod_ready(second, "web-1");
        wait_status(first, "web", "readyReplicas", 2);
        wait_status(second, "web", "readyReplicas", 2);

        /* scaled on the agent that does not hold ordinal 1: it reaches the holder through the fleet */
        set = get(first, "StatefulSet", "web");
        cr_assert_not_null(set);
        cr_assert_eq(json_set_int(json_path(set, "spec"), "replicas", 1), 0);
        cr_assert_eq(store_update(first->store, set, NULL), 0);
        cr_assert(event_run_until(event, pod_deleting_at, &(At){second, "web-1"}, WAIT_MAX_USEC),
                  "%s never deleted web-1", second->name);
        /* the pod still stops: the ordinal stays held */
        cr_assert(holds(second, "web", 1));
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert(holds(second, "web", 1), "ordinal 1 given back while its pod still stops");
        cr_assert_str_eq(ordinal_holder(first, "web", 1) ?: "", second->name);

        /* the pod controller finishes the graceful delete */
        cr_assert_eq(store_delete(second->store, "Pod", "default", "web-1", NULL), 0);
        wait_holder(second, "web", 1, false, NULL);
        wait_holder(first, "web", 1, false, NULL);
        /* the watch may tell the key's deletion before the release's own answer arrives */
        wait_not_held(second, "web", 1);
        cr_assert(holds(first, "web", 0));
        cr_assert_str_eq(ordinal_holder(second, "web", 0) ?: "", first->name);
        /* nobody makes it again */
        event_run_for(event, SETTLE_USEC);
        cr_assert_eq(stores_with("web-1", NULL), 0);
        cr_assert_null(ordinal_holder(first, "web", 1));
        cr_assert(live_pod(first, "web-0"));
        wait_status(first, "web", "replicas", 1);
        wait_status(second, "web", "replicas", 1);
}

/* The set deleted on one agent: every holder gives its ordinal back once its pod is gone. */
Test(statefulset_cluster, deleting_the_set_releases_its_ordinals)
{
        Agent *a, *b, *first, *second;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        two_ordinals(a, b, &first, &second);
        pod_ready(second, "web-1");
        wait_holder(first, "web", 1, false, second->name);
        cr_assert_eq(store_delete_object(second->store, "StatefulSet", "default", "web", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        cr_assert(event_run_until(event, pod_deleting_at, &(At){first, "web-0"}, WAIT_MAX_USEC),
                  "web-0 outlived its set on %s", first->name);
        cr_assert(event_run_until(event, pod_deleting_at, &(At){second, "web-1"}, WAIT_MAX_USEC));
        /* the pods still stop: their ordinals stay held */
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert(holds(first, "web", 0));
        cr_assert(holds(second, "web", 1));
        cr_assert_eq(store_delete(first->store, "Pod", "default", "web-0", NULL), 0);
        cr_assert_eq(store_delete(second->store, "Pod", "default", "web-1", NULL), 0);
        wait_not_held(first, "web", 0);
        wait_not_held(second, "web", 1);
        for (size_t i = 0; i < 2; i++) {
                wait_holder(&agents[i], "web", 0, false, NULL);
                wait_holder(&agents[i], "web", 1, false, NULL);
        }
        cr_assert_eq(n_held(a, "web"), 0);
        cr_assert_eq(n_held(b, "web"), 0);
}

/* A set with claim templates: the ordinal's data binds it to its node, which another node does
 * not take over when the holder is gone, until the binding is released. */
Test(statefulset_cluster, sticky_ordinal_waits_for_release)
{
        Agent *a, *b, *holder, *other;
        const char *holder_name;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        create_set(a, "data", 1, "", CLAIMS);
        wait_set(b, "data");
        holder = wait_anywhere("data-0");
        other = other_of(a, b, holder);
        holder_name = holder->name;
        pod_ready(holder, "data-0");
        cr_assert(holds(holder, "data", 0));
        wait_holder(other, "data", 0, true, holder_name);
        wait_holder(holder, "data", 0, true, holder_name);

        /* the holder is gone (its lease revoked): its ordinal key goes, the data binding stays */
        agent_stop(holder);
        wait_holder(other, "data", 0, false, NULL);
        cr_assert_str_eq(sticky_holder(other, "data", 0) ?: "", holder_name);
        event_run_for(event, 3 * USEC_PER_SEC);
        cr_assert_eq(statefulset_controller_resync(other->sc), 0);
        event_run_for(event, SETTLE_USEC);
        cr_assert_null(get(other, "Pod", "data-0"), "%s took ordinal 0 bound to %s's data", other->name,
                       holder_name);
        cr_assert_eq(n_held(other, "data"), 0);
        cr_assert_null(ordinal_holder(other, "data", 0));
        cr_assert_str_eq(sticky_holder(other, "data", 0) ?: "", holder_name);

        /* `berth release` on the other agent: the binding goes, the other agent runs the ordinal */
        cr_assert_eq(statefulset_controller_release(other->sc, "default", "data", 0), 0);
        cr_assert(event_run_until(event, pod_live_at, &(At){other, "data-0"}, WAIT_MAX_USEC),
                  "%s never ran data-0 after the release", other->name);
        cr_assert(holds(other, "data", 0));
        wait_holder(other, "data", 0, false, other->name);
        wait_holder(other, "data", 0, true, other->name);
}

/* Without claim templates nothing binds the ordinal to its node: another agent takes it over
 * once the holder's lease is gone. */
Test(statefulset_cluster, ordinal_without_data_moves_when_its_holder_is_gone)
{
        Agent *a, *b, *holder, *other;
        const char *holder_name;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        create_set(a, "web", 1, "", "");
        wait_set(b, "web");
        holder = wait_anywhere("web-0");
        other = other_of(a, b, holder);
        holder_name = holder->name;
        pod_ready(holder, "web-0");
        wait_holder(other, "web", 0, false, holder_name);
        cr_assert_null(sticky_holder(other, "web", 0));
        cr_assert_null(get(other, "Pod", "web-0"));

        agent_stop(holder);
        cr_assert(event_run_until(event, pod_live_at, &(At){other, "web-0"}, WAIT_MAX_USEC),
                  "%s never took ordinal 0 over from %s", other->name, holder_name);
        cr_assert(holds(other, "web", 0));
        wait_holder(other, "web", 0, false, other->name);
        cr_assert_null(sticky_holder(other, "web", 0));
}

static bool deleting_now(Agent *a, const char *pod)
{
        _cleanup_json_ cJSON *j = get(a, "Pod", pod);

        cr_assert_not_null(j, "%s has no pod %s", a->name, pod);
        return json_str(j, "metadata.deletionTimestamp") &&
               json_int(j, "metadata.deletionGracePeriodSeconds", -1) == 0;
}

Test(statefulset_cluster, losing_the_lease_stops_the_ordinals_pods_at_once)
{
        Agent *a, *b, *holder;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        create_set(a, "web", 1, "", "");
        wait_set(b, "web");
        holder = wait_anywhere("web-0");
        pod_ready(holder, "web-0");
        cr_assert(holds(holder, "web", 0));
        cr_assert_not(deleting_pod(holder, "web-0"));
        /* no loop turn: the fence is the call itself */
        statefulset_controller_on_coordinator_state(holder->sc, COORDINATOR_LOSING);
        cr_assert(deleting_now(holder, "web-0"), "web-0 still runs on %s after LOSING", holder->name);
}

Test(statefulset_cluster, local_pod_of_an_ordinal_not_held_is_stopped)
{
        Agent *a, *b, *holder, *other;
        _cleanup_json_ cJSON *set = NULL, *pod = NULL;
        _cleanup_free_ char *s = NULL;

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        b = agent_start(1, "b");
        create_set(a, "web", 1, "", "");
        wait_set(b, "web");
        holder = wait_anywhere("web-0");
        other = other_of(a, b, holder);
        pod_ready(holder, "web-0");

        /* a second web-0, on the agent that does not hold ordinal 0, controlled by the set */
        set = get(other, "StatefulSet", "web");
        cr_assert_not_null(set);
        cr_assert_not_null(json_str(set, "metadata.uid"));
        cr_assert(
            asprintf(&s,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\","
                     "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"},\"ownerReferences\":[{"
                     "\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"name\":\"web\",\"uid\":\"%s\","
                     "\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{\"nodeName\":\"%s\","
                     "\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"main\",\"image\":"
                     "\"busybox:1\"}]}}",
                     json_str(set, "metadata.uid"), other->name) > 0);
        pod = parse(s);
        cr_assert_eq(manifest_default(pod), 0);
        cr_assert_eq(store_create(other->store, pod, NULL), 0);
        cr_assert(event_run_until(event, pod_deleting_at, &(At){other, "web-0"}, WAIT_MAX_USEC),
                  "%s never stopped its web-0", other->name);
        cr_assert(deleting_now(other, "web-0"), "stopped with a grace period");
        cr_assert_not(holds(other, "web", 0));
        /* the holder's pod is not touched */
        cr_assert(live_pod(holder, "web-0"));
        cr_assert(holds(holder, "web", 0));
}

/* berth release needs cluster mode, the set, and an ordinal of the set. */
Test(statefulset_cluster, release_errors)
{
        CoordinatorOptions o = {.type = COORDINATOR_LOCAL, .node_name = "l"};
        StatefulSetControllerOptions sco = {.node_name = "l"};
        _cleanup_(statefulset_controller_freep) StatefulSetController *single = NULL;
        Agent *l = &agents[2], *a;

        /* a local coordinator is no cluster, nor is a controller never given one */
        l->name = "l";
        strcpy(l->dir, "/tmp/berth-sts-cluster-XXXXXX");
        cr_assert_not_null(mkdtemp(l->dir));
        cr_assert_eq(store_open(&l->store, l->dir), 0);
        store_set_on_change(l->store, on_store, l);
        cr_assert_eq(curl_loop_new(&l->curl, event), 0);
        cr_assert_eq(coordinator_new(&l->co, event, l->curl, &o, &(CoordinatorCallbacks){}, NULL), 0);
        cr_assert_eq(statefulset_controller_new(&l->sc, event, l->store, &sco), 0);
        statefulset_controller_set_cluster(l->sc, l->co, NULL);
        create_set(l, "web", 1, "", "");
        cr_assert_eq(statefulset_controller_release(l->sc, "default", "web", 0), -EOPNOTSUPP);
        cr_assert_eq(statefulset_controller_new(&single, event, l->store, &sco), 0);
        cr_assert_eq(statefulset_controller_release(single, "default", "web", 0), -EOPNOTSUPP);

        etcd_fixture_start(&server);
        a = agent_start(0, "a");
        cr_assert_eq(statefulset_controller_release(a->sc, "default", "nope", 0), -ENOENT);
        /* ordinals from 2: the pod and the claim are "web-2" and ordinal 2 */
        create_set(a, "web", 1, "", "\"ordinals\":{\"start\":2},");
        cr_assert_eq(statefulset_controller_release(a->sc, "default", "web", 0), -ERANGE);
        cr_assert_eq(statefulset_controller_release(a->sc, "default", "web", 1), -ERANGE);
        cr_assert(event_run_until(event, pod_live_at, &(At){a, "web-2"}, WAIT_MAX_USEC), "no web-2");
        cr_assert(holds(a, "web", 2));
        cr_assert_eq(n_held(a, "web"), 1);
        wait_holder(a, "web", 2, false, "a");
        /* in range: sent (there is no binding to release), one at a time per set */
        cr_assert_eq(statefulset_controller_release(a->sc, "default", "web", 2), 0);
        cr_assert_eq(statefulset_controller_release(a->sc, "default", "web", 2), -EBUSY);
}
