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
 * theirs; a sticky one no other node can take), then READY. Roll-out slots are not claimed
 * again: the DaemonSet controller asks again.
 *
 * A restarted agent (killed, upgraded) resumes its lease: it keeps coordinator_lease() of its
 * last run and gives it as CoordinatorOptions.resume_lease. When etcd still has that lease the
 * coordinator renews it instead of granting a new one, takes the ordinals bound to it (naming
 * this node) as its own with their tokens, and registers: the node runs them again at once
 * rather than waiting a TTL for its old lease to expire (until then a claim of its new lease
 * would lose to the old one). A lease gone meanwhile is forgotten and a new one granted.
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
 *   slots/<ns>/<daemonset>/<slot>         a DaemonSet roll-out slot (0..max-1); value: the node
 *                                         that holds it, bound to its lease
 *
 * nodes/, ordinals/, sticky/ and slots/ are mirrored (listed, then watched).
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
/* The largest max of coordinator_claim_slot(): its transaction compares each slot, and etcd
 * takes at most 128 compares in one. */
#define COORDINATOR_MAX_SLOTS 100
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
        /* Claims of others changed (an ordinal or a roll-out slot taken, or freed by an expired
         * lease or a release, a sticky binding written or released, this node's own binding
         * released included, a node registered or gone): the owner re-syncs what depends on
         * them. */
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
        int64_t resume_lease;         /* etcd: a lease this node held before (coordinator_lease() of
                                       * the agent's last run), resumed when etcd still has it;
                                       * 0: none. Not negative. */
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
/* For the modules that keep their own keys beside the claims (fleet.c): the etcd client (NULL
 * for local), the lease this node's registration is bound to now (0: none, or local), and the
 * key prefix (ends with '/'). */
struct EtcdClient *coordinator_etcd(Coordinator *co);
int64_t coordinator_lease(const Coordinator *co);
const char *coordinator_prefix(const Coordinator *co);
const char *coordinator_node_name(const Coordinator *co);
/* CLOCK_BOOTTIME: when the last successful renewal of the current lease was sent (the lease
 * runs at least ttl from then); 0: no lease (or local). */
usec_t coordinator_last_renewal(const Coordinator *co);
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
 * lease of this node from before (a crash, not resumed) still holds it; ask again after it
 * expired.
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
/* `berth release`: deletes the ordinal's data binding whatever node it names (the operator
 * gives the data on that node up), so that another node may take the ordinal once nobody holds
 * it. The ordinal key is left as it is: its holder keeps running it (and writes the binding
 * again when it claims it sticky again). Refused while not READY like a claim. done: won
 * false, holder the node the binding named (NULL: there was none). local: holder NULL. */
int coordinator_release_sticky(Coordinator *co, const char *ns, const char *set, unsigned ordinal,
                               coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret);
/* The holders of a set's ordinals as known from the watch (no call): holders[i] is the node
 * holding ordinal i (NULL: free), for i < n (n = 0 and *ret_holders NULL when none is held).
 * The array and its strings live until the next change or the next call. -EINVAL, -ENOMEM. */
int coordinator_ordinals(Coordinator *co, const char *ns, const char *set, const char ***ret_holders,
                         size_t *ret_n);
/* The same for the sticky bindings: holders[i] is the node whose data binding holds ordinal i
 * (NULL: none). The array lives until the next change or the next call of coordinator_sticky().
 * local: none. */
int coordinator_sticky(Coordinator *co, const char *ns, const char *set, const char ***ret_holders,
                       size_t *ret_n);

/* A DaemonSet roll-out slot: at most max nodes of the fleet hold one of the DaemonSet's at a
 * time (max 1..COORDINATOR_MAX_SLOTS, else -EINVAL), each at most one. Won when this node
 * holds one: the one it holds already, whatever its index (max may have shrunk since), or the
 * lowest free one below max, taken now (token: its key's create revision). Lost (holder: the
 * one of lowest index) when the max slots are all held by others; won false with holder = this
 * node when a lease of this node from before (a crash) still holds one: ask again after it
 * expired. Bound to the lease, and not claimed again under a new one. A node's slot requests
 * of one DaemonSet go to etcd one after the other. local: always won, token 1. */
int coordinator_claim_slot(Coordinator *co, const char *ns, const char *daemonset, unsigned max,
                           coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret);
/* Gives this node's slot of the DaemonSet up (the node's roll-out step is done), in any state;
 * never deletes a slot of another node (nor one of an older lease of this one). done: won
 * false, holder NULL. local: a no-op. */
int coordinator_release_slot(Coordinator *co, const char *ns, const char *daemonset,
                             coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret);
/* The holders of the DaemonSet's slots as known from the watch, as coordinator_ordinals():
 * holders[i] holds slot i (n may exceed the max of today). The array lives until the next
 * change or the next call of coordinator_slots(). local: none. */
int coordinator_slots(Coordinator *co, const char *ns, const char *daemonset, const char ***ret_holders,
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
