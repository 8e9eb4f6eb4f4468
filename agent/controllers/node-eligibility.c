/* Node eligibility of daemon pods, as the DaemonSet controller decides it: toleration
 * matching (core/v1 toleration.go), required node affinity (component-helpers
 * nodeaffinity.go with apimachinery's label requirements), the default daemon tolerations
 * (daemonset_util.go) and NodeShouldRunDaemonPod (daemon_controller.go). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "node-eligibility.h"

static const cJSON *object_or_null(const cJSON *j)
{
        return cJSON_IsObject(j) ? j : NULL;
}

static const cJSON *array_or_null(const cJSON *j)
{
        return cJSON_IsArray(j) ? j : NULL;
}

static const char *str_or_empty(const cJSON *obj, const char *field)
{
        const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;

        return cJSON_IsString(v) ? v->valuestring : "";
}

unsigned node_eligibility_taint_effect(const char *effect)
{
        if (!effect)
                return 0;
        if (streq(effect, "NoSchedule"))
                return NODE_TAINT_NO_SCHEDULE;
        if (streq(effect, "PreferNoSchedule"))
                return NODE_TAINT_PREFER_NO_SCHEDULE;
        if (streq(effect, "NoExecute"))
                return NODE_TAINT_NO_EXECUTE;
        return 0;
}

bool node_eligibility_tolerates_taint(const cJSON *toleration, const cJSON *taint)
{
        const char *effect = str_or_empty(toleration, "effect"), *key = str_or_empty(toleration, "key");
        const char *op = str_or_empty(toleration, "operator");

        if (!cJSON_IsObject(toleration) || !cJSON_IsObject(taint))
                return false;
        if (!isempty(effect) && !streq(effect, str_or_empty(taint, "effect")))
                return false;
        if (!isempty(key) && !streq(key, str_or_empty(taint, "key")))
                return false;
        if (isempty(op) || streq(op, "Equal"))
                return streq(str_or_empty(toleration, "value"), str_or_empty(taint, "value"));
        return streq(op, "Exists");
}

bool node_eligibility_tolerations_tolerate(const cJSON *tolerations, const cJSON *taint)
{
        const cJSON *t;

        cJSON_ArrayForEach (t, array_or_null(tolerations))
                if (node_eligibility_tolerates_taint(t, taint))
                        return true;
        return false;
}

const cJSON *node_eligibility_find_untolerated_taint(const cJSON *taints, const cJSON *tolerations,
                                                     unsigned effects)
{
        const cJSON *t;

        cJSON_ArrayForEach (t, array_or_null(taints)) {
                if (!(node_eligibility_taint_effect(str_or_empty(t, "effect")) & effects))
                        continue;
                if (!node_eligibility_tolerations_tolerate(tolerations, t))
                        return t;
        }
        return NULL;
}

/* strconv.ParseInt(s, 10, 64): an optional sign, decimal digits, no overflow. */
static bool parse_int64(const char *s, int64_t *ret)
{
        const char *p = s;
        char *end;
        long long v;

        if (*p == '+' || *p == '-')
                p++;
        if (*p < '0' || *p > '9')
                return false;
        for (const char *q = p; *q; q++)
                if (*q < '0' || *q > '9')
                        return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != 0)
                return false;
        *ret = v;
        return true;
}

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* validation.IsValidLabelValue: empty, or at most 63 of [-A-Za-z0-9_.] starting and ending
 * with an alphanumeric. Requirement values are checked with it, so "-1" is no Gt value. */
static bool valid_label_value(const char *v)
{
        size_t n = strlen(v);

        if (n == 0)
                return true;
        if (n > 63 || !is_alnum(v[0]) || !is_alnum(v[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.')
                        return false;
        return true;
}

/* labels.NewRequirement's checks of the values for the operator; NULL values = []. */
static bool requirement_valid(const char *op, const cJSON *values)
{
        int n = cJSON_IsArray(values) ? cJSON_GetArraySize(values) : 0;
        const cJSON *v;
        int64_t x;

        if (values && !cJSON_IsArray(values) && !cJSON_IsNull(values))
                return false;
        cJSON_ArrayForEach (v, array_or_null(values))
                if (!cJSON_IsString(v) || !valid_label_value(v->valuestring))
                        return false;
        if (streq(op, "In") || streq(op, "NotIn"))
                return n > 0;
        if (streq(op, "Exists") || streq(op, "DoesNotExist"))
                return n == 0;
        if (streq(op, "Gt") || streq(op, "Lt"))
                return n == 1 && parse_int64(cJSON_GetArrayItem(values, 0)->valuestring, &x);
        return false;
}

static bool values_contain(const cJSON *values, const char *s)
{
        const cJSON *v;

        cJSON_ArrayForEach (v, values)
                if (cJSON_IsString(v) && streq(v->valuestring, s))
                        return true;
        return false;
}

bool node_eligibility_match_expression(const cJSON *req, const cJSON *labels, bool *ret_invalid)
{
        const char *op = str_or_empty(req, "operator"), *key = str_or_empty(req, "key");
        const cJSON *values = cJSON_IsObject(req) ? cJSON_GetObjectItemCaseSensitive(req, "values") : NULL;
        const cJSON *lv = object_or_null(labels) ? cJSON_GetObjectItemCaseSensitive(labels, key) : NULL;
        const char *have = cJSON_IsString(lv) ? lv->valuestring : NULL;
        int64_t a, b;

        if (isempty(key) || !requirement_valid(op, values)) {
                *ret_invalid = true;
                return false;
        }
        if (streq(op, "In"))
                return have && values_contain(values, have);
        if (streq(op, "NotIn"))
                return !have || !values_contain(values, have);
        if (streq(op, "Exists"))
                return have;
        if (streq(op, "DoesNotExist"))
                return !have;
        /* Gt / Lt: a node value that is no integer matches neither */
        if (!have || !parse_int64(have, &a))
                return false;
        (void)parse_int64(cJSON_GetArrayItem(values, 0)->valuestring, &b);
        return streq(op, "Gt") ? a > b : a < b;
}

bool node_eligibility_match_field(const cJSON *req, const char *node_name, bool *ret_invalid)
{
        const char *op = str_or_empty(req, "operator"), *key = str_or_empty(req, "key");
        const cJSON *values = cJSON_IsObject(req) ? cJSON_GetObjectItemCaseSensitive(req, "values") : NULL;
        const cJSON *v = cJSON_IsArray(values) ? cJSON_GetArrayItem(values, 0) : NULL;
        /* fields.Set of a node: metadata.name only; any other field reads as "" */
        const char *have = streq(key, "metadata.name") ? (node_name ?: "") : "";

        if (!(streq(op, "In") || streq(op, "NotIn")) || cJSON_GetArraySize(values) != 1 ||
            !cJSON_IsString(v)) {
                *ret_invalid = true;
                return false;
        }
        return streq(op, "In") == streq(have, v->valuestring);
}

/* One NodeSelectorTerm: 1 match, 0 no match, -EINVAL malformed or empty (skipped). */
static int match_term(const cJSON *term, const cJSON *labels, const char *node_name)
{
        const cJSON *exprs =
            cJSON_IsObject(term) ? cJSON_GetObjectItemCaseSensitive(term, "matchExpressions") : NULL;
        const cJSON *fields =
            cJSON_IsObject(term) ? cJSON_GetObjectItemCaseSensitive(term, "matchFields") : NULL;
        bool invalid = false, match = true;
        const cJSON *r;

        if (cJSON_GetArraySize(array_or_null(exprs)) == 0 && cJSON_GetArraySize(array_or_null(fields)) == 0)
                return -EINVAL;
        /* every requirement is parsed (and so validated) before anything is matched */
        cJSON_ArrayForEach (r, array_or_null(exprs))
                match = node_eligibility_match_expression(r, labels, &invalid) && match;
        cJSON_ArrayForEach (r, array_or_null(fields))
                match = node_eligibility_match_field(r, node_name, &invalid) && match;
        if (invalid)
                return -EINVAL;
        return match;
}

bool node_eligibility_match_node_selector(const cJSON *node_selector, const cJSON *node)
{
        const cJSON *terms = cJSON_IsObject(node_selector)
                                 ? cJSON_GetObjectItemCaseSensitive(node_selector, "nodeSelectorTerms")
                                 : NULL;
        const cJSON *labels = json_path(node, "metadata.labels"), *t;
        const char *name = json_str(node, "metadata.name");

        if (!cJSON_IsObject(node))
                return false;
        cJSON_ArrayForEach (t, array_or_null(terms))
                if (match_term(t, labels, name) > 0)
                        return true;
        return false;
}

bool node_eligibility_match_required_affinity(const cJSON *pod_spec, const cJSON *node)
{
        const cJSON *sel = json_path(pod_spec, "nodeSelector"), *labels = json_path(node, "metadata.labels");
        const cJSON *req =
            json_path(pod_spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
        const cJSON *kv;

        cJSON_ArrayForEach (kv, object_or_null(sel)) {
                const cJSON *have =
                    object_or_null(labels) ? cJSON_GetObjectItemCaseSensitive(labels, kv->string) : NULL;
                if (!cJSON_IsString(have) || !cJSON_IsString(kv) ||
                    !streq(have->valuestring, kv->valuestring))
                        return false;
        }
        if (req && !cJSON_IsNull(req))
                return node_eligibility_match_node_selector(req, node);
        return true;
}

typedef struct DaemonToleration {
        const char *key;
        const char *effect;
        bool host_network_only;
} DaemonToleration;

static const DaemonToleration daemon_tolerations[] = {
    {"node.kubernetes.io/not-ready", "NoExecute", false},
    {"node.kubernetes.io/unreachable", "NoExecute", false},
    {"node.kubernetes.io/disk-pressure", "NoSchedule", false},
    {"node.kubernetes.io/memory-pressure", "NoSchedule", false},
    {"node.kubernetes.io/pid-pressure", "NoSchedule", false},
    {"node.kubernetes.io/unschedulable", "NoSchedule", false},
    {"node.kubernetes.io/network-unavailable", "NoSchedule", true},
};

bool node_eligibility_daemon_tolerations_tolerate(const cJSON *taint, bool host_network)
{
        for (size_t i = 0; i < ELEMENTSOF(daemon_tolerations); i++) {
                const DaemonToleration *d = &daemon_tolerations[i];

                if (d->host_network_only && !host_network)
                        continue;
                if (streq(d->key, str_or_empty(taint, "key")) &&
                    streq(d->effect, str_or_empty(taint, "effect")))
                        return true;
        }
        return false;
}

/* Toleration.MatchToleration: same key, operator, value and effect. */
static bool same_toleration(const cJSON *t, const DaemonToleration *d)
{
        return streq(str_or_empty(t, "key"), d->key) && streq(str_or_empty(t, "operator"), "Exists") &&
               streq(str_or_empty(t, "value"), "") && streq(str_or_empty(t, "effect"), d->effect);
}

static int add_or_update_toleration(cJSON *list, const DaemonToleration *d)
{
        _cleanup_json_ cJSON *t = cJSON_CreateObject();
        cJSON *old;
        int i = 0;

        if (!t || json_set_string(t, "key", d->key) < 0 || json_set_string(t, "operator", "Exists") < 0 ||
            json_set_string(t, "effect", d->effect) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach (old, list) {
                if (same_toleration(old, d))
                        return cJSON_ReplaceItemInArray(list, i, TAKE_PTR(t)) ? 0 : -ENOMEM;
                i++;
        }
        return cJSON_AddItemToArray(list, TAKE_PTR(t)) ? 0 : -ENOMEM;
}

int node_eligibility_add_daemon_tolerations(cJSON *pod_spec)
{
        bool host_network = json_bool(pod_spec, "hostNetwork", false);
        cJSON *list = cJSON_GetObjectItemCaseSensitive(pod_spec, "tolerations");
        int r;

        if (!cJSON_IsArray(list)) {
                list = cJSON_CreateArray();
                if (json_set(pod_spec, "tolerations", list) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(daemon_tolerations); i++) {
                if (daemon_tolerations[i].host_network_only && !host_network)
                        continue;
                r = add_or_update_toleration(list, &daemon_tolerations[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [node]}]}]} */
static cJSON *node_name_selector(const char *node_name)
{
        _cleanup_json_ cJSON *sel = cJSON_CreateObject();
        cJSON *terms, *term, *fields, *req, *values;

        if (!sel || !(terms = cJSON_AddArrayToObject(sel, "nodeSelectorTerms")))
                return NULL;
        if (!(term = cJSON_CreateObject()) || !cJSON_AddItemToArray(terms, term))
                return cJSON_Delete(term), NULL;
        if (!(fields = cJSON_AddArrayToObject(term, "matchFields")))
                return NULL;
        if (!(req = cJSON_CreateObject()) || !cJSON_AddItemToArray(fields, req))
                return cJSON_Delete(req), NULL;
        if (json_set_string(req, "key", "metadata.name") < 0 || json_set_string(req, "operator", "In") < 0 ||
            !(values = cJSON_AddArrayToObject(req, "values")) ||
            !cJSON_AddItemToArray(values, cJSON_CreateString(node_name)))
                return NULL;
        return TAKE_PTR(sel);
}

int node_eligibility_bind_to_node(cJSON *pod_spec, const char *node_name)
{
        _cleanup_json_ cJSON *sel = node_name_selector(node_name);
        cJSON *affinity, *node_affinity, *req;

        if (!sel)
                return -ENOMEM;
        affinity = json_ensure_object(pod_spec, "affinity");
        node_affinity = affinity ? json_ensure_object(affinity, "nodeAffinity") : NULL;
        if (!node_affinity)
                return -ENOMEM;
        req = cJSON_GetObjectItemCaseSensitive(node_affinity,
                                               "requiredDuringSchedulingIgnoredDuringExecution");
        if (!cJSON_IsObject(req))
                return json_set(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution",
                                TAKE_PTR(sel));
        /* only the terms are replaced: anything else of the selector stays */
        return json_set(req, "nodeSelectorTerms",
                        cJSON_DetachItemFromObjectCaseSensitive(sel, "nodeSelectorTerms"));
}

const char *node_eligibility_target_node(const cJSON *pod)
{
        const char *name = json_str(pod, "spec.nodeName");
        const cJSON *terms, *req;

        if (!isempty(name))
                return name;
        terms = json_path(pod, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                               "nodeSelectorTerms");
        if (!cJSON_IsArray(terms))
                return NULL;
        /* GetTargetNodeName: the first term's matchFields only */
        cJSON_ArrayForEach (req, json_path(cJSON_GetArrayItem(terms, 0), "matchFields")) {
                const cJSON *values = cJSON_GetObjectItemCaseSensitive(req, "values");
                if (streq(str_or_empty(req, "key"), "metadata.name") &&
                    streq(str_or_empty(req, "operator"), "In") && cJSON_GetArraySize(values) == 1 &&
                    cJSON_IsString(cJSON_GetArrayItem(values, 0)))
                        return cJSON_GetArrayItem(values, 0)->valuestring;
        }
        return NULL;
}

/* FindMatchingUntoleratedTaint over the template's tolerations plus the daemon defaults:
 * AddOrUpdate only replaces equal tolerations, so the union tolerates the same taints. */
static bool untolerated_taint(const cJSON *taints, const cJSON *tspec, unsigned effects)
{
        const cJSON *tolerations = json_path(tspec, "tolerations"), *t;
        bool host_network = json_bool(tspec, "hostNetwork", false);

        cJSON_ArrayForEach (t, array_or_null(taints)) {
                if (!(node_eligibility_taint_effect(str_or_empty(t, "effect")) & effects))
                        continue;
                if (!node_eligibility_tolerations_tolerate(tolerations, t) &&
                    !node_eligibility_daemon_tolerations_tolerate(t, host_network))
                        return true;
        }
        return false;
}

void node_eligibility_should_run_daemon_pod(const cJSON *node, const cJSON *ds, bool *ret_should_run,
                                            bool *ret_should_continue)
{
        const cJSON *tspec = json_path(ds, "spec.template.spec"), *taints = json_path(node, "spec.taints");
        const char *want = json_str(tspec, "nodeName"), *name = json_str(node, "metadata.name") ?: "";

        *ret_should_run = *ret_should_continue = false;
        if (!isempty(want) && !streq(want, name))
                return;
        /* the pod's nodeName is the node's, so only affinity and taints can still fail */
        if (!node_eligibility_match_required_affinity(tspec, node))
                return;
        if (untolerated_taint(taints, tspec, NODE_TAINT_NO_SCHEDULE | NODE_TAINT_NO_EXECUTE)) {
                *ret_should_continue = !untolerated_taint(taints, tspec, NODE_TAINT_NO_EXECUTE);
                return;
        }
        *ret_should_run = *ret_should_continue = true;
}
