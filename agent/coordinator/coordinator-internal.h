/* The coordinator's layouts shared by its backend-neutral part (coordinator.c: requests, the
 * mirror of nodes, ordinals, sticky bindings and slots, the local backend) and the etcd backend
 * (coordinator-etcd.c: lease, claims as transactions, the watch; coordinator-slots.c: roll-out
 * slots and the release of sticky bindings). Not for other modules. */
#pragma once

#include "coordinator.h"
#include "etcd-client.h"

/* A key mirrored from etcd (or set by the local backend), without the prefix: "nodes/<node>",
 * "ordinals/<ns>/<set>/<ordinal>", "sticky/<ns>/<set>/<ordinal>" or
 * "slots/<ns>/<daemonset>/<slot>". */
typedef struct Entry {
        char *key;
        char *value;
        int64_t lease;
        cJSON *node; /* nodes/: the value parsed (NULL when it is no JSON) */
} Entry;

typedef enum RequestKind {
        REQUEST_CRON,
        REQUEST_ORDINAL,
        REQUEST_RELEASE,
        REQUEST_RELEASE_STICKY,
        REQUEST_SLOT,
        REQUEST_RELEASE_SLOT,
} RequestKind;

/* The slot requests (set: the DaemonSet; key: the prefix of its slot keys). */
static inline bool request_kind_slot(RequestKind k)
{
        return k == REQUEST_SLOT || k == REQUEST_RELEASE_SLOT;
}

/* The etcd ranges the mirror lists and watches (coordinator-etcd.c). */
#define MIRROR_RANGES 3

struct CoordinatorRequest {
        Coordinator *co;
        CoordinatorRequest *prev, *next;
        RequestKind kind;
        char *ns, *set;
        unsigned ordinal;
        bool sticky, keep_sticky;
        char *key, *sticky_key; /* full etcd keys */
        unsigned max;           /* REQUEST_SLOT: slots 0..max-1 may be taken */
        bool slot_queued;       /* a slot request waiting for the one before it (same DaemonSet) */
        bool slot_active;       /* a slot request sent to etcd, not answered yet */
        unsigned txns;          /* transactions sent so far */
        int64_t lease;          /* the lease the claim was sent under */
        bool internal;          /* a re-claim of the etcd backend's reconnection */
        bool in_done;
        EtcdRequest *call;
        sd_event_source *defer; /* an answer known at once, handed over on the loop */
        CoordinatorClaim claim;
        char *holder;
        coordinator_claim_done_t done;
        void *userdata;
};

struct Coordinator {
        CoordinatorType type;
        CoordinatorState state;
        sd_event *event;
        CurlLoop *curl;
        char *node_name;
        char *prefix;
        cJSON *node; /* the registration */
        CoordinatorCallbacks cb;

        Entry *entries; /* sorted by key */
        size_t n_entries;
        cJSON *nodes_cache;    /* coordinator_nodes()'s answer; NULL: to be built */
        const char **ordinals; /* coordinator_ordinals()'s last answer */
        const char **sticky;   /* coordinator_sticky()'s */
        const char **slots;    /* coordinator_slots()'s */
        CoordinatorHeld *held;
        size_t n_held;
        CoordinatorRequest *requests;
        bool stopping; /* coordinator_free(): requests are freed, none is started */

        /* etcd */
        EtcdClient *etcd;
        int64_t ttl_sec;
        usec_t ttl, keepalive_interval;
        int64_t lease_id;
        int64_t old_lease;    /* a lease given up that is still to be revoked */
        int64_t resume_lease; /* the lease of this node's last run, to be renewed and adopted; 0: none */
        usec_t last_renewal;  /* CLOCK_BOOTTIME: when the last successful renewal was sent */
        usec_t keepalive_sent;
        bool registered;  /* the connection's steps are done for this lease */
        bool reconnected; /* had a lease before: the watch restarts at READY */
        bool node_dirty;  /* the registration changed and is still to be written */
        sd_event_source *keepalive_timer, *deadline_timer, *retry_timer, *mirror_timer;
        EtcdRequest *lease_call, *keepalive_call, *register_call, *list_call, *cleanup_call;
        EtcdRequest *watches[MIRROR_RANGES];
        usec_t retry_backoff, mirror_backoff;
        size_t reclaims_pending;
        int reclaim_error;
        usec_t last_sweep;  /* CLOCK_BOOTTIME; 0: never */
        char *sweep_cursor; /* the cron key the next sweep starts at; NULL: the first */
};

/* --- coordinator.c --- */

void coordinator_set_state(Coordinator *co, CoordinatorState state);
void coordinator_notify_change(Coordinator *co);
/* The mirror: set, remove, replace all (taking the array); each true when it changed something
 * of another node. */
int entry_set(Coordinator *co, const char *key, const char *value, int64_t lease, bool *ret_others);
void entry_remove(Coordinator *co, const char *key, bool *ret_others);
void entries_replace(Coordinator *co, Entry *entries, size_t n, bool *ret_others);
void entries_free(Entry *entries, size_t n);
int entry_cmp(const void *a, const void *b);
int held_update(Coordinator *co, const char *ns, const char *set, unsigned ordinal, bool sticky,
                int64_t token);
void held_remove(Coordinator *co, const char *ns, const char *set, unsigned ordinal);
/* A claim whose outcome is known: done is called (or the re-claim accounted) and r is freed. */
void request_answer(CoordinatorRequest *r, int error, bool won, const char *holder, int64_t token);
CoordinatorRequest *request_new_internal(Coordinator *co, RequestKind kind, const char *ns, const char *set,
                                         unsigned ordinal, bool sticky);
/* An answer known now, handed over from the loop (never from inside the function that started
 * the claim). */
int request_defer(CoordinatorRequest *r, int error, bool won, const char *holder, int64_t token);

/* --- coordinator-etcd.c --- */

int etcd_backend_start(Coordinator *co, const CoordinatorOptions *o, char **ret_error);
void etcd_backend_stop(Coordinator *co);
int etcd_backend_register(Coordinator *co);
int etcd_claim_start(CoordinatorRequest *r);
void etcd_reclaim_done(Coordinator *co, CoordinatorRequest *r, int error, bool won, int64_t token);
void etcd_cron_cleanup_maybe(Coordinator *co);

/* --- coordinator-slots.c --- */

/* The slot requests of one DaemonSet go to etcd one at a time, in order: a later one waits. */
int etcd_slot_start(CoordinatorRequest *r);
/* r, a slot request, is being freed: the next one of its DaemonSet starts. */
void etcd_slot_next(Coordinator *co, const CoordinatorRequest *r);
int etcd_release_sticky_start(CoordinatorRequest *r);
