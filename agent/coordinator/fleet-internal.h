/* The fleet's layout, shared by fleet.c (life cycle, states, the store's changes, publishing
 * objects), fleet-sync.c (list, watch, reconcile, others' changes applied) and fleet-pods.c
 * (this node's pods written, the others' pods cached). Not for other modules. */
#pragma once

#include "etcd-client.h"
#include "fleet.h"

typedef struct Fleet Fleet;

/* A put (value set) or delete of an object key in flight. */
typedef struct FleetPublish {
        Fleet *f;
        char *key;
        char *value; /* NULL: a delete */
        char *rv;    /* the local resourceVersion published */
        bool echoed; /* its event came back through the watch */
        EtcdRequest *call;
} FleetPublish;

/* What the fleet knows of one object key, "<Kind>/<ns or _>/<name>" (sorted array). */
typedef struct FleetObject {
        char *key;
        char *value;        /* in etcd as last seen (NULL: absent) */
        cJSON *form;        /* value parsed */
        int64_t mod;        /* value's mod revision */
        char *written;      /* what this agent put last and has not seen answered by another */
        bool deleted;       /* this agent deleted the key and has not seen the event yet */
        bool dirty;         /* a local change to publish */
        FleetPublish *pub;  /* in flight */
        const cJSON *local; /* during a reconcile: the local object (borrowed) */
} FleetObject;

/* Another node's pod, key "<node>/<ns>/<name>" (sorted array). */
typedef struct FleetPod {
        char *key;
        cJSON *pod;
} FleetPod;

/* Logged at warning the first time a kind of failure happens, then at debug until success. */
typedef struct FleetFailure {
        int error;
} FleetFailure;

struct Fleet {
        sd_event *event;
        Store *store;
        Coordinator *co;
        FleetCallbacks cb;
        char *prefix, *node;
        CoordinatorState state; /* the coordinator's as last told */
        bool started;           /* READY once: listing and watching */
        bool synced;
        bool writing; /* the store's changes are the fleet's own */

        FleetObject *objects;
        size_t n_objects;
        sd_event_source *publish_defer, *publish_timer;
        usec_t publish_backoff;
        FleetFailure publish_failure;

        EtcdRequest *list_call, *watch;
        sd_event_source *list_timer;
        usec_t list_backoff;
        FleetFailure list_failure;

        FleetPod *pods; /* others' */
        size_t n_pods;
        cJSON *pods_cache; /* fleet_pods()'s last answer */

        char **own_dirty; /* "<ns>/<name>" of this node's pods to write */
        size_t n_own_dirty;
        sd_event_source *own_timer;
        usec_t own_backoff;
        int64_t own_lease; /* the lease this node's pods were all written under */
        bool own_armed;
        usec_t own_flushed_at;           /* CLOCK_MONOTONIC: the last flush (0: none yet) */
        struct FleetPodCall **own_calls; /* writes in flight */
        size_t n_own_calls;
        EtcdRequest *own_list_call; /* this node's keys, for the stale ones */
        FleetFailure own_failure;
};

/* --- fleet.c --- */

usec_t fleet_backoff_next(usec_t *b);
int fleet_timer_arm(Fleet *f, sd_event_source **s, usec_t delay, sd_event_time_handler_t h,
                    const char *description);
void fleet_failed(FleetFailure *fl, int error, const char *what, const char *text);
/* etcd key of a relative one: <prefix><what><rel>. NULL when out of memory. */
char *fleet_key(const Fleet *f, const char *what, const char *rel);
/* "<Kind>/<ns or _>/<name>" of a stored object; NULL when it has no kind or name, or OOM. */
char *fleet_object_key(const cJSON *obj);
/* Splits a relative key of three parts; ns NULL for "_". -EINVAL. */
int fleet_key_split(const char *rel, char **ret_a, char **ret_b, char **ret_c);
int fleet_form(const cJSON *obj, cJSON **ret);
bool fleet_form_equal(const cJSON *a, const cJSON *b);

FleetObject *fleet_object_find(Fleet *f, const char *key);
/* Finds or adds. NULL when out of memory. */
FleetObject *fleet_object_get(Fleet *f, const char *key);
/* Sets (value NULL: absent) what etcd holds. -ENOMEM. */
int fleet_object_set_etcd(FleetObject *o, const char *value, int64_t mod);
/* Drops entries that hold nothing any more. */
void fleet_objects_gc(Fleet *f);

/* The bookkeeping of the last sync in the store's kv table: mod 0 and rv NULL when none. */
int fleet_book_get(Fleet *f, const char *key, int64_t *ret_mod, char **ret_rv);
void fleet_book_set(Fleet *f, const char *key, int64_t mod, const char *rv);
void fleet_book_delete(Fleet *f, const char *key);

void fleet_publish_kick(Fleet *f);

/* --- fleet-sync.c --- */

void fleet_sync_start(Fleet *f);
void fleet_sync_stop(Fleet *f);
/* The store written with the fleet's own flag: another agent's object applied, or deleted. */
int fleet_store_apply(Fleet *f, FleetObject *o);
int fleet_store_delete(Fleet *f, const char *key);

/* --- fleet-pods.c --- */

void fleet_pods_on_store_change(Fleet *f, StoreChange change, const cJSON *pod);
/* The coordinator is READY: write them all under a new lease, or what waits. */
void fleet_pods_ready(Fleet *f);
void fleet_pods_stop(Fleet *f);
/* The others' pods: set from a list (taking the array) or an event; calls on_pod. */
void fleet_pods_replace(Fleet *f, FleetPod *pods, size_t n);
int fleet_pods_set(Fleet *f, const char *key, const char *value);
void fleet_pods_remove(Fleet *f, const char *key);
void fleet_pods_free(FleetPod *pods, size_t n);

/* --- fleet-delete.c --- */

/* A request under pod-deletions/ ("<node>/<ns>/<name>"): run when it names this node. */
void fleet_deletion_seen(Fleet *f, const char *rel, const char *value);
