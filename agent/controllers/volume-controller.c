/* The volume controller (see volume-controller.h): claim binding and provisioning, the
 * volumes' lifecycle (provision, expand, release, reclaim) and their publication on this
 * node for the pods that use them. */
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "blockdev.h"
#include "json-util.h"
#include "local-volume.h"
#include "log.h"
#include "manifest-internal.h"
#include "mount-util.h"
#include "volume-controller.h"
#include "workqueue.h"

#define FINALIZER_PVC "kubernetes.io/pvc-protection"
#define FINALIZER_PV "kubernetes.io/pv-protection"
#define ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"
#define ANN_TYPE "berth.io/volume-type"
#define ANN_NODE "berth.io/node"
#define ANN_PROVISIONED "berth.io/provisioned"
#define ANN_RESIZE_PENDING "berth.io/resize-pending"
#define LOCAL_VOLUME_DIR_NAME "kubernetes.io~local-volume"
#define RETRY_MIN_USEC USEC_PER_SEC
#define RETRY_MAX_USEC (300 * USEC_PER_SEC)
#define CLAIM_RETRY_USEC (30 * USEC_PER_SEC)
#define MIB (UINT64_C(1) << 20)

typedef enum VolumeOpKind {
        OP_PROVISION,
        OP_EXPAND,
        OP_DELETE,
} VolumeOpKind;

static const char *const op_names[] = {"provisioned", "resized", "deleted"};

typedef struct VolumeOp VolumeOp;
struct VolumeOp {
        VolumeController *c;
        char *pv;
        VolumeOpKind kind;
        uint64_t size;
        bool published; /* an expansion started while pods used the volume */
        LocalVolumeJob *job;
        VolumeOp *next;
};

typedef struct VolumeRetry {
        char *pv;
        unsigned attempts;
} VolumeRetry;

struct VolumeController {
        sd_event *event;
        Store *store;
        char *node_name;
        char *state_dir;
        char *pods_dir;
        const StorageClassTable *classes;
        WorkQueue *claims;
        WorkQueue *volumes;
        VolumeOp *ops;
        VolumeRetry *retries;
        size_t n_retries;
};

/* ------------------------------------------------------------------ helpers */

static uint64_t quantity_bytes(const cJSON *q)
{
        int64_t milli;

        if (!q || quantity_from_json(q, &milli) < 0 || milli <= 0)
                return 0;
        return (uint64_t)((milli + 999) / 1000);
}

/* Bytes as a Kubernetes quantity: the largest binary suffix that divides them. */
static void format_bytes(uint64_t b, char *buf, size_t size)
{
        static const char *const suffixes[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                uint64_t unit = UINT64_C(1) << (10 * (ELEMENTSOF(suffixes) - i));
                if (b >= unit && b % unit == 0) {
                        snprintf(buf, size, "%" PRIu64 "%s", b / unit, suffixes[i]);
                        return;
                }
        }
        snprintf(buf, size, "%" PRIu64, b);
}

/* An event about a claim or a volume, also in the debug log. */
#define claim_event(c, obj, type, reason, fmt, ...)                                                         \
        do {                                                                                                \
                log_debug("%s %s: %s: " fmt, json_str(obj, "kind"), json_str(obj, "metadata.name"), reason, \
                          ##__VA_ARGS__);                                                                   \
                (void)store_eventf((c)->store, obj, type, reason, fmt, ##__VA_ARGS__);                      \
        } while (0)

static bool has_finalizer(const cJSON *obj, const char *name)
{
        const cJSON *f;

        cJSON_ArrayForEach (f, json_path(obj, "metadata.finalizers"))
                if (cJSON_IsString(f) && streq(f->valuestring, name))
                        return true;
        return false;
}

/* Adds or removes a finalizer; 1 when obj changed. */
static int set_finalizer(cJSON *obj, const char *name, bool present)
{
        cJSON *meta = json_ensure_object(obj, "metadata"), *list, *f, *next;

        if (!meta)
                return -ENOMEM;
        if (has_finalizer(obj, name) == present)
                return 0;
        if (present) {
                list = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
                if (!cJSON_IsArray(list)) {
                        cJSON_DeleteItemFromObjectCaseSensitive(meta, "finalizers");
                        list = cJSON_AddArrayToObject(meta, "finalizers");
                }
                if (!list || !cJSON_AddItemToArray(list, cJSON_CreateString(name)))
                        return -ENOMEM;
                return 1;
        }
        list = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
        for (f = list->child; f; f = next) {
                next = f->next;
                if (cJSON_IsString(f) && streq(f->valuestring, name))
                        cJSON_Delete(cJSON_DetachItemViaPointer(list, f));
        }
        if (cJSON_GetArraySize(list) == 0)
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "finalizers");
        return 1;
}

static int set_annotation(cJSON *obj, const char *key, const char *value)
{
        cJSON *ann = json_ensure_object(json_ensure_object(obj, "metadata"), "annotations");

        if (!ann)
                return -ENOMEM;
        if (!value) {
                cJSON_DeleteItemFromObjectCaseSensitive(ann, key);
                return 0;
        }
        return json_set_string(ann, key, value);
}

static const char *annotation(const cJSON *obj, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(obj, "metadata.annotations"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool access_mode(const cJSON *spec, const char *mode)
{
        const cJSON *m;

        cJSON_ArrayForEach (m, json_path(spec, "accessModes"))
                if (cJSON_IsString(m) && streq(m->valuestring, mode))
                        return true;
        return false;
}

/* The volume name under which pod mounts claim, or NULL. */
static const char *pod_claim_volume(const cJSON *pod, const char *claim)
{
        const cJSON *v;

        cJSON_ArrayForEach (v, json_path(pod, "spec.volumes"))
                if (streq_ptr(json_str(v, "persistentVolumeClaim.claimName"), claim))
                        return json_str(v, "name");
        return NULL;
}

/* Whether a pod other than exclude_uid uses the claim now: it exists and has not finished,
 * or has finished but still holds its bind of the volume. *ret_who (optional, borrowed from
 * a list freed here: copied) names it. */
static int claim_in_use(VolumeController *c, const char *ns, const char *claim, const char *exclude_uid,
                        char **ret_who)
{
        _cleanup_json_ cJSON *pods = NULL;
        const cJSON *p;
        int r;

        r = store_list(c->store, "Pod", ns, NULL, &pods);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (p, pods) {
                const char *vol = pod_claim_volume(p, claim), *uid = json_str(p, "metadata.uid") ?: "",
                           *phase = json_str(p, "status.phase") ?: "";
                bool terminal = streq(phase, "Succeeded") || streq(phase, "Failed");

                if (!vol || streq_ptr(uid, exclude_uid))
                        continue;
                if (terminal) {
                        _cleanup_free_ char *bind =
                            strjoin(c->pods_dir, "/", uid, "/volumes/" LOCAL_VOLUME_DIR_NAME "/", vol, NULL);
                        if (!bind)
                                return -ENOMEM;
                        if (mount_is_mountpoint(bind) <= 0)
                                continue;
                }
                if (ret_who && !(*ret_who = strdup(json_str(p, "metadata.name") ?: "")))
                        return -ENOMEM;
                return 1;
        }
        return 0;
}

/* The LocalVolume a PV describes; *mount_dir is the caller's to free. */
static int pv_local_volume(VolumeController *c, const cJSON *pv, LocalVolume *v, char **mount_dir)
{
        const char *type = annotation(pv, ANN_TYPE);

        *v = (LocalVolume){.path = json_str(pv, "spec.local.path"),
                           .fstype = json_str(pv, "spec.local.fsType"),
                           .block_mode = streq_ptr(json_str(pv, "spec.volumeMode"), "Block")};
        if (!type || local_volume_type_from_string(type, &v->type) < 0 || isempty(v->path))
                return -EINVAL;
        *mount_dir = strjoin(c->state_dir, "/volumes/", json_str(pv, "metadata.name") ?: "", NULL);
        if (!*mount_dir)
                return -ENOMEM;
        v->mount_dir = *mount_dir;
        return 0;
}

static VolumeOp *op_find(VolumeController *c, const char *pv)
{
        for (VolumeOp *o = c->ops; o; o = o->next)
                if (streq(o->pv, pv))
                        return o;
        return NULL;
}

static void op_free(VolumeController *c, VolumeOp *op)
{
        for (VolumeOp **p = &c->ops; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        break;
                }
        local_volume_job_cancel(op->job);
        free(op->pv);
        free(op);
}

static VolumeRetry *retry_get(VolumeController *c, const char *pv, bool create)
{
        VolumeRetry *n;

        for (size_t i = 0; i < c->n_retries; i++)
                if (streq(c->retries[i].pv, pv))
                        return &c->retries[i];
        if (!create)
                return NULL;
        n = reallocarray(c->retries, c->n_retries + 1, sizeof(VolumeRetry));
        if (!n)
                return NULL;
        c->retries = n;
        n[c->n_retries] = (VolumeRetry){.pv = strdup(pv)};
        if (!n[c->n_retries].pv)
                return NULL;
        return &n[c->n_retries++];
}

static void retry_forget(VolumeController *c, const char *pv)
{
        VolumeRetry *r = retry_get(c, pv, false);

        if (!r)
                return;
        free(r->pv);
        *r = c->retries[--c->n_retries];
}

/* Exponential back-off per volume: 1 s doubling up to 5 minutes. */
static void retry_later(VolumeController *c, const char *pv)
{
        VolumeRetry *r = retry_get(c, pv, true);
        usec_t delay = RETRY_MIN_USEC;

        if (r) {
                for (unsigned i = 0; i < r->attempts && delay < RETRY_MAX_USEC; i++)
                        delay *= 2;
                r->attempts++;
        }
        workqueue_add_after(c->volumes, "", pv, MIN(delay, RETRY_MAX_USEC));
}

static int update_status(VolumeController *c, const cJSON *obj, cJSON *status)
{
        _cleanup_json_ cJSON *owned = status;

        if (!status)
                return -ENOMEM;
        if (cJSON_Compare(status, json_path(obj, "status"), true))
                return 0;
        return store_update_status(c->store, json_str(obj, "kind"), json_str(obj, "metadata.namespace"),
                                   json_str(obj, "metadata.name"), status);
}

/* PV status: the phase, and a message only for Failed/Pending problems. */
static int pv_set_phase(VolumeController *c, const cJSON *pv, const char *phase, const char *message)
{
        cJSON *st = cJSON_CreateObject();

        if (!st || json_set_string(st, "phase", phase) < 0 ||
            (message && json_set_string(st, "message", message) < 0)) {
                cJSON_Delete(st);
                return -ENOMEM;
        }
        return update_status(c, pv, st);
}

/* ------------------------------------------------------------------ volumes */

static int volume_finalize(VolumeController *c, const char *name)
{
        _cleanup_json_ cJSON *pv = NULL;
        int r;

        r = store_get(c->store, "PersistentVolume", NULL, name, &pv);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = set_finalizer(pv, FINALIZER_PV, false);
        if (r > 0)
                r = store_update(c->store, pv, NULL);
        if (r >= 0)
                r = store_delete(c->store, "PersistentVolume", NULL, name, NULL);
        retry_forget(c, name);
        log_debug("PersistentVolume %s removed.", name);
        return r == -ENOENT ? 0 : r;
}

static void on_op_done(int result, const char *error, void *userdata);

static int op_start(VolumeController *c, const cJSON *pv, VolumeOpKind kind, uint64_t size, bool published)
{
        _cleanup_free_ char *mount_dir = NULL, *err = NULL;
        const char *name = json_str(pv, "metadata.name");
        VolumeOp *op;
        LocalVolume v;
        int r;

        r = pv_local_volume(c, pv, &v, &mount_dir);
        if (r < 0)
                return r;
        op = calloc(1, sizeof(VolumeOp));
        if (!op || !(op->pv = strdup(name))) {
                free(op);
                return -ENOMEM;
        }
        *op = (VolumeOp){.c = c, .pv = op->pv, .kind = kind, .size = size, .published = published};
        switch (kind) {
        case OP_PROVISION:
                r = local_volume_provision_start(c->event, &v, size, on_op_done, op, &op->job, &err);
                break;
        case OP_EXPAND:
                r = local_volume_expand_start(c->event, &v, size, on_op_done, op, &op->job, &err);
                break;
        case OP_DELETE:
                r = local_volume_delete_start(c->event, &v, on_op_done, op, &op->job, &err);
                break;
        }
        if (r < 0) {
                free(op->pv);
                free(op);
                if (!err)
                        (void)asprintf_safe(&err, "%s", strerror(-r));
                log_warning("Volume %s could not be %s: %s", name, op_names[kind], err ?: "");
                if (kind != OP_DELETE) {
                        _cleanup_json_ cJSON *claim = NULL;
                        if (store_get(c->store, "PersistentVolumeClaim",
                                      json_str(pv, "spec.claimRef.namespace"),
                                      json_str(pv, "spec.claimRef.name"), &claim) >= 0)
                                claim_event(c, claim, "Warning",
                                            kind == OP_PROVISION ? "ProvisioningFailed"
                                                                 : "VolumeResizeFailed",
                                            "%s", err ?: "");
                }
                retry_later(c, name);
                return 0;
        }
        op->next = c->ops;
        c->ops = op;
        log_debug("Volume %s: %s job started.", name, op_names[kind]);
        return 0;
}

static void provision_done(VolumeController *c, cJSON *pv, cJSON *claim, uint64_t size)
{
        _cleanup_free_ char *mount_dir = NULL;
        char cap[32];
        uint64_t actual = 0;
        LocalVolume v;
        int r;

        if (pv_local_volume(c, pv, &v, &mount_dir) >= 0 && v.type != LOCAL_VOLUME_DIR &&
            local_volume_size(&v, &actual) >= 0 && actual > size)
                size = actual;
        if (v.type != LOCAL_VOLUME_DIR || size != quantity_bytes(json_path(pv, "spec.capacity.storage"))) {
                format_bytes(size, cap, sizeof(cap));
                if (json_set_string(json_ensure_object(json_ensure_object(pv, "spec"), "capacity"),
                                    "storage", cap) < 0)
                        return (void)log_oom();
        }
        r = set_annotation(pv, ANN_PROVISIONED, "true");
        if (r >= 0)
                r = store_begin(c->store);
        if (r >= 0) {
                r = store_update(c->store, pv, NULL);
                if (r >= 0)
                        r = pv_set_phase(c, pv, "Bound", NULL);
                if (r >= 0)
                        r = store_commit(c->store);
                else
                        store_rollback(c->store);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to record volume %s as provisioned: %m",
                                  json_str(pv, "metadata.name"));
        else if (claim)
                claim_event(c, claim, "Normal", "ProvisioningSucceeded",
                            "Successfully provisioned volume %s", json_str(pv, "metadata.name"));
}

static void on_op_done(int result, const char *error, void *userdata)
{
        VolumeOp *op = userdata;
        VolumeController *c = op->c;
        _cleanup_json_ cJSON *pv = NULL, *claim = NULL;
        _cleanup_free_ char *name = strdup(op->pv);
        VolumeOpKind kind = op->kind;
        uint64_t size = op->size;
        bool published = op->published;
        char cap[32];

        op->job = NULL; /* freed by the job itself once this returns */
        op_free(c, op);
        if (!name)
                return (void)log_oom();
        if (store_get(c->store, "PersistentVolume", NULL, name, &pv) < 0)
                return;
        (void)store_get(c->store, "PersistentVolumeClaim", json_str(pv, "spec.claimRef.namespace"),
                        json_str(pv, "spec.claimRef.name"), &claim);
        if (claim && !streq_ptr(json_str(claim, "metadata.uid"), json_str(pv, "spec.claimRef.uid")))
                claim = (cJSON_Delete(claim), NULL);
        if (result < 0) {
                log_warning("Volume %s could not be %s: %s", name, op_names[kind],
                            error ?: strerror(-result));
                if (kind == OP_EXPAND) {
                        format_bytes(size, cap, sizeof(cap));
                        if (set_annotation(pv, ANN_RESIZE_PENDING, cap) >= 0)
                                (void)store_update(c->store, pv, NULL);
                }
                if (claim)
                        claim_event(c, claim, "Warning",
                                    kind == OP_PROVISION ? "ProvisioningFailed"
                                    : kind == OP_EXPAND  ? "VolumeResizeFailed"
                                                         : "VolumeFailedDelete",
                                    "%s", error ?: strerror(-result));
                else
                        claim_event(c, pv, "Warning",
                                    kind == OP_DELETE ? "VolumeFailedDelete" : "VolumeFailed", "%s",
                                    error ?: strerror(-result));
                /* an online grow the kernel refused is tried offline once no pod uses the
                 * volume: its pods' deletion brings the volume back to the queue */
                if (!(kind == OP_EXPAND && published))
                        retry_later(c, name);
                return;
        }
        retry_forget(c, name);
        log_debug("Volume %s %s.", name, op_names[kind]);
        switch (kind) {
        case OP_PROVISION:
                provision_done(c, pv, claim, size);
                break;
        case OP_EXPAND:
                format_bytes(size, cap, sizeof(cap));
                if (json_set_string(json_ensure_object(json_ensure_object(pv, "spec"), "capacity"),
                                    "storage", cap) < 0 ||
                    set_annotation(pv, ANN_RESIZE_PENDING, NULL) < 0)
                        return (void)log_oom();
                if (store_update(c->store, pv, NULL) >= 0 && claim)
                        claim_event(c, claim, "Normal", "FileSystemResizeSuccessful",
                                    "MountVolume.NodeExpandVolume succeeded for volume \"%s\"", name);
                break;
        case OP_DELETE:
                (void)volume_finalize(c, name);
                break;
        }
        if (claim)
                workqueue_add(c->claims, json_str(claim, "metadata.namespace"),
                              json_str(claim, "metadata.name"));
}

static const StorageClass *pv_class(VolumeController *c, const cJSON *pv)
{
        return storage_class_find(c->classes, json_str(pv, "spec.storageClassName"));
}

/* Unpublishes a volume no pod wants any more (after its last pod, or after an agent
 * restart found it attached or mounted). A mount of the device elsewhere than the
 * volume's own (a pod's bind that outlived its pod) keeps it published. */
static int volume_unpublish_unused(VolumeController *c, const LocalVolume *v, const char *name)
{
        int r = local_volume_is_published(v);

        if (r <= 0)
                return r;
        r = local_volume_unpublish(v);
        if (r == -EBUSY) {
                log_debug("Volume %s is still busy; it stays published.", name);
                return 0;
        }
        if (r < 0)
                return log_warning_errno(r, "Failed to unpublish volume %s: %m", name);
        log_debug("Volume %s unpublished: no pod uses it.", name);
        return 0;
}

static int volume_sync(VolumeController *c, const char *name)
{
        _cleanup_json_ cJSON *pv = NULL, *claim = NULL;
        _cleanup_free_ char *mount_dir = NULL;
        const char *cns, *cname;
        bool claim_ok, provisioned;
        const StorageClass *sc;
        LocalVolume v;
        uint64_t request, cap, pending;
        int r, in_use = 0;

        r = store_get(c->store, "PersistentVolume", NULL, name, &pv);
        if (r == -ENOENT) {
                VolumeOp *op = op_find(c, name);
                if (op)
                        op_free(c, op);
                retry_forget(c, name);
                return 0;
        }
        if (r < 0)
                return r;
        if (!streq_ptr(annotation(pv, ANN_PROVISIONED_BY), PV_PROVISIONER) ||
            !streq_ptr(annotation(pv, ANN_NODE), c->node_name))
                return 0; /* not this agent's */
        if (op_find(c, name))
                return 0; /* its end brings it back */
        r = pv_local_volume(c, pv, &v, &mount_dir);
        if (r < 0) {
                claim_event(c, pv, "Warning", "VolumeFailed", "volume %s does not say where its storage is",
                            name);
                return pv_set_phase(c, pv, "Failed", "the volume does not say where its storage is");
        }
        cns = json_str(pv, "spec.claimRef.namespace");
        cname = json_str(pv, "spec.claimRef.name");
        r = cname ? store_get(c->store, "PersistentVolumeClaim", cns, cname, &claim) : -ENOENT;
        if (r < 0 && r != -ENOENT)
                return r;
        claim_ok = claim && streq_ptr(json_str(claim, "metadata.uid"), json_str(pv, "spec.claimRef.uid"));
        provisioned = streq_ptr(annotation(pv, ANN_PROVISIONED), "true");
        if (claim_ok) {
                in_use = claim_in_use(c, cns, cname, NULL, NULL);
                if (in_use < 0)
                        return in_use;
        }
        if (!in_use) {
                r = volume_unpublish_unused(c, &v, name);
                if (r < 0)
                        return r;
        }

        if (json_str(pv, "metadata.deletionTimestamp")) {
                /* kubernetes.io/pv-protection: a volume bound to a live claim stays */
                if (claim_ok && !json_str(claim, "metadata.deletionTimestamp"))
                        return 0;
                if (!streq_ptr(json_str(pv, "spec.persistentVolumeReclaimPolicy"), "Retain") || !provisioned)
                        return op_start(c, pv, OP_DELETE, 0, false);
                return volume_finalize(c, name);
        }
        if (!provisioned) {
                if (!claim_ok) /* the claim went before its volume was made */
                        return op_start(c, pv, OP_DELETE, 0, false);
                return op_start(c, pv, OP_PROVISION, quantity_bytes(json_path(pv, "spec.capacity.storage")),
                                false);
        }
        if (!claim_ok) {
                r = pv_set_phase(c, pv, "Released", NULL);
                if (r < 0)
                        return r;
                if (streq_ptr(json_str(pv, "spec.persistentVolumeReclaimPolicy"), "Retain"))
                        return 0;
                log_info("Volume %s released by claim %s/%s: deleting it (reclaimPolicy Delete).", name, cns,
                         cname);
                return op_start(c, pv, OP_DELETE, 0, false);
        }
        r = pv_set_phase(c, pv, "Bound", NULL);
        if (r < 0)
                return r;
        /* expansion: the claim asks for more than the volume has, or an earlier grow of the
         * file system waits for the volume to be unpublished */
        request = quantity_bytes(json_path(claim, "spec.resources.requests.storage"));
        cap = quantity_bytes(json_path(pv, "spec.capacity.storage"));
        pending = quantity_bytes(
            cJSON_GetObjectItemCaseSensitive(json_path(pv, "metadata.annotations"), ANN_RESIZE_PENDING));
        if (request <= cap && pending == 0)
                return 0;
        sc = pv_class(c, pv);
        if (sc && !sc->allow_expansion) {
                claim_event(c, claim, "Warning", "VolumeResizeFailed",
                            "storage class %s does not allow volume expansion", sc->name);
                return 0;
        }
        if (pending > 0 && local_volume_is_published(&v) > 0)
                return 0; /* tried online already: offline once no pod uses it */
        if (v.type == LOCAL_VOLUME_LOOP)
                request = (MAX(request, pending) + MIB - 1) / MIB * MIB;
        return op_start(c, pv, OP_EXPAND, MAX(request, pending), local_volume_is_published(&v) > 0);
}

/* ------------------------------------------------------------------ claims */

/* The claim's status from its volume: Bound, the volume's capacity and access modes, and
 * the resize conditions. */
static int claim_sync_status(VolumeController *c, const cJSON *claim, const cJSON *pv)
{
        _cleanup_json_ cJSON *st = cJSON_CreateObject();
        const char *pending = annotation(pv, ANN_RESIZE_PENDING);
        uint64_t request = quantity_bytes(json_path(claim, "spec.resources.requests.storage"));
        uint64_t cap = quantity_bytes(json_path(pv, "spec.capacity.storage"));
        const char *type = pending ? "FileSystemResizePending" : request > cap ? "Resizing" : NULL;
        cJSON *conds, *cond;
        char now[64];

        if (!st || json_set_string(st, "phase", "Bound") < 0 ||
            json_set(st, "accessModes", cJSON_Duplicate(json_path(pv, "spec.accessModes"), true)) < 0 ||
            json_set(st, "capacity", cJSON_Duplicate(json_path(pv, "spec.capacity"), true)) < 0)
                return -ENOMEM;
        if (type) {
                const cJSON *old;
                const char *since = NULL;

                cJSON_ArrayForEach (old, json_path(claim, "status.conditions"))
                        if (streq_ptr(json_str(old, "type"), type))
                                since = json_str(old, "lastTransitionTime");
                if (!since && format_rfc3339(now_usec(CLOCK_REALTIME), now, sizeof(now)) >= 0)
                        since = now;
                conds = cJSON_AddArrayToObject(st, "conditions");
                cond = cJSON_CreateObject();
                if (!conds || !cond || !cJSON_AddItemToArray(conds, cond) ||
                    json_set_string(cond, "type", type) < 0 || json_set_string(cond, "status", "True") < 0 ||
                    json_set(cond, "lastProbeTime", cJSON_CreateNull()) < 0 ||
                    (since && json_set_string(cond, "lastTransitionTime", since) < 0) ||
                    (pending && json_set_string(cond, "message",
                                                "Waiting for user to (re-)start a pod to finish file system "
                                                "resize of volume on node.") < 0))
                        return -ENOMEM;
        }
        return update_status(c, claim, TAKE_PTR(st));
}

static int claim_set_pending(VolumeController *c, const cJSON *claim)
{
        cJSON *st = cJSON_CreateObject();

        if (!st || json_set_string(st, "phase", "Pending") < 0) {
                cJSON_Delete(st);
                return -ENOMEM;
        }
        return update_status(c, claim, st);
}

/* Finishes the binding once the claim's volume is provisioned: spec.volumeName and the
 * binder's annotations, then the status, in one transaction. */
static int claim_bind(VolumeController *c, cJSON *claim, const cJSON *pv)
{
        cJSON *spec = json_ensure_object(claim, "spec");
        _cleanup_json_ cJSON *updated = NULL;
        int r;

        if (!spec || json_set_string(spec, "volumeName", json_str(pv, "metadata.name")) < 0 ||
            json_set_string(spec, "storageClassName", json_str(pv, "spec.storageClassName")) < 0 ||
            set_annotation(claim, "pv.kubernetes.io/bind-completed", "yes") < 0 ||
            set_annotation(claim, "pv.kubernetes.io/bound-by-controller", "yes") < 0)
                return -ENOMEM;
        r = store_begin(c->store);
        if (r < 0)
                return r;
        r = store_update(c->store, claim, &updated);
        if (r >= 0)
                r = claim_sync_status(c, updated, pv);
        if (r < 0) {
                store_rollback(c->store);
                return r;
        }
        return store_commit(c->store);
}

/* The block devices of the class that no volume holds yet: the smallest one that fits. */
static int pick_device(VolumeController *c, const StorageClass *sc, uint64_t size, char **ret,
                       uint64_t *ret_size)
{
        _cleanup_json_ cJSON *pvs = NULL;
        LocalBlockDevice *devs = NULL;
        size_t n = 0, best = SIZE_MAX;
        int r;

        r = store_list(c->store, "PersistentVolume", NULL, NULL, &pvs);
        if (r >= 0)
                r = local_volume_block_devices(sc->path, &devs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const cJSON *pv;
                bool taken = false;

                cJSON_ArrayForEach (pv, pvs)
                        taken = taken || streq_ptr(json_str(pv, "spec.local.path"), devs[i].path);
                if (!taken && devs[i].size >= size && (best == SIZE_MAX || devs[i].size < devs[best].size))
                        best = i;
        }
        r = best == SIZE_MAX ? -ENOSPC : 0;
        if (r >= 0) {
                *ret = strdup(devs[best].path);
                *ret_size = devs[best].size;
                r = *ret ? 0 : -ENOMEM;
        }
        local_block_devices_free(devs, n);
        return r;
}

static cJSON *pv_new(VolumeController *c, const cJSON *claim, const StorageClass *sc, const char *name,
                     const char *path, uint64_t size)
{
        _cleanup_json_ cJSON *pv = cJSON_CreateObject();
        cJSON *meta, *spec, *ref, *local, *term, *expr, *values;
        char cap[32];

        format_bytes(size, cap, sizeof(cap));
        if (!pv)
                return NULL;
        meta = json_ensure_object(pv, "metadata");
        spec = json_ensure_object(pv, "spec");
        ref = json_ensure_object(spec, "claimRef");
        local = json_ensure_object(spec, "local");
        term = cJSON_CreateObject();
        expr = cJSON_CreateObject();
        values = cJSON_CreateStringArray((const char *const[]){c->node_name}, 1);
        if (!meta || !spec || !ref || !local || !term || !expr || !values ||
            json_set(json_ensure_object(json_ensure_object(spec, "nodeAffinity"), "required"),
                     "nodeSelectorTerms", cJSON_CreateArray()) < 0 ||
            !cJSON_AddItemToArray(json_path(spec, "nodeAffinity.required.nodeSelectorTerms"), term) ||
            json_set(term, "matchExpressions", cJSON_CreateArray()) < 0 ||
            !cJSON_AddItemToArray(json_path(term, "matchExpressions"), expr)) {
                cJSON_Delete(term);
                cJSON_Delete(expr);
                cJSON_Delete(values);
                return NULL;
        }
        if (json_set_string(expr, "key", "kubernetes.io/hostname") < 0 ||
            json_set_string(expr, "operator", "In") < 0 || json_set(expr, "values", values) < 0 ||
            json_set_string(pv, "apiVersion", "v1") < 0 ||
            json_set_string(pv, "kind", "PersistentVolume") < 0 || json_set_string(meta, "name", name) < 0 ||
            set_annotation(pv, ANN_PROVISIONED_BY, PV_PROVISIONER) < 0 ||
            set_annotation(pv, ANN_TYPE, local_volume_type_to_string(sc->type)) < 0 ||
            set_annotation(pv, ANN_NODE, c->node_name) < 0 ||
            set_annotation(pv, ANN_PROVISIONED, "false") < 0 || set_finalizer(pv, FINALIZER_PV, true) < 0 ||
            json_set_string(json_ensure_object(spec, "capacity"), "storage", cap) < 0 ||
            json_set(spec, "accessModes", cJSON_Duplicate(json_path(claim, "spec.accessModes"), true)) < 0 ||
            json_set_string(spec, "persistentVolumeReclaimPolicy",
                            sc->reclaim_delete ? "Delete" : "Retain") < 0 ||
            json_set_string(spec, "storageClassName", sc->name) < 0 ||
            json_set_string(spec, "volumeMode", json_str(claim, "spec.volumeMode") ?: "Filesystem") < 0 ||
            json_set_string(ref, "kind", "PersistentVolumeClaim") < 0 ||
            json_set_string(ref, "apiVersion", "v1") < 0 ||
            json_set_string(ref, "namespace", json_str(claim, "metadata.namespace")) < 0 ||
            json_set_string(ref, "name", json_str(claim, "metadata.name")) < 0 ||
            json_set_string(ref, "uid", json_str(claim, "metadata.uid")) < 0 ||
            json_set_string(local, "path", path) < 0 ||
            (sc->type != LOCAL_VOLUME_DIR && json_set_string(local, "fsType", sc->fstype) < 0))
                return NULL;
        return TAKE_PTR(pv);
}

/* A claim without a volume: checks what the class can give, then writes the PV (phase
 * Pending) that the volume's sync provisions. Problems are events on the claim, which
 * stays Pending and is looked at again later. */
static int claim_provision(VolumeController *c, cJSON *claim)
{
        const cJSON *scn = json_path(claim, "spec.storageClassName");
        const char *ns = json_str(claim, "metadata.namespace"), *cname = json_str(claim, "metadata.name");
        _cleanup_free_ char *pvname = strjoin("pvc-", json_str(claim, "metadata.uid") ?: "", NULL),
                            *path = NULL;
        _cleanup_json_ cJSON *pv = NULL, *created = NULL;
        uint64_t size = quantity_bytes(json_path(claim, "spec.resources.requests.storage")), avail = 0;
        const char *class_name;
        const StorageClass *sc;
        char want[32], have[32];
        int r;

        if (!pvname)
                return -ENOMEM;
        r = store_get(c->store, "PersistentVolume", NULL, pvname, &pv);
        if (r >= 0) {
                if (!streq_ptr(json_str(pv, "spec.claimRef.uid"), json_str(claim, "metadata.uid")))
                        return 0;
                if (streq_ptr(annotation(pv, ANN_PROVISIONED), "true"))
                        return claim_bind(c, claim, pv);
                workqueue_add(c->volumes, "", pvname);
                return claim_set_pending(c, claim);
        }
        if (r != -ENOENT)
                return r;
        r = claim_set_pending(c, claim);
        if (r < 0)
                return r;
        if (cJSON_IsString(scn) && isempty(scn->valuestring)) {
                claim_event(c, claim, "Normal", "FailedBinding",
                            "no persistent volumes available for this claim and no storage class is set");
                return 0;
        }
        class_name = cJSON_IsString(scn) ? scn->valuestring : c->classes->default_name;
        if (!class_name) {
                claim_event(c, claim, "Normal", "FailedBinding",
                            "no persistent volumes available for this claim and no default storage class is "
                            "configured");
                return 0;
        }
        sc = storage_class_find(c->classes, class_name);
        if (!sc) {
                claim_event(c, claim, "Warning", "ProvisioningFailed",
                            "storageclass.storage.k8s.io \"%s\" not found", class_name);
                return 0;
        }
        if (streq_ptr(json_str(claim, "spec.volumeMode"), "Block") && sc->type == LOCAL_VOLUME_DIR) {
                claim_event(c, claim, "Warning", "ProvisioningFailed",
                            "storage class %s makes directories: it cannot provision volumeMode Block",
                            sc->name);
                return 0;
        }
        if (sc->type == LOCAL_VOLUME_LOOP)
                size = (size + MIB - 1) / MIB * MIB;
        format_bytes(size, want, sizeof(want));
        if (sc->max_size > 0 && size > sc->max_size) {
                format_bytes(sc->max_size, have, sizeof(have));
                claim_event(c, claim, "Warning", "ProvisioningFailed",
                            "requested %s is more than storage class %s allows (maxSize %s)", want, sc->name,
                            have);
                return 0;
        }
        if (sc->type == LOCAL_VOLUME_BLOCK) {
                r = pick_device(c, sc, size, &path, &size);
                if (r < 0) {
                        claim_event(c, claim, "Warning", "ProvisioningFailed",
                                    "storage class %s has no free block device of at least %s in %s%s%s",
                                    sc->name, want, sc->path, r == -ENOSPC ? "" : ": ",
                                    r == -ENOSPC ? "" : strerror(-r));
                        workqueue_add_after(c->claims, ns, cname, CLAIM_RETRY_USEC);
                        return 0;
                }
        } else {
                r = local_volume_free_space(sc->path, &avail);
                if (r >= 0 && avail < size) {
                        format_bytes(avail, have, sizeof(have));
                        claim_event(c, claim, "Warning", "ProvisioningFailed",
                                    "requested %s but %s has only %s available", want, sc->path, have);
                        workqueue_add_after(c->claims, ns, cname, CLAIM_RETRY_USEC);
                        return 0;
                }
                path = strjoin(sc->path, "/", pvname, sc->type == LOCAL_VOLUME_LOOP ? ".img" : "", NULL);
                if (!path)
                        return -ENOMEM;
        }
        pv = pv_new(c, claim, sc, pvname, path, size);
        if (!pv)
                return -ENOMEM;
        r = store_begin(c->store);
        if (r < 0)
                return r;
        r = store_create(c->store, pv, &created);
        if (r >= 0)
                r = pv_set_phase(c, created, "Pending", NULL);
        if (r < 0) {
                store_rollback(c->store);
                return r;
        }
        r = store_commit(c->store);
        if (r < 0)
                return r;
        claim_event(c, claim, "Normal", "Provisioning",
                    "External provisioner is provisioning volume for claim \"%s/%s\"", ns, cname);
        workqueue_add(c->volumes, "", pvname);
        return 0;
}

static int claim_sync(VolumeController *c, const char *ns, const char *name)
{
        _cleanup_json_ cJSON *claim = NULL, *pv = NULL, *updated = NULL;
        const char *volume;
        int r;

        r = store_get(c->store, "PersistentVolumeClaim", ns, name, &claim);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        volume = json_str(claim, "spec.volumeName");
        if (json_str(claim, "metadata.deletionTimestamp")) {
                _cleanup_free_ char *who = NULL;
                _cleanup_free_ char *pvname = strdup(!isempty(volume) ? volume : "");

                if (!pvname)
                        return -ENOMEM;
                /* kubernetes.io/pvc-protection: a claim in use by a pod stays */
                r = claim_in_use(c, ns, name, NULL, &who);
                if (r != 0) {
                        if (r > 0)
                                log_debug("Claim %s/%s is being deleted but pod %s still uses it.", ns, name,
                                          who);
                        return r < 0 ? r : 0;
                }
                r = set_finalizer(claim, FINALIZER_PVC, false);
                if (r > 0)
                        r = store_update(c->store, claim, NULL);
                if (r >= 0 && !json_path(claim, "metadata.finalizers"))
                        r = store_delete(c->store, "PersistentVolumeClaim", ns, name, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (isempty(pvname)) {
                        free(pvname);
                        pvname = strjoin("pvc-", json_str(claim, "metadata.uid") ?: "", NULL);
                        if (!pvname)
                                return -ENOMEM;
                }
                workqueue_add(c->volumes, "", pvname);
                return 0;
        }
        r = set_finalizer(claim, FINALIZER_PVC, true);
        if (r > 0) {
                r = store_update(c->store, claim, &updated);
                if (r >= 0) {
                        cJSON_Delete(claim);
                        claim = TAKE_PTR(updated);
                }
        }
        if (r < 0)
                return r;
        if (isempty(volume))
                return claim_provision(c, claim);
        r = store_get(c->store, "PersistentVolume", NULL, volume, &pv);
        if (r == -ENOENT) {
                if (!streq_ptr(json_str(claim, "status.phase"), "Lost"))
                        claim_event(
                            c, claim, "Warning", "ClaimLost",
                            "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
                cJSON *st = cJSON_CreateObject();
                if (!st || json_set_string(st, "phase", "Lost") < 0) {
                        cJSON_Delete(st);
                        return -ENOMEM;
                }
                return update_status(c, claim, st);
        }
        if (r < 0)
                return r;
        r = claim_sync_status(c, claim, pv);
        workqueue_add(c->volumes, "", volume);
        return r;
}

/* ------------------------------------------------------------------ pods */

int volume_controller_publish_claim(VolumeController *c, const cJSON *pod, const cJSON *volume,
                                    char **ret_path, bool *ret_block, char **ret_error)
{
        const char *ns = json_str(pod, "metadata.namespace") ?: "default",
                   *claim_name = json_str(volume, "persistentVolumeClaim.claimName"), *vname;
        _cleanup_json_ cJSON *claim = NULL, *pv = NULL;
        _cleanup_free_ char *mount_dir = NULL, *who = NULL;
        const char *fault = getenv("BERTH_TEST_FAULT");
        VolumeOp *op;
        LocalVolume v;
        int r;

        *ret_path = NULL;
        *ret_block = false;
        if (isempty(claim_name))
                return set_errorf(ret_error, -EINVAL, "persistentVolumeClaim.claimName is empty");
        r = store_get(c->store, "PersistentVolumeClaim", ns, claim_name, &claim);
        if (r == -ENOENT)
                return set_errorf(ret_error, -EINVAL, "persistentvolumeclaim \"%s\" not found", claim_name);
        if (r < 0)
                return r;
        if (json_str(claim, "metadata.deletionTimestamp"))
                return set_errorf(ret_error, -EINVAL, "persistentvolumeclaim \"%s\" is being deleted",
                                  claim_name);
        vname = json_str(claim, "spec.volumeName");
        if (isempty(vname) || !streq_ptr(json_str(claim, "status.phase"), "Bound"))
                return set_errorf(ret_error, -EINVAL,
                                  "persistentvolumeclaim \"%s\" is not bound to a volume yet", claim_name);
        r = store_get(c->store, "PersistentVolume", NULL, vname, &pv);
        if (r == -ENOENT)
                return set_errorf(ret_error, -EINVAL, "persistentvolume \"%s\" of claim \"%s\" not found",
                                  vname, claim_name);
        if (r < 0)
                return r;
        if (!streq_ptr(annotation(pv, ANN_NODE), c->node_name))
                return set_errorf(ret_error, -EINVAL, "volume %s is local to node %s, not to this node",
                                  vname, annotation(pv, ANN_NODE) ?: "(none)");
        op = op_find(c, vname);
        if (op)
                return set_errorf(ret_error, -EINVAL, "volume %s is being %s", vname,
                                  op->kind == OP_EXPAND ? "resized" : op_names[op->kind]);
        if (access_mode(json_path(claim, "spec"), "ReadWriteOncePod")) {
                r = claim_in_use(c, ns, claim_name, json_str(pod, "metadata.uid"), &who);
                if (r < 0)
                        return r;
                if (r > 0)
                        return set_errorf(ret_error, -EINVAL,
                                          "volume %s is ReadWriteOncePod and pod %s already uses it", vname,
                                          who);
        }
        r = pv_local_volume(c, pv, &v, &mount_dir);
        if (r < 0)
                return set_errorf(ret_error, -EINVAL, "volume %s does not say where its storage is", vname);
        /* fault injection for the crash tests: die between the attach and the mount */
        if (streq_ptr(fault, "kill-after-attach") && v.type == LOCAL_VOLUME_LOOP &&
            local_volume_is_published(&v) == 0) {
                _cleanup_free_ char *dev = NULL;
                if (loop_attach(v.path, &dev) >= 0)
                        (void)raise(SIGKILL);
        }
        r = local_volume_publish(&v, ret_path, ret_error);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        *ret_block = v.block_mode;
        return 0;
}

/* ------------------------------------------------------------------ loop side */

static int on_claim(void *userdata, const char *ns, const char *name)
{
        return claim_sync(userdata, ns, name);
}

static int on_volume(void *userdata, const char *ns, const char *name)
{
        return volume_sync(userdata, name);
}

void volume_controller_on_store_change(VolumeController *c, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind"), *ns = json_str(obj, "metadata.namespace");
        const cJSON *v;

        if (!c || !kind)
                return;
        if (streq(kind, "PersistentVolumeClaim")) {
                workqueue_add(c->claims, ns ?: "default", json_str(obj, "metadata.name"));
                if (change == STORE_DELETED) {
                        _cleanup_free_ char *pvname =
                            strjoin("pvc-", json_str(obj, "metadata.uid") ?: "", NULL);
                        if (pvname)
                                workqueue_add(c->volumes, "", pvname);
                }
                if (!isempty(json_str(obj, "spec.volumeName")))
                        workqueue_add(c->volumes, "", json_str(obj, "spec.volumeName"));
        } else if (streq(kind, "PersistentVolume")) {
                workqueue_add(c->volumes, "", json_str(obj, "metadata.name"));
                if (json_str(obj, "spec.claimRef.name"))
                        workqueue_add(c->claims, json_str(obj, "spec.claimRef.namespace") ?: "default",
                                      json_str(obj, "spec.claimRef.name"));
        } else if (streq(kind, "Pod")) {
                const char *phase = json_str(obj, "status.phase") ?: "";

                /* what matters to a claim: a pod comes, finishes, is being deleted or goes */
                if (change == STORE_MODIFIED && !streq(phase, "Succeeded") && !streq(phase, "Failed") &&
                    !json_str(obj, "metadata.deletionTimestamp"))
                        return;
                cJSON_ArrayForEach (v, json_path(obj, "spec.volumes"))
                        if (json_str(v, "persistentVolumeClaim.claimName"))
                                workqueue_add(c->claims, ns ?: "default",
                                              json_str(v, "persistentVolumeClaim.claimName"));
        }
}

static int publish_classes(VolumeController *c)
{
        _cleanup_json_ cJSON *stored = NULL;
        const cJSON *o;
        int r;

        for (size_t i = 0; i < c->classes->n; i++) {
                const StorageClass *sc = &c->classes->classes[i];
                _cleanup_json_ cJSON *obj =
                    storage_class_to_json(sc, streq_ptr(sc->name, c->classes->default_name));

                if (!obj)
                        return -ENOMEM;
                r = store_apply(c->store, obj, NULL, NULL, NULL);
                if (r < 0)
                        return r;
        }
        r = store_list(c->store, "StorageClass", NULL, NULL, &stored);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (o, stored)
                if (!storage_class_find(c->classes, json_str(o, "metadata.name")))
                        (void)store_delete(c->store, "StorageClass", NULL, json_str(o, "metadata.name"),
                                           NULL);
        return 0;
}

int volume_controller_resync(VolumeController *c)
{
        _cleanup_json_ cJSON *claims = NULL, *pvs = NULL;
        const cJSON *o;
        int r;

        r = publish_classes(c);
        if (r < 0)
                return r;
        r = store_list(c->store, "PersistentVolumeClaim", NULL, NULL, &claims);
        if (r >= 0)
                r = store_list(c->store, "PersistentVolume", NULL, NULL, &pvs);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (o, claims)
                workqueue_add(c->claims, json_str(o, "metadata.namespace") ?: "default",
                              json_str(o, "metadata.name"));
        cJSON_ArrayForEach (o, pvs)
                workqueue_add(c->volumes, "", json_str(o, "metadata.name"));
        return 0;
}

int volume_controller_new(VolumeController **ret, sd_event *e, Store *store,
                          const VolumeControllerOptions *o)
{
        _cleanup_(volume_controller_freep) VolumeController *c = calloc(1, sizeof(VolumeController));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->store = store;
        c->classes = o->classes;
        c->node_name = strdup(o->node_name);
        c->state_dir = strdup(o->state_dir);
        c->pods_dir = strjoin(o->state_dir, "/pods", NULL);
        if (!c->node_name || !c->state_dir || !c->pods_dir)
                return -ENOMEM;
        r = workqueue_new(&c->claims, e, "claims", on_claim, c);
        if (r >= 0)
                r = workqueue_new(&c->volumes, e, "volumes", on_volume, c);
        if (r < 0)
                return r;
        workqueue_set_kind(c->claims, "PersistentVolumeClaim");
        workqueue_set_kind(c->volumes, "PersistentVolume");
        *ret = TAKE_PTR(c);
        return 0;
}

VolumeController *volume_controller_free(VolumeController *c)
{
        if (!c)
                return NULL;
        while (c->ops)
                op_free(c, c->ops);
        for (size_t i = 0; i < c->n_retries; i++)
                free(c->retries[i].pv);
        free(c->retries);
        workqueue_free(c->claims);
        workqueue_free(c->volumes);
        free(c->node_name);
        free(c->state_dir);
        free(c->pods_dir);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
