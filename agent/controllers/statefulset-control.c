/* The StatefulSet's writes (StatefulPodControl, stateful_pod_control.go): claims created
 * before their pod, pods created, brought back to their identity and storage, and deleted,
 * claims' ownerReferences kept to the retention policy, each with the event Kubernetes
 * records on the set; and the reads around them: the set's pods (orphans adopted) and the
 * collection of claims whose controlling pod is gone, which the garbage collector would do. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "statefulset-internal.h"

static const char *title(const char *verb)
{
        return streq(verb, "create") ? "Create" : streq(verb, "delete") ? "Delete" : "Update";
}

/* recordPodEvent */
static void pod_event(StsSync *s, const char *verb, const char *pod, int err, const char *detail)
{
        char reason[32];

        snprintf(reason, sizeof reason, "%s%s", err >= 0 ? "Successful" : "Failed", title(verb));
        if (err >= 0)
                (void)store_eventf(s->c->store, s->set, "Normal", reason,
                                   "%s Pod %s in StatefulSet %s successful", verb, pod, s->name);
        else
                (void)store_eventf(s->c->store, s->set, "Warning", reason,
                                   "%s Pod %s in StatefulSet %s failed error: %s", verb, pod, s->name,
                                   detail ?: strerror(-err));
}

/* recordClaimEvent */
static void claim_event(StsSync *s, const char *claim, const char *pod, int err)
{
        if (err >= 0)
                (void)store_eventf(s->c->store, s->set, "Normal", "SuccessfulCreate",
                                   "create Claim %s Pod %s in StatefulSet %s success", claim, pod, s->name);
        else
                (void)store_eventf(s->c->store, s->set, "Warning", "FailedCreate",
                                   "create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim,
                                   pod, s->name, strerror(-err));
}

/* createPersistentVolumeClaims: the missing claims of the pod; an existing one is never
 * changed. *ret_error gets the first error's words. */
static int create_claims(StsSync *s, const char *pod, int64_t ordinal, char **ret_error)
{
        const cJSON *t;
        int ret = 0;

        cJSON_ArrayForEach (t, s->p.claim_templates) {
                _cleanup_json_ cJSON *claim = NULL, *old = NULL;
                const char *name;
                int r;

                r = sts_claim_build(&s->p, t, ordinal, &claim);
                if (r < 0)
                        return r;
                name = json_str(claim, "metadata.name");
                r = store_get(s->c->store, "PersistentVolumeClaim", s->ns, name, &old);
                if (r == -ENOENT) {
                        r = store_create(s->c->store, claim, NULL);
                        if (r != -EEXIST)
                                claim_event(s, name, pod, r);
                        if (r < 0 && ret >= 0)
                                ret = set_errorf(ret_error, r, "failed to create PVC %s: %s", name,
                                                 strerror(-r));
                } else if (r < 0) {
                        claim_event(s, name, pod, r);
                        if (ret >= 0)
                                ret = set_errorf(ret_error, r, "failed to retrieve PVC %s: %s", name,
                                                 strerror(-r));
                } else if (json_str(old, "metadata.deletionTimestamp") && ret >= 0)
                        ret = set_errorf(ret_error, -EBUSY, "pvc %s is being deleted", name);
        }
        return ret;
}

bool sts_control_claims_match_retention(StsSync *s, const cJSON *pod, int64_t ordinal)
{
        const char *pname = json_str(pod, "metadata.name"), *uid = json_str(pod, "metadata.uid");
        const cJSON *t;

        cJSON_ArrayForEach (t, s->p.claim_templates) {
                _cleanup_free_ char *name =
                    sts_claim_name(json_str(t, "metadata.name") ?: "", s->p.name, ordinal);
                _cleanup_json_ cJSON *claim = NULL;

                /* a missing claim is picked up next time; errors count as a match */
                if (!name || store_get(s->c->store, "PersistentVolumeClaim", s->ns, name, &claim) < 0)
                        continue;
                if (!sts_claim_owner_up_to_date(&s->p, claim, pname, uid, ordinal))
                        return false;
        }
        return true;
}

int sts_control_update_claims_for_retention(StsSync *s, const cJSON *pod, int64_t ordinal)
{
        const char *pname = json_str(pod, "metadata.name"), *uid = json_str(pod, "metadata.uid");
        const cJSON *t;
        int r;

        cJSON_ArrayForEach (t, s->p.claim_templates) {
                _cleanup_free_ char *name =
                    sts_claim_name(json_str(t, "metadata.name") ?: "", s->p.name, ordinal);
                _cleanup_json_ cJSON *claim = NULL;

                if (!name)
                        return -ENOMEM;
                r = store_get(s->c->store, "PersistentVolumeClaim", s->ns, name, &claim);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (sts_claim_has_unexpected_controller(&s->p, claim, pname, uid))
                        (void)store_eventf(
                            s->c->store, s->set, "Warning", "ConflictingController",
                            "PersistentVolumeClaim %s has a conflicting OwnerReference that acts "
                            "as a manging controller, the retention policy is ignored for this "
                            "claim",
                            name);
                if (sts_claim_owner_up_to_date(&s->p, claim, pname, uid, ordinal))
                        continue;
                r = sts_claim_update_owner_refs(&s->p, claim, pname, uid, ordinal);
                if (r >= 0)
                        r = store_update(s->c->store, claim, NULL);
                if (r < 0)
                        return log_debug_errno(
                            r, "Could not update claim %s for delete policy ownerRefs: %m", name);
        }
        return 0;
}

int sts_control_pod_claim_is_stale(StsSync *s, const cJSON *pod, int64_t ordinal)
{
        const cJSON *t;

        /* with Retain on scale-down claims are meant to be reused */
        if (!s->p.scaled_delete)
                return 0;
        cJSON_ArrayForEach (t, s->p.claim_templates) {
                _cleanup_free_ char *name =
                    sts_claim_name(json_str(t, "metadata.name") ?: "", s->p.name, ordinal);
                _cleanup_json_ cJSON *claim = NULL;
                int r;

                if (!name)
                        return -ENOMEM;
                r = store_get(s->c->store, "PersistentVolumeClaim", s->ns, name, &claim);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (sts_claim_has_stale_pod_ref(claim, json_str(pod, "metadata.name"),
                                                json_str(pod, "metadata.uid")))
                        return 1;
        }
        return 0;
}

int sts_control_create_pod(StsSync *s, const cJSON *pod, int64_t ordinal)
{
        _cleanup_json_ cJSON *created = NULL;
        _cleanup_free_ char *err = NULL;
        const char *name = json_str(pod, "metadata.name");
        int r;

        r = create_claims(s, name, ordinal, &err);
        if (r < 0) {
                pod_event(s, "create", name, r, err);
                return r;
        }
        r = store_create(s->c->store, pod, &created);
        /* someone else's pod of that name: no event, retried */
        if (r == -EEXIST)
                return r;
        if (r >= 0) {
                r = sts_control_update_claims_for_retention(s, created, ordinal);
                if (r < 0) {
                        pod_event(s, "update", name, r, NULL);
                        return r;
                }
        }
        pod_event(s, "create", name, r, NULL);
        return r;
}

int sts_control_create_missing_claims(StsSync *s, const cJSON *pod, int64_t ordinal)
{
        _cleanup_free_ char *err = NULL;
        int r;

        r = create_claims(s, json_str(pod, "metadata.name"), ordinal, &err);
        if (r < 0)
                return log_debug_errno(r, "%s", err ?: "Failed to create claims: %m");
        r = sts_control_update_claims_for_retention(s, pod, ordinal);
        if (r < 0)
                pod_event(s, "update", json_str(pod, "metadata.name"), r, NULL);
        return r;
}

int sts_control_update_pod(StsSync *s, const cJSON *pod, int64_t ordinal)
{
        _cleanup_json_ cJSON *copy = cJSON_Duplicate(pod, true);
        _cleanup_free_ char *err = NULL;
        const char *name = json_str(pod, "metadata.name");
        bool consistent = true;
        int r;

        if (!copy)
                return -ENOMEM;
        if (!sts_identity_matches(&s->p, copy)) {
                r = sts_update_identity(&s->p, copy);
                if (r < 0)
                        return r;
                consistent = false;
        }
        if (!sts_storage_matches(&s->p, copy)) {
                r = sts_update_storage(&s->p, copy);
                if (r < 0)
                        return r;
                consistent = false;
                r = create_claims(s, name, ordinal, &err);
                if (r < 0) {
                        pod_event(s, "update", name, r, err);
                        return r;
                }
        }
        if (!sts_control_claims_match_retention(s, copy, ordinal)) {
                r = sts_control_update_claims_for_retention(s, copy, ordinal);
                if (r < 0) {
                        pod_event(s, "update", name, r, NULL);
                        return r;
                }
                consistent = false;
        }
        if (consistent)
                return 0;
        /* only the claims may have changed: nothing to write on the pod itself */
        r = cJSON_Compare(copy, pod, true) ? 0 : store_update(s->c->store, copy, NULL);
        pod_event(s, "update", name, r, NULL);
        return r;
}

int sts_control_delete_pod(StsSync *s, const cJSON *pod)
{
        const char *name = json_str(pod, "metadata.name");
        int r;

        r = store_delete_object(s->c->store, "Pod", s->ns, name, -1, STORE_PROPAGATE_BACKGROUND, NULL);
        if (r == -ENOENT)
                return 0;
        pod_event(s, "delete", name, r, NULL);
        return r;
}

static const cJSON *controller_of(const cJSON *obj)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return ref;
        return NULL;
}

/* ClaimPods: orphans the selector matches whose name makes them members get the set as
 * their controller; pods being deleted are not adopted. */
static int adopt_pods(StsSync *s)
{
        _cleanup_json_ cJSON *pods = NULL;
        cJSON *pod;
        int r;

        r = store_list(s->c->store, "Pod", s->ns, s->sel, &pods);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (pod, pods) {
                cJSON *meta = json_path(pod, "metadata"), *refs, *ref;

                if (controller_of(pod) || sts_pod_terminating(pod) ||
                    sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name) < 0)
                        continue;
                refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences");
                if (!cJSON_IsArray(refs)) {
                        cJSON_DeleteItemFromObjectCaseSensitive(meta, "ownerReferences");
                        refs = cJSON_AddArrayToObject(meta, "ownerReferences");
                }
                ref = sts_controller_ref("apps/v1", "StatefulSet", s->p.name, s->p.uid);
                if (!refs || !ref || !cJSON_AddItemToArray(refs, ref))
                        return cJSON_Delete(ref), -ENOMEM;
                r = store_update(s->c->store, pod, NULL);
                /* changed meanwhile: the change brings us back */
                if (r < 0 && r != -ESTALE && r != -ENOENT)
                        return r;
        }
        return 0;
}

int sts_control_list_pods(StsSync *s, bool adopt)
{
        _cleanup_json_ cJSON *owned = NULL;
        int r;

        if (adopt) {
                r = adopt_pods(s);
                if (r < 0)
                        return r;
        }
        /* through the store's owner index: the cost follows this set's pods */
        r = store_list_owned(s->c->store, "Pod", s->ns, s->p.uid, &owned);
        if (r < 0)
                return r;
        s->pods = cJSON_CreateArray();
        if (!s->pods)
                return -ENOMEM;
        while (cJSON_GetArraySize(owned) > 0) {
                cJSON *pod = cJSON_DetachItemFromArray(owned, 0);

                if (sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name) < 0) {
                        cJSON_Delete(pod);
                        continue;
                }
                cJSON_AddItemToArray(s->pods, pod);
        }
        return 0;
}

/* Deletes claim when the pod its controller reference names is gone (or another pod of
 * that name has taken its place). Returns 1 when deleted. */
static int collect_claim(Store *store, const cJSON *claim)
{
        const cJSON *ref = controller_of(claim);
        const char *ns = json_str(claim, "metadata.namespace");
        _cleanup_json_ cJSON *pod = NULL;
        int r;

        if (!ref || !streq_ptr(json_str(ref, "kind"), "Pod") ||
            !streq_ptr(json_str(ref, "apiVersion"), "v1") || json_str(claim, "metadata.deletionTimestamp"))
                return 0;
        r = store_get(store, "Pod", ns, json_str(ref, "name") ?: "", &pod);
        if (r >= 0 && streq_ptr(json_str(pod, "metadata.uid"), json_str(ref, "uid")))
                return 0;
        if (r < 0 && r != -ENOENT)
                return r;
        r = store_delete_object(store, "PersistentVolumeClaim", ns, json_str(claim, "metadata.name"), -1,
                                STORE_PROPAGATE_BACKGROUND, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        log_debug("Deleted claim %s/%s: its pod %s is gone.", ns, json_str(claim, "metadata.name"),
                  json_str(ref, "name"));
        return 1;
}

int sts_claims_collect(StatefulSetController *c, const char *ns, const char *pod_uid)
{
        _cleanup_json_ cJSON *claims = NULL;
        const cJSON *claim;
        int r;

        r = store_list_owned(c->store, "PersistentVolumeClaim", ns, pod_uid, &claims);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (claim, claims) {
                r = collect_claim(c->store, claim);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sts_control_collect_claims(StsSync *s)
{
        _cleanup_json_ cJSON *claims = NULL;
        const cJSON *claim;
        int r;

        if (cJSON_GetArraySize(s->p.claim_templates) == 0)
                return 0;
        r = store_list(s->c->store, "PersistentVolumeClaim", s->ns, NULL, &claims);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (claim, claims) {
                const cJSON *ref = controller_of(claim);

                if (!ref || sts_pod_ordinal(json_str(ref, "name"), s->p.name) < 0)
                        continue;
                r = collect_claim(s->c->store, claim);
                if (r < 0)
                        return r;
        }
        return 0;
}
