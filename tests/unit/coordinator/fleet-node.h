/* One node of a cluster test, in the test's process and on its sd-event loop: the store (its
 * own state directory under /tmp), the curl loop, the coordinator and the fleet an agent in
 * cluster mode has, wired as the agent's manager wires them (store changes and coordinator
 * states to the fleet first), with hooks for what the test adds (a controller).
 *
 * Use (a node array of the test's, zeroed; fleet_node_done() on each in the suite's .fini):
 *
 *     static FleetNode nodes[2];
 *
 *     fleet_node_start(&nodes[0], event, &(FleetNodeOptions){.name = "a", .endpoint = server.url,
 *                      .lease_ttl_sec = 5}, &(FleetNodeCallbacks){.on_pod = on_pod});
 *     ... create the controller on nodes[0].store, nodes[0].co, nodes[0].fleet ...
 *     cr_assert(event_run_until(event, fleet_node_is_ready, &nodes[0], WAIT_MAX_USEC));
 *     ...
 *     fleet_node_stop(&nodes[0]);  (away: its lease is revoked; its store is kept)
 *     fleet_node_start(&nodes[0], ...);  (back: the fleet reconciles the store it kept)
 *
 * A controller of the test's is freed before fleet_node_stop() or fleet_node_done() (it may
 * hold calls of the coordinator's). Every function fails the test on an error.
 *
 * Build: list '../coordinator/fleet-node.c' among the test's sources, with
 * include_directories('../coordinator') and a dependency that brings the fleet (fleet_dep, or
 * controllers_dep in tests/unit/agent). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include <cjson/cJSON.h>

#include "coordinator.h"
#include "curl-loop.h"
#include "fleet.h"
#include "store.h"

typedef struct FleetNode FleetNode;

typedef enum FleetNodeKind {
        FLEET_NODE_AGENT,      /* store, etcd coordinator and fleet: an agent in cluster mode */
        FLEET_NODE_REGISTERED, /* an etcd coordinator alone: a node registered with no agent
                                * behind it (no store, no fleet) */
        FLEET_NODE_LOCAL,      /* store and a local coordinator, no fleet: single-node mode */
} FleetNodeKind;

typedef struct FleetNodeOptions {
        FleetNodeKind kind;
        const char *name;      /* the node name; borrowed for the node's life (a literal) */
        const char *endpoint;  /* etcd's client URL (not LOCAL) */
        int64_t lease_ttl_sec; /* 0: the coordinator's default (not LOCAL) */
        /* the Node object (borrowed for the call), or NULL: applied to the store at each start
         * (not REGISTERED) and registered by the coordinator (not LOCAL); NULL registers
         * {"metadata":{"name":name}} */
        const cJSON *node;
} FleetNodeOptions;

/* The test's own hooks, each called after the fleet has had the event (NULL: none). */
typedef struct FleetNodeCallbacks {
        /* every committed change of the node's store */
        void (*on_store_change)(FleetNode *n, StoreChange change, const cJSON *obj, void *userdata);
        /* claims of others changed (CoordinatorCallbacks.on_change) */
        void (*on_claims)(FleetNode *n, void *userdata);
        /* another node's pod appeared, changed or went (FleetCallbacks.on_pod) */
        void (*on_pod)(FleetNode *n, StoreChange change, const cJSON *pod, void *userdata);
        void *userdata;
} FleetNodeCallbacks;

/* The fields are the test's to read; only these functions change them. */
struct FleetNode {
        const char *name;
        char dir[64]; /* the store's state directory; "" until the store is first opened */
        Store *store; /* kept across fleet_node_stop() */
        CurlLoop *curl;
        Coordinator *co;
        Fleet *fleet; /* NULL for REGISTERED and LOCAL */
        FleetNodeCallbacks cb;
};

/* Starts n (stopped, or never started): opens its store the first time (a new directory), and
 * makes the curl loop, the coordinator and the fleet. Does not wait: the etcd coordinator is
 * CONNECTING and the fleet not synced yet (see fleet_node_is_ready()). cb may be NULL. */
void fleet_node_start(FleetNode *n, sd_event *event, const FleetNodeOptions *o,
                      const FleetNodeCallbacks *cb);
/* Frees the fleet, the coordinator (which revokes its lease) and the curl loop, checking that
 * no call outlived them; keeps the store and its directory for the next start. Accepts a node
 * never started. */
void fleet_node_stop(FleetNode *n);
/* Stops n, frees its store, removes its directory and zeroes it. Accepts a node never started. */
void fleet_node_done(FleetNode *n);

/* Conditions for event_run_until() (userdata: the FleetNode). Ready: the coordinator READY and
 * the fleet, if any, synced. Synced: there is a fleet and it is synced. */
bool fleet_node_is_ready(void *userdata);
bool fleet_node_is_synced(void *userdata);
