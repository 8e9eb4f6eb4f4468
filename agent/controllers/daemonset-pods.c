/* The pods of a DaemonSet: the template's revision hash and generation, building a daemon
 * pod for a node (CreatePodTemplate, NewPod, ReplaceDaemonSetPodNodeNameNodeAffinity), and
 * the per-pod questions the sync asks (ready, available, updated, order). */
#include <string.h>

#include "daemonset-internal.h"
#include "json-util.h"
#include "node-eligibility.h"
#include "pod-object.h"

static int compare_keys(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

        return strcmp(x->string ?: "", y->string ?: "");
}

/* Sorts every object's members by key, recursively, so that equal templates print equal. */
static int sort_keys(cJSON *j)
{
        _cleanup_free_ cJSON **v = NULL;
        size_t n = 0, i = 0;
        cJSON *c;
        int r;

        cJSON_ArrayForEach (c, j) {
                r = sort_keys(c);
                if (r < 0)
                        return r;
                n++;
        }
        if (!cJSON_IsObject(j) || n < 2)
                return 0;
        v = calloc(n, sizeof(cJSON *));
        if (!v)
                return -ENOMEM;
        cJSON_ArrayForEach (c, j)
                v[i++] = c;
        qsort(v, n, sizeof(cJSON *), compare_keys);
        /* cJSON's list: first->prev is the last item, last->next is NULL */
        for (i = 0; i < n; i++) {
                v[i]->next = i + 1 < n ? v[i + 1] : NULL;
                v[i]->prev = i > 0 ? v[i - 1] : v[n - 1];
        }
        j->child = v[0];
        return 0;
}

int daemonset_template_hash(const cJSON *ds, char ret[static 16])
{
        /* SafeEncodeString's alphabet: no vowels, no 0/1/3, so no words and no look-alikes */
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        const cJSON *tmpl = json_path(ds, "spec.template");
        _cleanup_json_ cJSON *copy = tmpl ? cJSON_Duplicate(tmpl, true) : cJSON_CreateObject();
        _cleanup_free_ char *text = NULL;
        uint32_t h = 2166136261u; /* FNV-32a offset basis */
        char dec[16];
        int r;

        if (!copy)
                return -ENOMEM;
        r = sort_keys(copy);
        if (r < 0)
                return r;
        text = cJSON_PrintUnformatted(copy);
        if (!text)
                return -ENOMEM;
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
                h ^= *p;
                h *= 16777619u;
        }
        snprintf(dec, sizeof dec, "%u", h);
        for (size_t i = 0; dec[i]; i++)
                ret[i] = alphabet[(unsigned char)dec[i] % (sizeof(alphabet) - 1)];
        ret[strlen(dec)] = 0;
        return 0;
}

static bool parse_int(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        if (isempty(s))
                return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != 0)
                return false;
        *ret = v;
        return true;
}

int64_t daemonset_template_generation(const cJSON *ds)
{
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(json_path(ds, "metadata.annotations"),
                                                          DAEMONSET_ANNOTATION_TEMPLATE_GENERATION);
        int64_t g;

        if (a)
                return cJSON_IsString(a) && parse_int(a->valuestring, &g) ? g : -1;
        if (cJSON_IsNumber(json_path(ds, "spec.templateGeneration")))
                return json_int(ds, "spec.templateGeneration", -1);
        return json_int(ds, "metadata.generation", -1);
}

static int set_str_map(cJSON *meta, const char *key, const char *k, const char *v)
{
        cJSON *m = json_ensure_object(meta, key);

        return m ? json_set_string(m, k, v) : -ENOMEM;
}

static int add_owner_reference(cJSON *meta, const cJSON *ds)
{
        cJSON *refs = cJSON_AddArrayToObject(meta, "ownerReferences"), *ref = cJSON_CreateObject();

        if (!refs || !ref || !cJSON_AddItemToArray(refs, ref)) {
                cJSON_Delete(ref);
                return -ENOMEM;
        }
        if (json_set_string(ref, "apiVersion", "apps/v1") < 0 ||
            json_set_string(ref, "kind", "DaemonSet") < 0 ||
            json_set_string(ref, "name", json_str(ds, "metadata.name") ?: "") < 0 ||
            json_set_string(ref, "uid", json_str(ds, "metadata.uid") ?: "") < 0 ||
            json_set_bool(ref, "controller", true) < 0 || json_set_bool(ref, "blockOwnerDeletion", true) < 0)
                return -ENOMEM;
        return 0;
}

/* GetPodFromTemplate: the template's labels, annotations and finalizers, "<set>-" as
 * generateName (cut to MaxGeneratedNameLength), the set's namespace and controller ref. */
static int build_metadata(cJSON *pod, const cJSON *ds, const char *hash, int64_t generation)
{
        static const char *const copied[] = {"labels", "annotations", "finalizers"};
        const cJSON *tmeta = json_path(ds, "spec.template.metadata");
        cJSON *meta = cJSON_AddObjectToObject(pod, "metadata");
        char prefix[DAEMONSET_MAX_GENERATED_NAME_LENGTH + 1], gen[32];

        if (!meta)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(copied); i++) {
                const cJSON *v = json_path(tmeta, copied[i]);
                if ((cJSON_IsObject(v) || cJSON_IsArray(v)) &&
                    json_set(meta, copied[i], cJSON_Duplicate(v, true)) < 0)
                        return -ENOMEM;
        }
        snprintf(prefix, sizeof prefix, "%s-", json_str(ds, "metadata.name") ?: "");
        if (json_set_string(meta, "generateName", prefix) < 0 ||
            json_set_string(meta, "namespace", json_str(ds, "metadata.namespace") ?: "default") < 0 ||
            set_str_map(meta, "labels", DAEMONSET_LABEL_REVISION_HASH, hash) < 0)
                return -ENOMEM;
        if (generation >= 0) {
                snprintf(gen, sizeof gen, "%lld", (long long)generation);
                if (set_str_map(meta, "labels", DAEMONSET_LABEL_TEMPLATE_GENERATION, gen) < 0)
                        return -ENOMEM;
        }
        return add_owner_reference(meta, ds);
}

int daemonset_pod_build(const cJSON *ds, const char *node, const char *hash, int64_t generation, cJSON **ret)
{
        _cleanup_json_ cJSON *pod = cJSON_CreateObject();
        const cJSON *tspec = json_path(ds, "spec.template.spec");
        cJSON *spec;
        int r;

        if (!pod)
                return -ENOMEM;
        if (!cJSON_IsObject(tspec))
                return -EINVAL;
        if (json_set_string(pod, "apiVersion", "v1") < 0 || json_set_string(pod, "kind", "Pod") < 0)
                return -ENOMEM;
        r = build_metadata(pod, ds, hash, generation);
        if (r < 0)
                return r;
        spec = cJSON_Duplicate(tspec, true);
        if (json_set(pod, "spec", spec) < 0)
                return -ENOMEM;
        r = node_eligibility_add_daemon_tolerations(spec);
        if (r >= 0)
                r = node_eligibility_bind_to_node(spec, node);
        if (r < 0)
                return r;
        /* on one node there is no scheduler to bind it: the set binds it itself */
        if (json_set_string(spec, "nodeName", node) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(pod);
        return 0;
}

bool daemonset_pod_is_ready(const cJSON *pod)
{
        return pod_is_ready(pod);
}

bool daemonset_pod_is_available(const cJSON *pod, int64_t min_ready_sec, usec_t now, usec_t *ret_at)
{
        const char *lt = json_str(pod_condition(pod, "Ready"), "lastTransitionTime");
        usec_t t, at;

        if (!daemonset_pod_is_ready(pod))
                return false;
        if (min_ready_sec <= 0)
                return true;
        if (!lt || parse_rfc3339(lt, &t) < 0)
                return false; /* a zero lastTransitionTime never becomes available */
        at = t + (usec_t)min_ready_sec * USEC_PER_SEC;
        /* lastTransitionTime + minReadySeconds strictly before now */
        if (at < now)
                return true;
        if (ret_at)
                *ret_at = at + USEC_PER_MSEC;
        return false;
}

bool daemonset_pod_is_updated(const cJSON *pod, const char *hash, int64_t generation)
{
        const cJSON *labels = json_path(pod, "metadata.labels");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(labels, DAEMONSET_LABEL_REVISION_HASH);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(labels, DAEMONSET_LABEL_TEMPLATE_GENERATION);
        char gen[32];

        if (!isempty(hash) && cJSON_IsString(h) && streq(h->valuestring, hash))
                return true;
        if (generation < 0 || !cJSON_IsString(g))
                return false;
        snprintf(gen, sizeof gen, "%lld", (long long)generation);
        return streq(g->valuestring, gen);
}

static usec_t creation_time(const cJSON *pod)
{
        usec_t t;

        return parse_rfc3339(json_str(pod, "metadata.creationTimestamp"), &t) >= 0 ? t : 0;
}

int daemonset_pod_compare(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        bool bx = !isempty(json_str(x, "spec.nodeName")), by = !isempty(json_str(y, "spec.nodeName"));
        usec_t tx = creation_time(x), ty = creation_time(y);

        if (bx != by)
                return bx ? -1 : 1;
        if (tx != ty)
                return tx < ty ? -1 : 1;
        return strcmp(json_str(x, "metadata.name") ?: "", json_str(y, "metadata.name") ?: "");
}

int daemonset_scaled_value(const cJSON *v, int total, int *ret)
{
        int64_t p;
        size_t n;

        if (!v || cJSON_IsNull(v)) {
                *ret = 0;
                return 0;
        }
        if (cJSON_IsNumber(v)) {
                *ret = (int)v->valuedouble;
                return 0;
        }
        if (!cJSON_IsString(v) || (n = strlen(v->valuestring)) < 2 || v->valuestring[n - 1] != '%')
                return -EINVAL;
        _cleanup_free_ char *num = strndup(v->valuestring, n - 1);
        if (!num)
                return -ENOMEM;
        if (!parse_int(num, &p) || p < INT32_MIN || p > INT32_MAX)
                return -EINVAL;
        /* math.Ceil(value * total / 100) */
        int64_t prod = p * (int64_t)total;
        *ret = (int)(prod >= 0 ? (prod + 99) / 100 : prod / 100);
        return 0;
}

static int rolling_count(const cJSON *ds, const char *field, int number)
{
        const cJSON *ru = json_path(ds, "spec.updateStrategy.rollingUpdate");
        int v;

        if (!streq_ptr(json_str(ds, "spec.updateStrategy.type"), "RollingUpdate") || !cJSON_IsObject(ru))
                return 0;
        /* validated on admission: a malformed value counts as none */
        return daemonset_scaled_value(cJSON_GetObjectItemCaseSensitive(ru, field), number, &v) < 0 ? 0 : v;
}

int daemonset_surge_count(const cJSON *ds, int number)
{
        return rolling_count(ds, "maxSurge", number);
}

int daemonset_unavailable_count(const cJSON *ds, int number)
{
        return rolling_count(ds, "maxUnavailable", number);
}
