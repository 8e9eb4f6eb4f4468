/* The pods of a Job: building one from spec.template (labels, ownerReference, tracking
 * finalizer, and for Indexed Jobs the completion index annotation/label, env, hostname and
 * name prefix), listing the pods a Job controls, and reading per-pod bookkeeping. */
#include <string.h>

#include "job-internal.h"
#include "json-util.h"
#include "pod-object.h"

static int set_str_map(cJSON *meta, const char *key, const char *k, const char *v)
{
        cJSON *m = json_ensure_object(meta, key);

        return m ? json_set_string(m, k, v) : -ENOMEM;
}

static int add_owner_reference(cJSON *meta, const cJSON *job)
{
        cJSON *refs = cJSON_AddArrayToObject(meta, "ownerReferences"), *ref = cJSON_CreateObject();

        if (!refs || !ref || !cJSON_AddItemToArray(refs, ref)) {
                cJSON_Delete(ref);
                return -ENOMEM;
        }
        if (json_set_string(ref, "apiVersion", "batch/v1") < 0 || json_set_string(ref, "kind", "Job") < 0 ||
            json_set_string(ref, "name", json_str(job, "metadata.name") ?: "") < 0 ||
            json_set_string(ref, "uid", json_str(job, "metadata.uid") ?: "") < 0 ||
            json_set_bool(ref, "controller", true) < 0 || json_set_bool(ref, "blockOwnerDeletion", true) < 0)
                return -ENOMEM;
        return 0;
}

/* Metadata: template labels/annotations plus the Job's labels, owner and finalizer. */
static int build_metadata(cJSON *pod, const cJSON *job, const char *generate_name)
{
        const cJSON *tmeta = json_path(job, "spec.template.metadata");
        const char *name = json_str(job, "metadata.name") ?: "", *uid = json_str(job, "metadata.uid") ?: "";
        cJSON *meta = cJSON_AddObjectToObject(pod, "metadata"), *fin;

        if (!meta)
                return -ENOMEM;
        if (cJSON_IsObject(json_path(tmeta, "labels")) &&
            json_set(meta, "labels", cJSON_Duplicate(json_path(tmeta, "labels"), true)) < 0)
                return -ENOMEM;
        if (cJSON_IsObject(json_path(tmeta, "annotations")) &&
            json_set(meta, "annotations", cJSON_Duplicate(json_path(tmeta, "annotations"), true)) < 0)
                return -ENOMEM;
        if (json_set_string(meta, "generateName", generate_name) < 0 ||
            json_set_string(meta, "namespace", json_str(job, "metadata.namespace") ?: "default") < 0 ||
            set_str_map(meta, "labels", JOB_LABEL_CONTROLLER_UID, uid) < 0 ||
            set_str_map(meta, "labels", JOB_LABEL_LEGACY_CONTROLLER_UID, uid) < 0 ||
            set_str_map(meta, "labels", JOB_LABEL_JOB_NAME, name) < 0 ||
            set_str_map(meta, "labels", JOB_LABEL_LEGACY_JOB_NAME, name) < 0)
                return -ENOMEM;
        fin = cJSON_AddArrayToObject(meta, "finalizers");
        if (!fin || !cJSON_AddItemToArray(fin, cJSON_CreateString(JOB_TRACKING_FINALIZER)))
                return -ENOMEM;
        return add_owner_reference(meta, job);
}

static bool has_env(const cJSON *container, const char *name)
{
        const cJSON *e;

        cJSON_ArrayForEach (e, json_path(container, "env"))
                if (streq_ptr(json_str(e, "name"), name))
                        return true;
        return false;
}

/* JOB_COMPLETION_INDEX from the index label, into every init and app container. */
static int add_index_env(cJSON *spec)
{
        static const char *const lists[] = {"initContainers", "containers"};

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                cJSON *c, *list = cJSON_GetObjectItemCaseSensitive(spec, lists[i]);

                cJSON_ArrayForEach (c, (cJSON_IsArray(list) ? list : NULL)) {
                        cJSON *env, *e, *from;

                        if (!cJSON_IsObject(c) || has_env(c, JOB_COMPLETION_INDEX_ENV))
                                continue;
                        env = cJSON_GetObjectItemCaseSensitive(c, "env");
                        if (!cJSON_IsArray(env)) {
                                cJSON_DeleteItemFromObjectCaseSensitive(c, "env");
                                env = cJSON_AddArrayToObject(c, "env");
                        }
                        e = cJSON_CreateObject();
                        if (!env || !e || !cJSON_AddItemToArray(env, e))
                                return cJSON_Delete(e), -ENOMEM;
                        from = cJSON_AddObjectToObject(e, "valueFrom");
                        if (json_set_string(e, "name", JOB_COMPLETION_INDEX_ENV) < 0 || !from ||
                            !(from = cJSON_AddObjectToObject(from, "fieldRef")) ||
                            json_set_string(from, "fieldPath",
                                            "metadata.labels['" JOB_COMPLETION_INDEX_KEY "']") < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int indexed_setup(cJSON *pod, const cJSON *job, int64_t index, int64_t failures, int64_t ignored)
{
        cJSON *meta = json_path(pod, "metadata"), *spec = json_path(pod, "spec");
        char idx[32], n[32];
        _cleanup_free_ char *host = NULL;

        snprintf(idx, sizeof idx, "%lld", (long long)index);
        if (asprintf_safe(&host, "%s-%s", json_str(job, "metadata.name") ?: "", idx) < 0)
                return -ENOMEM;
        if (set_str_map(meta, "annotations", JOB_COMPLETION_INDEX_KEY, idx) < 0 ||
            set_str_map(meta, "labels", JOB_COMPLETION_INDEX_KEY, idx) < 0 ||
            json_set_string(spec, "hostname", host) < 0)
                return -ENOMEM;
        if (failures >= 0) {
                snprintf(n, sizeof n, "%lld", (long long)failures);
                if (set_str_map(meta, "annotations", JOB_INDEX_FAILURE_COUNT_KEY, n) < 0)
                        return -ENOMEM;
        }
        if (ignored > 0) {
                snprintf(n, sizeof n, "%lld", (long long)ignored);
                if (set_str_map(meta, "annotations", JOB_INDEX_IGNORED_FAILURE_COUNT_KEY, n) < 0)
                        return -ENOMEM;
        }
        return add_index_env(spec);
}

/* "<job>-" or "<job>-<index>-", the job part cut to fit MaxGeneratedNameLength. */
static char *generate_name(const char *job, int64_t index)
{
        char suffix[32];
        size_t max;

        if (index < 0)
                snprintf(suffix, sizeof suffix, "-");
        else
                snprintf(suffix, sizeof suffix, "-%lld-", (long long)index);
        max = JOB_MAX_GENERATED_NAME_LENGTH - strlen(suffix);
        char *s = malloc(max + strlen(suffix) + 1);
        if (!s)
                return NULL;
        snprintf(s, max + 1, "%s", job);
        strcat(s, suffix);
        if (index < 0 && strlen(s) > JOB_MAX_GENERATED_NAME_LENGTH)
                s[JOB_MAX_GENERATED_NAME_LENGTH] = 0;
        return s;
}

int job_pods_build(const cJSON *job, int64_t index, int64_t failure_count, int64_t ignored_count,
                   cJSON **ret)
{
        _cleanup_json_ cJSON *pod = cJSON_CreateObject();
        _cleanup_free_ char *gen = generate_name(json_str(job, "metadata.name") ?: "", index);
        const cJSON *tspec = json_path(job, "spec.template.spec");
        cJSON *spec;
        int r;

        if (!pod || !gen)
                return -ENOMEM;
        if (!cJSON_IsObject(tspec))
                return -EINVAL;
        if (json_set_string(pod, "apiVersion", "v1") < 0 || json_set_string(pod, "kind", "Pod") < 0)
                return -ENOMEM;
        r = build_metadata(pod, job, gen);
        if (r < 0)
                return r;
        spec = cJSON_Duplicate(tspec, true);
        if (!spec || json_set(pod, "spec", spec) < 0)
                return -ENOMEM;
        /* the pod controller binds it to its node */
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
        if (index >= 0) {
                r = indexed_setup(pod, job, index, failure_count, ignored_count);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(pod);
        return 0;
}

bool job_pod_has_finalizer(const cJSON *pod)
{
        const cJSON *f;

        cJSON_ArrayForEach (f, json_path(pod, "metadata.finalizers"))
                if (cJSON_IsString(f) && streq(f->valuestring, JOB_TRACKING_FINALIZER))
                        return true;
        return false;
}

int job_pod_remove_finalizer(cJSON *pod)
{
        cJSON *meta = json_path(pod, "metadata"), *list = json_path(pod, "metadata.finalizers"), *f, *next;

        for (f = cJSON_IsArray(list) ? list->child : NULL; f; f = next) {
                next = f->next;
                if (cJSON_IsString(f) && streq(f->valuestring, JOB_TRACKING_FINALIZER))
                        cJSON_Delete(cJSON_DetachItemViaPointer(list, f));
        }
        if (list && cJSON_GetArraySize(list) == 0)
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "finalizers");
        return 0;
}

/* From the annotation (label as fallback), as getCompletionIndex does. */
int64_t job_pod_index(const cJSON *pod)
{
        const char *sources[] = {"annotations", "labels"};

        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                const cJSON *m = json_path(json_path(pod, "metadata"), sources[i]);
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, JOB_COMPLETION_INDEX_KEY);
                char *end;
                long long x;

                if (!cJSON_IsString(v) || v->valuestring[0] < '0' || v->valuestring[0] > '9')
                        continue;
                errno = 0;
                x = strtoll(v->valuestring, &end, 10);
                if (errno == 0 && *end == 0 && x >= 0 && x <= INT32_MAX)
                        return x;
        }
        return -1;
}

bool job_pod_is_ready(const cJSON *pod)
{
        return pod_is_ready(pod);
}

int job_pods_list(Store *s, const char *ns, const char *uid, cJSON **ret)
{
        /* through the store's owner index: the cost follows this Job's pods, not all pods */
        return store_list_owned(s, "Pod", ns, uid, ret);
}
