/* The object store: every Kubernetes-shaped object as JSON in SQLite (WAL) under the state
 * directory, with the metadata the apiserver maintains (uid, generation, resourceVersion,
 * creationTimestamp), and the capped event log. Single-threaded; callers own the loop. */
#pragma once

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>

#include "macro.h"
#include "selector.h"

typedef struct Store Store;

typedef enum StoreChange {
        STORE_ADDED,
        STORE_MODIFIED,
        STORE_DELETED,
} StoreChange;

/* Called after every committed change of an object (after the transaction commits; for a
 * batch, once per object after the batch commits). obj is borrowed for the call. */
typedef void (*store_on_change_t)(Store *s, StoreChange change, const cJSON *obj, void *userdata);

/* Opens (creating if needed) <state_dir>/berth.db in WAL mode and creates the schema. */
int store_open(Store **ret, const char *state_dir);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
void store_set_on_change(Store *s, store_on_change_t cb, void *userdata);

/* Transactions; nested begin is an error (-EBUSY). Changes are reported on commit. */
int store_begin(Store *s);
int store_commit(Store *s);
void store_rollback(Store *s);

/* Creates obj. Fills metadata.uid (random v4), metadata.creationTimestamp (now, RFC 3339),
 * metadata.resourceVersion (store-wide counter, as a decimal string), metadata.generation=1;
 * metadata.namespace "default" when the kind is namespaced and none is set; a
 * metadata.generateName without name gets a 5-char random suffix. -EEXIST if an object of
 * that kind/namespace/name exists. *ret (optional) gets a copy of the stored object. */
int store_create(Store *s, const cJSON *obj, cJSON **ret);
/* Create-or-update ("kubectl apply"): an existing object keeps uid, creationTimestamp and
 * status; metadata.labels/annotations/ownerReferences and spec (and data/stringData/type
 * for ConfigMap/Secret) come from obj; generation is bumped when spec changed;
 * resourceVersion bumps on any change; a no-op apply changes nothing (ret_changed=false). */
int store_apply(Store *s, const cJSON *obj, cJSON **ret, bool *ret_created, bool *ret_changed);
/* Apply of an object another agent stored (cluster mode, fleet.c): as store_apply(), but a
 * created object keeps obj's metadata.uid and metadata.creationTimestamp (both required:
 * -EINVAL), and an existing one with another uid takes obj's uid and creationTimestamp (its
 * status, generation and resourceVersion go on locally; dependents naming the old uid are
 * left to their controllers to adopt). */
int store_apply_replica(Store *s, const cJSON *obj, cJSON **ret, bool *ret_created, bool *ret_changed);
/* Replaces the whole stored object with obj (used by controllers). When obj carries a
 * metadata.resourceVersion that is not the stored one, returns -ESTALE (a conflict).
 * Keeps uid/creationTimestamp; bumps generation when spec changed. */
int store_update(Store *s, const cJSON *obj, cJSON **ret);
/* Replaces only .status of the object. -ENOENT when missing. */
int store_update_status(Store *s, const char *kind, const char *ns, const char *name, const cJSON *status);
/* -ENOENT when missing. ns is ignored (pass NULL) for cluster-scoped kinds. */
int store_get(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret);
/* A JSON array (copy) of objects of kind, in namespace ns (NULL = all), matching sel
 * (NULL = all), sorted by namespace then name. */
int store_list(Store *s, const char *kind, const char *ns, const LabelSelector *sel, cJSON **ret);
/* The objects of kind in ns whose controller (the ownerReference with controller: true) has
 * the uid owner_uid, sorted by name; read through an index, so the cost follows the number
 * of children, not of objects. */
int store_list_owned(Store *s, const char *kind, const char *ns, const char *owner_uid, cJSON **ret);
/* Removes the object now. *ret (optional) gets the last state. -ENOENT when missing. */
int store_delete(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret);
/* Marks the object as being deleted: sets metadata.deletionTimestamp (now) and
 * metadata.deletionGracePeriodSeconds (grace_sec) unless already set. The owning
 * controller finishes the deletion with store_delete(). */
int store_mark_deleted(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                       cJSON **ret);
/* The current store-wide resourceVersion. */
uint64_t store_resource_version(Store *s);

/* Events: a v1 Event about involved (any stored object; its kind, namespace, name, uid and
 * apiVersion are copied into involvedObject). type "Normal"|"Warning". An event with the
 * same involved uid, type, reason and message within the last 10 minutes is merged:
 * count+1, lastTimestamp=now. The table is capped at store_events_max (default 1000)
 * rows, oldest lastTimestamp removed first. source_component e.g. "berth", "kubelet". */
int store_event(Store *s, const cJSON *involved, const char *type, const char *reason, const char *message);
/* The same with the message formatted as printf() does. */
int store_eventv(Store *s, const cJSON *involved, const char *type, const char *reason, const char *fmt,
                 va_list ap) _printf_(5, 0);
int store_eventf(Store *s, const cJSON *involved, const char *type, const char *reason, const char *fmt, ...)
    _printf_(5, 6);
void store_set_events_max(Store *s, unsigned max);
/* Sets source.component (default "berth") and source.host (default none) of new events.
 * Events do not fire the on_change callback; they do bump the store-wide resourceVersion.
 * Returns 0 or -ENOMEM. */
int store_set_event_source(Store *s, const char *component, const char *host);
/* Events as a JSON array (copy), oldest first; ns NULL = all; involved_uid NULL = all. */
int store_list_events(Store *s, const char *ns, const char *involved_uid, cJSON **ret);

/* A small key/value table for the agent's own bookkeeping (e.g. back-off state, node
 * identity). Values are JSON. -ENOENT when missing. */
int store_kv_get(Store *s, const char *key, cJSON **ret);
int store_kv_set(Store *s, const char *key, const cJSON *value);
int store_kv_delete(Store *s, const char *key);

typedef enum StorePropagation {
        STORE_PROPAGATE_BACKGROUND,
        STORE_PROPAGATE_FOREGROUND,
        STORE_PROPAGATE_ORPHAN,
} StorePropagation;

/* Deletes an object as the apiserver and its garbage collector would, in one operation (its
 * own transaction, or a savepoint inside store_begin()): a Pod is only marked (see
 * store_mark_deleted()) for its controller to finish; grace_sec < 0 takes the pod's own
 * spec.terminationGracePeriodSeconds (default 30). So is, with grace 0, an object of any kind
 * that carries metadata.finalizers: whoever set them removes them, then the object. Any other
 * object is removed at once, and so
 * are its dependents, objects of any kind in the same namespace (any namespace for a
 * cluster-scoped owner) whose metadata.ownerReferences name its uid: recursively, pods
 * among them marked with their own grace. STORE_PROPAGATE_ORPHAN removes those references
 * from the direct dependents instead. STORE_PROPAGATE_FOREGROUND behaves as background for
 * now (the owner does not wait for its dependents). Events are deleted as store_delete()
 * does. *ret (optional) gets the object's last state. -ENOENT when missing. */
int store_delete_object(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                        StorePropagation p, cJSON **ret);
