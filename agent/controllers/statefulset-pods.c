/* The members of a StatefulSet (stateful_set_utils.go): the spec read with its defaults,
 * ordinals from pod names, pods and claims built from the templates with their stable
 * identity ("<set>-<ordinal>", hostname, subdomain, labels) and storage (one claim per
 * volumeClaimTemplate, mounted as the template's volume), and the pod predicates the
 * update loop uses (running and ready, available after minReadySeconds, terminating). */
#include <string.h>

#include "json-util.h"
#include "manifest.h"
#include "pod-object.h"
#include "statefulset-internal.h"

static const cJSON *object_or_null(const cJSON *j)
{
        return cJSON_IsObject(j) ? j : NULL;
}

/* Label keys hold dots: not a json_str() path. */
static const char *label_of(const cJSON *obj, const char *key)
{
        const cJSON *v =
            cJSON_GetObjectItemCaseSensitive(object_or_null(json_path(obj, "metadata.labels")), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

void sts_params_from_set(const cJSON *set, StsParams *ret)
{
        const cJSON *spec = json_path(set, "spec"), *ru = json_path(spec, "updateStrategy.rollingUpdate");
        const cJSON *mu = cJSON_GetObjectItemCaseSensitive(object_or_null(ru), "maxUnavailable");

        *ret = (StsParams){0};
        ret->name = json_str(set, "metadata.name") ?: "";
        ret->ns = json_str(set, "metadata.namespace") ?: "default";
        ret->uid = json_str(set, "metadata.uid") ?: "";
        ret->service_name = json_str(spec, "serviceName");
        ret->replicas = MAX(json_int(spec, "replicas", 1), 0);
        ret->start =
            cJSON_IsObject(json_path(spec, "ordinals")) ? MAX(json_int(spec, "ordinals.start", 0), 0) : 0;
        ret->min_ready_sec = MAX(json_int(spec, "minReadySeconds", 0), 0);
        ret->revision_history_limit = MAX(json_int(spec, "revisionHistoryLimit", 10), 0);
        ret->parallel = streq_ptr(json_str(spec, "podManagementPolicy"), "Parallel");
        ret->on_delete = streq_ptr(json_str(spec, "updateStrategy.type"), "OnDelete");
        ret->has_rolling_update = !ret->on_delete && cJSON_IsObject(ru);
        ret->partition = ret->has_rolling_update ? MAX(json_int(ru, "partition", 0), 0) : 0;
        ret->max_unavailable = mu && !cJSON_IsNull(mu) ? mu : NULL;
        /* a nil policy is Retain/Retain */
        ret->scaled_delete =
            streq_ptr(json_str(spec, "persistentVolumeClaimRetentionPolicy.whenScaled"), "Delete");
        ret->deleted_delete =
            streq_ptr(json_str(spec, "persistentVolumeClaimRetentionPolicy.whenDeleted"), "Delete");
        ret->claim_templates = cJSON_IsArray(json_path(spec, "volumeClaimTemplates"))
                                   ? json_path(spec, "volumeClaimTemplates")
                                   : NULL;
        ret->match_labels = object_or_null(json_path(spec, "selector.matchLabels"));
}

int64_t sts_max_unavailable(const StsParams *p)
{
        const cJSON *mu = p->max_unavailable;
        int64_t n = 1;

        if (!p->has_rolling_update || !mu)
                return 1;
        if (cJSON_IsNumber(mu))
                n = (int64_t)mu->valuedouble;
        else if (cJSON_IsString(mu)) {
                char *end;
                long long pct;

                errno = 0;
                pct = strtoll(mu->valuestring, &end, 10);
                /* GetScaledValueFromIntOrPercent(..., roundUp=false) */
                if (errno == 0 && end != mu->valuestring && streq(end, "%") && pct >= 0)
                        n = (int64_t)(pct * p->replicas / 100);
        }
        return MAX(n, 1);
}

int64_t sts_pod_ordinal(const char *pod_name, const char *set_name)
{
        const char *dash, *d;
        long long v;

        if (!pod_name || !set_name)
                return -1;
        dash = strrchr(pod_name, '-');
        if (!dash || !dash[1])
                return -1;
        for (d = dash + 1; *d; d++)
                if (*d < '0' || *d > '9')
                        return -1;
        if ((size_t)(dash - pod_name) != strlen(set_name) ||
            strncmp(pod_name, set_name, strlen(set_name)) != 0)
                return -1;
        errno = 0;
        v = strtoll(dash + 1, NULL, 10);
        /* strconv.ParseInt(..., 10, 32) */
        return errno == 0 && v <= INT32_MAX ? v : -1;
}

bool sts_in_range(const StsParams *p, int64_t ordinal)
{
        return ordinal >= p->start && ordinal <= p->start + p->replicas - 1;
}

char *sts_claim_name(const char *template_name, const char *set_name, int64_t ordinal)
{
        char *s = NULL;

        return asprintf_safe(&s, "%s-%s-%lld", template_name, set_name, (long long)ordinal) < 0 ? NULL : s;
}

cJSON *sts_controller_ref(const char *api_version, const char *kind, const char *name, const char *uid)
{
        _cleanup_json_ cJSON *ref = cJSON_CreateObject();

        if (!ref || json_set_string(ref, "apiVersion", api_version) < 0 ||
            json_set_string(ref, "kind", kind) < 0 || json_set_string(ref, "name", name ?: "") < 0 ||
            json_set_string(ref, "uid", uid ?: "") < 0 || json_set_bool(ref, "controller", true) < 0 ||
            json_set_bool(ref, "blockOwnerDeletion", true) < 0)
                return NULL;
        return TAKE_PTR(ref);
}

static int set_label(cJSON *meta, const char *key, const char *value)
{
        cJSON *labels = json_ensure_object(meta, "labels");

        return labels ? json_set_string(labels, key, value) : -ENOMEM;
}

int sts_update_identity(const StsParams *p, cJSON *pod)
{
        int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), p->name);
        cJSON *meta = json_ensure_object(pod, "metadata");
        char name[512], idx[32];

        if (!meta)
                return -ENOMEM;
        snprintf(name, sizeof name, "%s-%lld", p->name, (long long)ord);
        snprintf(idx, sizeof idx, "%lld", (long long)ord);
        if (json_set_string(meta, "name", name) < 0 || json_set_string(meta, "namespace", p->ns) < 0 ||
            set_label(meta, STS_LABEL_POD_NAME, name) < 0 || set_label(meta, STS_LABEL_POD_INDEX, idx) < 0)
                return -ENOMEM;
        return 0;
}

static cJSON *claim_volume(const char *name, const char *claim)
{
        _cleanup_json_ cJSON *v = cJSON_CreateObject();
        cJSON *src = v ? cJSON_AddObjectToObject(v, "persistentVolumeClaim") : NULL;

        if (!src || json_set_string(v, "name", name) < 0 || json_set_string(src, "claimName", claim) < 0)
                return NULL;
        return TAKE_PTR(v);
}

static bool is_claim_template(const StsParams *p, const char *volume)
{
        const cJSON *t;

        cJSON_ArrayForEach (t, p->claim_templates)
                if (streq_ptr(json_str(t, "metadata.name"), volume))
                        return true;
        return false;
}

int sts_update_storage(const StsParams *p, cJSON *pod)
{
        int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), p->name);
        cJSON *spec = json_ensure_object(pod, "spec"), *old, *v;
        _cleanup_json_ cJSON *vols = cJSON_CreateArray();
        const cJSON *t;

        if (!spec || !vols)
                return -ENOMEM;
        cJSON_ArrayForEach (t, p->claim_templates) {
                const char *tn = json_str(t, "metadata.name");
                _cleanup_free_ char *claim = NULL;

                if (!tn)
                        continue;
                claim = sts_claim_name(tn, p->name, ord);
                v = claim ? claim_volume(tn, claim) : NULL;
                if (!v || !cJSON_AddItemToArray(vols, v))
                        return cJSON_Delete(v), -ENOMEM;
        }
        /* the template's own volumes, except those a claim replaces */
        old = cJSON_GetObjectItemCaseSensitive(spec, "volumes");
        cJSON_ArrayForEach (v, (cJSON_IsArray(old) ? old : NULL)) {
                cJSON *dup;

                if (is_claim_template(p, json_str(v, "name")))
                        continue;
                dup = cJSON_Duplicate(v, true);
                if (!dup || !cJSON_AddItemToArray(vols, dup))
                        return cJSON_Delete(dup), -ENOMEM;
        }
        if (cJSON_GetArraySize(vols) == 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(spec, "volumes");
                return 0;
        }
        return json_set(spec, "volumes", TAKE_PTR(vols));
}

static int copy_map(cJSON *meta, const cJSON *tmeta, const char *key)
{
        const cJSON *m = json_path(tmeta, key);
        cJSON *dup;

        if (!m || cJSON_IsNull(m))
                return 0;
        dup = cJSON_Duplicate(m, true);
        return dup ? json_set(meta, key, dup) : -ENOMEM;
}

int sts_pod_build(const StsParams *p, const cJSON *tmpl, int64_t ordinal, const char *revision, cJSON **ret)
{
        _cleanup_json_ cJSON *pod = cJSON_CreateObject();
        const cJSON *tmeta = json_path(tmpl, "metadata"), *tspec = json_path(tmpl, "spec");
        cJSON *meta, *spec, *refs, *ref;
        char name[512];
        int r;

        if (!pod)
                return -ENOMEM;
        if (!cJSON_IsObject(tspec))
                return -EINVAL;
        snprintf(name, sizeof name, "%s-%lld", p->name, (long long)ordinal);
        meta = cJSON_AddObjectToObject(pod, "metadata");
        if (json_set_string(pod, "apiVersion", "v1") < 0 || json_set_string(pod, "kind", "Pod") < 0 ||
            !meta || json_set_string(meta, "name", name) < 0)
                return -ENOMEM;
        /* GetPodFromTemplate: the template's labels, annotations and finalizers */
        if (copy_map(meta, tmeta, "labels") < 0 || copy_map(meta, tmeta, "annotations") < 0 ||
            copy_map(meta, tmeta, "finalizers") < 0)
                return -ENOMEM;
        refs = cJSON_AddArrayToObject(meta, "ownerReferences");
        ref = sts_controller_ref("apps/v1", "StatefulSet", p->name, p->uid);
        if (!refs || !ref || !cJSON_AddItemToArray(refs, ref))
                return cJSON_Delete(ref), -ENOMEM;
        spec = cJSON_Duplicate(tspec, true);
        if (!spec || json_set(pod, "spec", spec) < 0)
                return -ENOMEM;
        /* the pod controller binds it to its node */
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
        r = sts_update_identity(p, pod);
        if (r < 0)
                return r;
        /* initIdentity: set on creation only */
        if (json_set_string(spec, "hostname", name) < 0 ||
            (!isempty(p->service_name) && json_set_string(spec, "subdomain", p->service_name) < 0))
                return -ENOMEM;
        r = sts_update_storage(p, pod);
        if (r < 0)
                return r;
        if (set_label(meta, STS_LABEL_REVISION, revision) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(pod);
        return 0;
}

int sts_claim_build(const StsParams *p, const cJSON *claim_tmpl, int64_t ordinal, cJSON **ret)
{
        _cleanup_json_ cJSON *claim = cJSON_CreateObject();
        _cleanup_free_ char *name =
            sts_claim_name(json_str(claim_tmpl, "metadata.name") ?: "", p->name, ordinal);
        const cJSON *tmeta = json_path(claim_tmpl, "metadata"), *l;
        cJSON *meta, *labels, *spec;

        if (!claim || !name)
                return -ENOMEM;
        meta = cJSON_AddObjectToObject(claim, "metadata");
        if (json_set_string(claim, "apiVersion", "v1") < 0 ||
            json_set_string(claim, "kind", "PersistentVolumeClaim") < 0 || !meta ||
            json_set_string(meta, "name", name) < 0 || json_set_string(meta, "namespace", p->ns) < 0 ||
            copy_map(meta, tmeta, "labels") < 0 || copy_map(meta, tmeta, "annotations") < 0)
                return -ENOMEM;
        /* the template's labels overlaid with the selector's matchLabels */
        labels = json_ensure_object(meta, "labels");
        if (!labels)
                return -ENOMEM;
        cJSON_ArrayForEach (l, p->match_labels)
                if (cJSON_IsString(l) && json_set_string(labels, l->string, l->valuestring) < 0)
                        return -ENOMEM;
        if (cJSON_GetArraySize(labels) == 0)
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "labels");
        spec = cJSON_Duplicate(
            cJSON_IsObject(json_path(claim_tmpl, "spec")) ? json_path(claim_tmpl, "spec") : NULL, true);
        if (!spec)
                spec = cJSON_CreateObject();
        if (!spec || json_set(claim, "spec", spec) < 0)
                return -ENOMEM;
        if (manifest_default(claim) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(claim);
        return 0;
}

bool sts_identity_matches(const StsParams *p, const cJSON *pod)
{
        const char *name = json_str(pod, "metadata.name");
        int64_t ord = sts_pod_ordinal(name, p->name);
        char want[512];

        if (ord < 0)
                return false;
        snprintf(want, sizeof want, "%s-%lld", p->name, (long long)ord);
        return streq(name, want) && streq(json_str(pod, "metadata.namespace") ?: "default", p->ns) &&
               streq_ptr(label_of(pod, STS_LABEL_POD_NAME), name);
}

static const cJSON *find_volume(const cJSON *pod, const char *name)
{
        const cJSON *v;

        cJSON_ArrayForEach (v, json_path(pod, "spec.volumes"))
                if (streq_ptr(json_str(v, "name"), name))
                        return v;
        return NULL;
}

bool sts_storage_matches(const StsParams *p, const cJSON *pod)
{
        int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), p->name);
        const cJSON *t;

        if (ord < 0)
                return false;
        cJSON_ArrayForEach (t, p->claim_templates) {
                const char *tn = json_str(t, "metadata.name");
                const cJSON *v = find_volume(pod, tn ?: "");
                _cleanup_free_ char *want = sts_claim_name(tn ?: "", p->name, ord);

                if (!v || !want || !streq_ptr(json_str(v, "persistentVolumeClaim.claimName"), want))
                        return false;
        }
        return true;
}

bool sts_pod_running_ready(const cJSON *pod)
{
        return streq_ptr(json_str(pod, "status.phase"), "Running") && pod_is_ready(pod);
}

bool sts_pod_terminating(const cJSON *pod)
{
        return json_str(pod, "metadata.deletionTimestamp") != NULL;
}

bool sts_pod_healthy(const cJSON *pod)
{
        return sts_pod_running_ready(pod) && !sts_pod_terminating(pod);
}

bool sts_pod_failed_or_succeeded(const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        return streq_ptr(phase, "Failed") || streq_ptr(phase, "Succeeded");
}

bool sts_pod_available(const cJSON *pod, int64_t min_ready_sec, usec_t now, usec_t *ret_when)
{
        const cJSON *c = pod_condition(pod, "Ready");
        usec_t since, when;

        if (!streq_ptr(json_str(c, "status"), "True"))
                return false;
        if (min_ready_sec <= 0)
                return true;
        if (parse_rfc3339(json_str(c, "lastTransitionTime"), &since) < 0 || since == 0)
                return false;
        when = since + (usec_t)min_ready_sec * USEC_PER_SEC;
        /* LastTransitionTime.Add(minReadySeconds).Before(now) */
        if (when < now)
                return true;
        if (ret_when)
                *ret_when = when + 1;
        return false;
}

const char *sts_pod_revision(const cJSON *pod)
{
        return label_of(pod, STS_LABEL_REVISION) ?: "";
}
