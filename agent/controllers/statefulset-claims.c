/* persistentVolumeClaimRetentionPolicy (SEMANTICS.md 5.4, isClaimOwnerUpToDate and
 * updateClaimOwnerRefForSetAndPod): which of the set and the pod a claim names as its
 * controller, so that deleting the set (whenDeleted: Delete) or scaling the pod away
 * (whenScaled: Delete) deletes the claim through the garbage collector. Claims with stale
 * (uid-mismatched) references or another controller are left alone. Pure JSON. */
#include <string.h>

#include "json-util.h"
#include "statefulset-internal.h"

typedef struct Owner {
        const char *api_version, *kind, *name, *uid;
} Owner;

static Owner set_owner(const StsParams *p)
{
        return (Owner){"apps/v1", "StatefulSet", p->name, p->uid};
}

static Owner pod_owner(const char *pod_name, const char *pod_uid)
{
        return (Owner){"v1", "Pod", pod_name, pod_uid ?: ""};
}

/* matchesRef: the same group/version, kind and name (not uid) */
static bool matches_ref(const cJSON *ref, const Owner *o)
{
        return streq_ptr(json_str(ref, "apiVersion"), o->api_version) &&
               streq_ptr(json_str(ref, "kind"), o->kind) && streq_ptr(json_str(ref, "name"), o->name);
}

static bool has_stale_ref(const cJSON *claim, const Owner *o)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(claim, "metadata.ownerReferences"))
                if (matches_ref(ref, o))
                        return !streq_ptr(json_str(ref, "uid"), o->uid);
        return false;
}

static bool has_owner_ref(const cJSON *claim, const Owner *o)
{
        const cJSON *ref;

        if (isempty(o->uid))
                return false;
        cJSON_ArrayForEach (ref, json_path(claim, "metadata.ownerReferences"))
                if (streq_ptr(json_str(ref, "uid"), o->uid))
                        return true;
        return false;
}

bool sts_claim_has_stale_pod_ref(const cJSON *claim, const char *pod_name, const char *pod_uid)
{
        Owner pod = pod_owner(pod_name, pod_uid);

        return has_stale_ref(claim, &pod);
}

bool sts_claim_has_unexpected_controller(const StsParams *p, const cJSON *claim, const char *pod_name,
                                         const char *pod_uid)
{
        Owner set = set_owner(p), pod = pod_owner(pod_name, pod_uid);
        const cJSON *ref;

        /* with Retain/Retain another controller managing the claims is no problem */
        if (!p->scaled_delete && !p->deleted_delete)
                return false;
        cJSON_ArrayForEach (ref, json_path(claim, "metadata.ownerReferences")) {
                const Owner *o = matches_ref(ref, &set) ? &set : matches_ref(ref, &pod) ? &pod : NULL;

                if (o) {
                        /* a uid mismatch: wrongly orphaned, left to the garbage collector */
                        if (!streq_ptr(json_str(ref, "uid"), o->uid))
                                return true;
                        continue;
                }
                if (json_bool(ref, "controller", false))
                        return true;
        }
        return false;
}

static bool has_non_controller_owner(const cJSON *claim, const Owner *set, const Owner *pod)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(claim, "metadata.ownerReferences")) {
                const char *uid = json_str(ref, "uid");

                if (isempty(uid) || (!streq(uid, set->uid) && !streq(uid, pod->uid)))
                        continue;
                if (!json_bool(ref, "controller", false))
                        return true;
        }
        return false;
}

bool sts_claim_owner_up_to_date(const StsParams *p, const cJSON *claim, const char *pod_name,
                                const char *pod_uid, int64_t ordinal)
{
        Owner set = set_owner(p), pod = pod_owner(pod_name, pod_uid);
        bool scaled_down = !sts_in_range(p, ordinal);

        /* managed by an earlier, presumably deleted, set or pod: not ours to touch */
        if (has_stale_ref(claim, &set) || has_stale_ref(claim, &pod))
                return true;
        if (sts_claim_has_unexpected_controller(p, claim, pod_name, pod_uid))
                /* our references next to another controller must go */
                return !(has_owner_ref(claim, &set) || has_owner_ref(claim, &pod));
        if (has_non_controller_owner(claim, &set, &pod))
                return false;
        if (!p->scaled_delete && !p->deleted_delete)
                return !has_owner_ref(claim, &set) && !has_owner_ref(claim, &pod);
        if (!p->scaled_delete)
                return has_owner_ref(claim, &set) && !has_owner_ref(claim, &pod);
        if (!p->deleted_delete)
                return !has_owner_ref(claim, &set) && scaled_down == has_owner_ref(claim, &pod);
        /* Delete/Delete: a scaled-down pod's claim is the pod's, any other the set's */
        return scaled_down != has_owner_ref(claim, &set) && scaled_down == has_owner_ref(claim, &pod);
}

static int add_controller_ref(cJSON *refs, const Owner *o)
{
        cJSON *ref = sts_controller_ref(o->api_version, o->kind, o->name, o->uid);

        if (!ref || !cJSON_AddItemToArray(refs, ref))
                return cJSON_Delete(ref), -ENOMEM;
        return 0;
}

int sts_claim_update_owner_refs(const StsParams *p, cJSON *claim, const char *pod_name, const char *pod_uid,
                                int64_t ordinal)
{
        Owner set = set_owner(p), pod = pod_owner(pod_name, pod_uid);
        bool unexpected = sts_claim_has_unexpected_controller(p, claim, pod_name, pod_uid);
        bool scaled_down = !sts_in_range(p, ordinal);
        cJSON *meta = json_ensure_object(claim, "metadata"), *refs, *ref, *next;
        int r = 0;

        if (!meta)
                return -ENOMEM;
        refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences");
        if (!cJSON_IsArray(refs)) {
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "ownerReferences");
                refs = cJSON_AddArrayToObject(meta, "ownerReferences");
                if (!refs)
                        return -ENOMEM;
        }
        /* scrub every reference to our set and pod, then add what the policy wants */
        for (ref = refs->child; ref; ref = next) {
                next = ref->next;
                if (matches_ref(ref, &set) || matches_ref(ref, &pod))
                        cJSON_Delete(cJSON_DetachItemViaPointer(refs, ref));
        }
        if (!unexpected) {
                if (p->deleted_delete && (!p->scaled_delete || !scaled_down))
                        r = add_controller_ref(refs, &set);
                if (r >= 0 && p->scaled_delete && scaled_down && !isempty(pod.uid))
                        r = add_controller_ref(refs, &pod);
                if (r < 0)
                        return r;
        }
        if (cJSON_GetArraySize(refs) == 0)
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "ownerReferences");
        return 0;
}
