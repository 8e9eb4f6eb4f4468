/* ClaimPods for a DaemonSet (PodControllerRefManager): an orphan pod of the set's namespace
 * that the selector matches is adopted (the set's controller ownerReference is added), and
 * a pod the set controls that the selector no longer matches is released (the reference is
 * removed). So a set re-created after `delete --cascade=orphan` takes its running pod back
 * instead of starting a second one beside it. Pods being deleted are neither. */
#include <string.h>

#include "daemonset-internal.h"
#include "json-util.h"
#include "log.h"

static const cJSON *controller_ref(const cJSON *pod)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(pod, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return ref;
        return NULL;
}

static cJSON *new_controller_ref(const cJSON *ds)
{
        _cleanup_json_ cJSON *ref = cJSON_CreateObject();

        if (!ref || json_set_string(ref, "apiVersion", "apps/v1") < 0 ||
            json_set_string(ref, "kind", "DaemonSet") < 0 ||
            json_set_string(ref, "name", json_str(ds, "metadata.name") ?: "") < 0 ||
            json_set_string(ref, "uid", json_str(ds, "metadata.uid") ?: "") < 0 ||
            json_set_bool(ref, "controller", true) < 0 || json_set_bool(ref, "blockOwnerDeletion", true) < 0)
                return NULL;
        return TAKE_PTR(ref);
}

static int adopt(DaemonSetSync *s, const cJSON *orphan)
{
        _cleanup_json_ cJSON *pod = cJSON_Duplicate(orphan, true);
        cJSON *meta = json_path(pod, "metadata"), *refs;
        int r;

        if (!meta)
                return -ENOMEM;
        refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences");
        if (!cJSON_IsArray(refs)) {
                refs = cJSON_CreateArray();
                if (json_set(meta, "ownerReferences", refs) < 0)
                        return -ENOMEM;
        }
        if (!cJSON_AddItemToArray(refs, new_controller_ref(s->ds)))
                return -ENOMEM;
        r = store_update(s->c->store, pod, NULL);
        if (r == -ESTALE || r == -ENOENT)
                return 0; /* changed meanwhile: its change event brings the set back */
        if (r < 0)
                return r;
        log_debug("DaemonSet %s/%s: adopted pod %s.", s->ns, s->name, json_str(pod, "metadata.name"));
        return 0;
}

static int release(DaemonSetSync *s, const cJSON *owned)
{
        _cleanup_json_ cJSON *pod = cJSON_Duplicate(owned, true);
        cJSON *refs = json_path(pod, "metadata.ownerReferences"), *ref, *next;
        const char *uid = json_str(s->ds, "metadata.uid");
        int r;

        if (!pod)
                return -ENOMEM;
        for (ref = cJSON_IsArray(refs) ? refs->child : NULL; ref; ref = next) {
                next = ref->next;
                if (streq_ptr(json_str(ref, "uid"), uid))
                        cJSON_Delete(cJSON_DetachItemViaPointer(refs, ref));
        }
        r = store_update(s->c->store, pod, NULL);
        if (r == -ESTALE || r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        log_debug("DaemonSet %s/%s: released pod %s.", s->ns, s->name, json_str(pod, "metadata.name"));
        return 0;
}

static int claim_orphans(DaemonSetSync *s, const LabelSelector *sel)
{
        _cleanup_json_ cJSON *matching = NULL;
        const cJSON *pod;
        int r;

        r = store_list(s->c->store, "Pod", s->ns, sel, &matching);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (pod, matching) {
                if (controller_ref(pod) || json_str(pod, "metadata.deletionTimestamp"))
                        continue;
                r = adopt(s, pod);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int release_unmatched(DaemonSetSync *s, const LabelSelector *sel)
{
        _cleanup_json_ cJSON *owned = NULL;
        const cJSON *pod;
        int r;

        r = store_list_owned(s->c->store, "Pod", s->ns, json_str(s->ds, "metadata.uid") ?: "", &owned);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (pod, owned) {
                if (json_str(pod, "metadata.deletionTimestamp") ||
                    label_selector_matches(sel, json_path(pod, "metadata.labels")))
                        continue;
                r = release(s, pod);
                if (r < 0)
                        return r;
        }
        return 0;
}

int daemonset_claim_pods(DaemonSetSync *s)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;
        int r;

        r = label_selector_from_json(json_path(s->ds, "spec.selector"), &sel);
        if (r < 0)
                return r;
        /* an empty selector would take every pod of the namespace: never adopt with it */
        if (label_selector_empty(sel))
                return 0;
        r = release_unmatched(s, sel);
        if (r < 0)
                return r;
        return claim_orphans(s, sel);
}
