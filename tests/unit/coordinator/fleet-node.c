/* One node of a cluster test: see fleet-node.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-node.h"
#include "util.h"

/* The fleet first, as the agent's manager forwards them: the test's hook sees the fleet's view
 * as it is after the change. */
static void on_store(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        FleetNode *n = userdata;

        if (n->fleet)
                fleet_on_store_change(n->fleet, change, obj);
        if (n->cb.on_store_change)
                n->cb.on_store_change(n, change, obj, n->cb.userdata);
}

static void on_state(Coordinator *co, CoordinatorState state, void *userdata)
{
        FleetNode *n = userdata;

        if (n->fleet)
                fleet_on_coordinator_state(n->fleet, state);
}

static void on_change(Coordinator *co, void *userdata)
{
        FleetNode *n = userdata;

        if (n->cb.on_claims)
                n->cb.on_claims(n, n->cb.userdata);
}

static void on_pod(Fleet *f, StoreChange change, const cJSON *pod, void *userdata)
{
        FleetNode *n = userdata;

        if (n->cb.on_pod)
                n->cb.on_pod(n, change, pod, n->cb.userdata);
}

static void open_store(FleetNode *n, const cJSON *node)
{
        if (!n->store) {
                strcpy(n->dir, "/tmp/berth-fleet-node-XXXXXX");
                cr_assert_not_null(mkdtemp(n->dir));
                cr_assert_eq(store_open(&n->store, n->dir), 0);
                store_set_on_change(n->store, on_store, n);
        }
        if (node)
                cr_assert_eq(store_apply(n->store, node, NULL, NULL, NULL), 0);
}

void fleet_node_start(FleetNode *n, sd_event *event, const FleetNodeOptions *o, const FleetNodeCallbacks *cb)
{
        const char *const endpoints[] = {o->endpoint, NULL};
        CoordinatorOptions co = {.type = o->kind == FLEET_NODE_LOCAL ? COORDINATOR_LOCAL : COORDINATOR_ETCD,
                                 .node_name = o->name,
                                 .endpoints = o->kind == FLEET_NODE_LOCAL ? NULL : endpoints,
                                 .lease_ttl_sec = o->kind == FLEET_NODE_LOCAL ? 0 : o->lease_ttl_sec,
                                 .node = o->node};
        /* a registration alone has nobody to tell */
        CoordinatorCallbacks ccb =
            o->kind == FLEET_NODE_REGISTERED
                ? (CoordinatorCallbacks){.userdata = n}
                : (CoordinatorCallbacks){.on_state = on_state, .on_change = on_change, .userdata = n};
        _cleanup_free_ char *error = NULL;

        cr_assert_null(n->co, "%s started twice", o->name);
        n->name = o->name;
        n->cb = cb ? *cb : (FleetNodeCallbacks){};
        if (o->kind != FLEET_NODE_REGISTERED)
                open_store(n, o->node);
        cr_assert_eq(curl_loop_new(&n->curl, event), 0);
        cr_assert_eq(coordinator_new(&n->co, event, n->curl, &co, &ccb, &error), 0, "%s", error ?: "");
        if (o->kind == FLEET_NODE_AGENT)
                cr_assert_eq(fleet_new(&n->fleet, event, n->store, n->co,
                                       &(FleetCallbacks){.on_pod = on_pod, .userdata = n}),
                             0);
}

/* The fleet goes first: its calls are the coordinator's client's. */
void fleet_node_stop(FleetNode *n)
{
        n->fleet = fleet_free(n->fleet);
        n->co = coordinator_free(n->co);
        if (n->curl)
                cr_assert_eq(curl_loop_in_flight(n->curl), 0,
                             "a call of %s outlived its fleet and coordinator", n->name);
        n->curl = curl_loop_free(n->curl);
}

void fleet_node_done(FleetNode *n)
{
        fleet_node_stop(n);
        n->store = store_free(n->store);
        if (n->dir[0])
                (void)rm_rf(n->dir);
        *n = (FleetNode){};
}

bool fleet_node_is_ready(void *userdata)
{
        FleetNode *n = userdata;

        return coordinator_state(n->co) == COORDINATOR_READY && (!n->fleet || fleet_synced(n->fleet));
}

bool fleet_node_is_synced(void *userdata)
{
        FleetNode *n = userdata;

        return n->fleet && fleet_synced(n->fleet);
}
