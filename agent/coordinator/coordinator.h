/* The coordinator (DESIGN.md "Coordination"): what this node may do that another node might
 * also want to do — launch this CronJob's run of this minute, own this StatefulSet ordinal,
 * take a DaemonSet roll-out slot. Backends: "local" (one node owns everything, no network,
 * every claim won at once) and "etcd" (claims are create-only transactions on keys bound to
 * this node's lease; the key's create revision is the claim's fencing token; the node is
 * registered under the same lease).
 *
 * Fail closed: the lease is renewed every min(ttl / 3, (ttl - COORDINATOR_SAFETY_MARGIN) / 2);
 * a timer (not the renewals' failures: a renewal may hang) moves the state to LOSING once
 * ttl - COORDINATOR_SAFETY_MARGIN has passed since the last successful renewal was sent, so
 * that the owner stops what its claims cover before another node may claim them; skipping a
 * cron launch is better than running it twice. A renewal that succeeds while LOSING brings
 * READY back (the lease never ran out). Once the lease is certainly gone (etcd says so, or ttl
 * passed since the last renewal) the state is CONNECTING: the old lease is revoked (etcd may
 * have restarted and extended it), a new one granted, the node registered again, and every
 * ordinal this node held claimed again (create-only: one another node took meanwhile stays
 * theirs; a sticky one no other node can take), then READY.
 *
 * Keys, under the prefix (default "/berth/"):
 *   nodes/<node>                          this node's registration (the Node object given in
 *                                         the options, as JSON), bound to the lease
 *   cron/<ns>/<cronjob>/<unix minutes>    a fleet CronJob's launch of that minute; value: node.
 *                                         Not bound to the lease (a launch stays launched),
 *                                         deleted after COORDINATOR_CRON_KEEP
 *   ordinals/<ns>/<set>/<ordinal>         the node that runs that ordinal, bound to its lease
 *   sticky/<ns>/<set>/<ordinal>           the node whose local volume holds that ordinal's data
 *                                         (not leased: survives the node; removed by
 *                                         `berth release`)
 *   slots/<ns>/<daemonset>/<node>         a DaemonSet roll-out slot, bound to the lease
 *
 * Callbacks run on the loop, never from inside the function that started what they report.
 * They may start and cancel claims, but must not free the coordinator. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include <cjson/cJSON.h>

#include "curl-loop.h"
#include "util.h"

#define COORDINATOR_DEFAULT_PREFIX "/berth/"
#define COORDINATOR_DEFAULT_TTL_SEC 10
#define COORDINATOR_MIN_TTL_SEC 3
/* How long before the lease can expire the owner is told to stop what the claims cover. */
#define COORDINATOR_SAFETY_MARGIN (2 * USEC_PER_SEC)
#define COORDINATOR_CRON_KEEP (24 * 3600 * USEC_PER_SEC)
/* The winner of a cron claim deletes its CronJob's launches older than COORDINATOR_CRON_KEEP
 * (one range delete); those of CronJobs no longer launched go in a sweep of a page of cron keys
 * that a cron claim starts at most this often. */
#define COORDINATOR_CRON_CLEANUP_INTERVAL (3600 * USEC_PER_SEC)
/* coordinator_free()'s revocation of the lease waits at most this long. */
#define COORDINATOR_REVOKE_TIMEOUT (1 * USEC_PER_SEC)

typedef struct Coordinator Coordinator;

typedef enum CoordinatorType {
        COORDINATOR_LOCAL,
        COORDINATOR_ETCD,
} CoordinatorType;

typedef enum CoordinatorState {
        COORDINATOR_CONNECTING, /* no lease yet (etcd), or lost it and registering again */
        COORDINATOR_READY,      /* registered: claims can be made */
        COORDINATOR_LOSING,     /* renewals fail: claims are about to be lost, make none */
} CoordinatorState;

typedef struct CoordinatorCallbacks {
        /* The state changed (not called for the state coordinator_new() starts in). LOSING:
         * stop everything the claims of this node cover, now. A lease found gone while READY
         * goes through LOSING to CONNECTING. READY after LOSING or CONNECTING: the ordinals
         * were claimed again (see coordinator_claims(), whose tokens may have changed);
         * re-check what runs. */
        void (*on_state)(Coordinator *co, CoordinatorState state, void *userdata);
        /* Claims of others changed (an ordinal taken, or freed by an expired lease, a node
         * registered or gone): the owner re-syncs what depends on them. */
        void (*on_change)(Coordinator *co, void *userdata);
        void *userdata;
} CoordinatorCallbacks;

typedef struct CoordinatorOptions {
        CoordinatorType type;
        const char *node_name;        /* not empty, no '/' */
        const char *const *endpoints; /* etcd: NULL-terminated "http://host:port" */
        int64_t lease_ttl_sec;        /* etcd: 0 = COORDINATOR_DEFAULT_TTL_SEC; at least 3 */
        const char *prefix;           /* NULL = COORDINATOR_DEFAULT_PREFIX; ends with '/' */
        const cJSON *node;            /* the registration: the Node object (labels, taints...);
                                       * NULL: {"metadata":{"name":node_name}}. Copied. */
} CoordinatorOptions;

/* local: READY at once. etcd: CONNECTING, starts registering (on_state READY when done).
 * Errors in the options are -EINVAL with *ret_error (when not NULL) saying which. */
int coordinator_new(Coordinator **ret, sd_event *e, CurlLoop *curl, const CoordinatorOptions *o,
                    const CoordinatorCallbacks *cb, char **ret_error);
/* Cancels the claims in flight (their done is not called). etcd: revokes the lease (best
 * effort, waiting at most COORDINATOR_REVOKE_TIMEOUT): this node's leased claims go at once.
 * Accepts NULL. */
Coordinator *coordinator_free(Coordinator *co);
DEFINE_TRIVIAL_CLEANUP_FUNC(Coordinator *, coordinator_free);
CoordinatorState coordinator_state(const Coordinator *co);
CoordinatorType coordinator_type(const Coordinator *co);
/* Updates the registration (labels or taints changed on SIGHUP); etcd: written now when a lease
 * is held, else at the next registration. -ENOMEM. */
int coordinator_set_node(Coordinator *co, const cJSON *node);

/* The outcome of a claim. */
typedef struct CoordinatorClaim {
        int error;          /* 0, or why it could not be decided: -EAGAIN (not READY, or the
                             * lease changed while the claim was in flight), an etcd error */
        bool won;           /* this node holds it now */
        const char *holder; /* the node that holds it (this one when won); NULL: nobody */
        int64_t token;      /* won: the claim's fencing token (the key's create revision) */
} CoordinatorClaim;

/* c and what it points to live until done returns. */
typedef void (*coordinator_claim_done_t)(Coordinator *co, const CoordinatorClaim *c, void *userdata);

/* A claim in flight. done is called exactly once per claim started (the request is freed after
 * it returns), never after coordinator_request_cancel() or coordinator_free(). ret may be NULL. */
typedef struct CoordinatorRequest CoordinatorRequest;
/* NULL is a no-op, and so is cancelling a request from inside its own done. */
void coordinator_request_cancel(CoordinatorRequest *r);

/* The claim functions return 0 (done is called later) or a negative errno at once: -EINVAL
 * (a name empty or with '/'), -ENOMEM. Never decided while not READY (done gets error
 * -EAGAIN, etcd is not asked). A claim is never sent twice after an error whose outcome is
 * unknown: done gets the error, and the caller asks again later; a claim this node already
 * holds (same node, current lease) is reported won again with its token. */

/* A fleet CronJob's launch of the run scheduled at `scheduled` (CLOCK_REALTIME, whole minutes):
 * won by exactly one node. -ESTALE at once for a run older than COORDINATOR_CRON_KEEP (its key
 * may have been cleaned up). local: always won, token 1. */
int coordinator_claim_cron(Coordinator *co, const char *ns, const char *cronjob, usec_t scheduled,
                           coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret);

/* An ordinal of a StatefulSet, bound to this node's lease. Lost by another node's: holder says
 * who. A sticky binding of another node refuses the claim (error 0, won false, holder = that
 * node). sticky: also record this node as the holder of the ordinal's data (written with the
 * ordinal key, when the sticky key does not exist yet). won false with holder = this node: a
 * lease of this node from before (a crash) still holds it; ask again after it expired.
 * local: always won, token 1. */
int coordinator_claim_ordinal(Coordinator *co, const char *ns, const char *set, unsigned ordinal,
                              bool sticky, coordinator_claim_done_t done, void *userdata,
                              CoordinatorRequest **ret);
/* Gives an ordinal up (scale-down, the set deleted) when this node holds it, in any state;
 * keep_sticky keeps the data binding, else it is removed when it names this node. done: won
 * false, holder the node that holds the ordinal after (NULL: free). */
int coordinator_release_ordinal(Coordinator *co, const char *ns, const char *set, unsigned ordinal,
                                bool keep_sticky, coordinator_claim_done_t done, void *userdata,
                                CoordinatorRequest **ret);
/* The holders of a set's ordinals as known from the watch (no call): holders[i] is the node
 * holding ordinal i (NULL: free), for i < n (n = 0 and *ret_holders NULL when none is held).
 * The array and its strings live until the next change or the next call. -EINVAL, -ENOMEM. */
int coordinator_ordinals(Coordinator *co, const char *ns, const char *set, const char ***ret_holders,
                         size_t *ret_n);

/* An ordinal this node holds. */
typedef struct CoordinatorHeld {
        const char *ns;
        const char *set;
        unsigned ordinal;
        bool sticky;   /* claimed with sticky */
        int64_t token; /* its fencing token now (a new one after a re-claim) */
} CoordinatorHeld;

/* The ordinals this node holds as far as it knows (won, not released, not lost at a re-claim):
 * *ret points to n entries that live until the next claim, release or state change. */
size_t coordinator_claims(Coordinator *co, const CoordinatorHeld **ret);

/* The registered nodes (a cJSON array of the Node objects), as known from the watch; lives
 * until the next change. NULL only when out of memory. */
const cJSON *coordinator_nodes(Coordinator *co);
