#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "node-eligibility.h"

static cJSON *parse(const char *s)
{
        cJSON *j = cJSON_Parse(s);

        cr_assert_not_null(j, "bad test json: %s", s);
        return j;
}

typedef struct TolerationCase {
        const char *toleration;
        const char *taint;
        bool tolerated;
} TolerationCase;

Test(node_eligibility, toleration_matches_taints_as_kubernetes_does)
{
        static const TolerationCase cases[] = {
            /* Equal compares key, value and effect */
            {"{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\",\"effect\":\"NoSchedule\"}",
             "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}", true},
            {"{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\",\"effect\":\"NoSchedule\"}",
             "{\"key\":\"k\",\"value\":\"w\",\"effect\":\"NoSchedule\"}", false},
            {"{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\",\"effect\":\"NoSchedule\"}",
             "{\"key\":\"other\",\"value\":\"v\",\"effect\":\"NoSchedule\"}", false},
            {"{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\",\"effect\":\"NoSchedule\"}",
             "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}", false},
            /* an empty operator is Equal; a missing value equals an empty one */
            {"{\"key\":\"k\",\"value\":\"v\"}", "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}",
             true},
            {"{\"key\":\"k\"}", "{\"key\":\"k\",\"effect\":\"NoSchedule\"}", true},
            {"{\"key\":\"k\"}", "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}", false},
            /* Exists ignores the value */
            {"{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}",
             "{\"key\":\"k\",\"value\":\"anything\",\"effect\":\"NoExecute\"}", true},
            {"{\"key\":\"k\",\"operator\":\"Exists\"}", "{\"key\":\"k\",\"effect\":\"PreferNoSchedule\"}",
             true},
            {"{\"key\":\"k\",\"operator\":\"Exists\"}", "{\"key\":\"j\",\"effect\":\"NoSchedule\"}", false},
            /* an empty key with Exists tolerates everything, or every taint of one effect */
            {"{\"operator\":\"Exists\"}", "{\"key\":\"any\",\"value\":\"x\",\"effect\":\"NoExecute\"}",
             true},
            {"{\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}",
             "{\"key\":\"any\",\"effect\":\"NoSchedule\"}", true},
            {"{\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}",
             "{\"key\":\"any\",\"effect\":\"NoExecute\"}", false},
            /* Lt/Gt need a feature gate that is off; unknown operators tolerate nothing */
            {"{\"key\":\"k\",\"operator\":\"Gt\",\"value\":\"1\"}",
             "{\"key\":\"k\",\"value\":\"5\",\"effect\":\"NoSchedule\"}", false},
            {"{\"key\":\"k\",\"operator\":\"Lt\",\"value\":\"9\"}",
             "{\"key\":\"k\",\"value\":\"5\",\"effect\":\"NoSchedule\"}", false},
            {"{\"key\":\"k\",\"operator\":\"Bogus\"}", "{\"key\":\"k\",\"effect\":\"NoSchedule\"}", false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *tol = parse(cases[i].toleration), *taint = parse(cases[i].taint);

                cr_expect_eq(node_eligibility_tolerates_taint(tol, taint), cases[i].tolerated,
                             "case %zu: %s vs %s", i, cases[i].toleration, cases[i].taint);
        }
}

Test(node_eligibility, untolerated_taint_is_filtered_by_effect)
{
        _cleanup_json_ cJSON *taints = parse("[{\"key\":\"a\",\"effect\":\"PreferNoSchedule\"},"
                                             "{\"key\":\"b\",\"effect\":\"NoSchedule\"},"
                                             "{\"key\":\"c\",\"effect\":\"NoExecute\"}]");
        _cleanup_json_ cJSON *tol_b = parse("[{\"key\":\"b\",\"operator\":\"Exists\"}]");
        const cJSON *t;

        t = node_eligibility_find_untolerated_taint(taints, NULL,
                                                    NODE_TAINT_NO_SCHEDULE | NODE_TAINT_NO_EXECUTE);
        cr_assert_str_eq(json_str(t, "key"), "b");
        t = node_eligibility_find_untolerated_taint(taints, tol_b,
                                                    NODE_TAINT_NO_SCHEDULE | NODE_TAINT_NO_EXECUTE);
        cr_assert_str_eq(json_str(t, "key"), "c");
        cr_assert_null(node_eligibility_find_untolerated_taint(taints, tol_b, NODE_TAINT_NO_SCHEDULE));
        cr_assert_null(node_eligibility_find_untolerated_taint(NULL, NULL, NODE_TAINT_NO_EXECUTE));
}

typedef struct ExprCase {
        const char *req;
        bool match;
        bool invalid;
} ExprCase;

Test(node_eligibility, match_expressions_operators)
{
        /* node labels: zone=a, size=8, neg=-3, text=abc */
        static const ExprCase cases[] = {
            {"{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}", true, false},
            {"{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"b\"]}", false, false},
            {"{\"key\":\"missing\",\"operator\":\"In\",\"values\":[\"a\"]}", false, false},
            {"{\"key\":\"zone\",\"operator\":\"In\",\"values\":[]}", false, true},
            {"{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"b\"]}", true, false},
            {"{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"a\"]}", false, false},
            {"{\"key\":\"missing\",\"operator\":\"NotIn\",\"values\":[\"a\"]}", true, false},
            {"{\"key\":\"zone\",\"operator\":\"NotIn\"}", false, true},
            {"{\"key\":\"zone\",\"operator\":\"Exists\"}", true, false},
            {"{\"key\":\"missing\",\"operator\":\"Exists\"}", false, false},
            {"{\"key\":\"zone\",\"operator\":\"Exists\",\"values\":[\"a\"]}", false, true},
            {"{\"key\":\"missing\",\"operator\":\"DoesNotExist\"}", true, false},
            {"{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}", false, false},
            {"{\"key\":\"zone\",\"operator\":\"DoesNotExist\",\"values\":[\"a\"]}", false, true},
            {"{\"key\":\"size\",\"operator\":\"Gt\",\"values\":[\"7\"]}", true, false},
            {"{\"key\":\"size\",\"operator\":\"Gt\",\"values\":[\"8\"]}", false, false},
            {"{\"key\":\"size\",\"operator\":\"Lt\",\"values\":[\"9\"]}", true, false},
            {"{\"key\":\"size\",\"operator\":\"Lt\",\"values\":[\"8\"]}", false, false},
            {"{\"key\":\"neg\",\"operator\":\"Lt\",\"values\":[\"0\"]}", true, false},
            {"{\"key\":\"text\",\"operator\":\"Gt\",\"values\":[\"0\"]}", false, false},
            {"{\"key\":\"missing\",\"operator\":\"Gt\",\"values\":[\"0\"]}", false, false},
            {"{\"key\":\"size\",\"operator\":\"Gt\",\"values\":[\"x\"]}", false, true},
            {"{\"key\":\"size\",\"operator\":\"Gt\",\"values\":[\"1\",\"2\"]}", false, true},
            {"{\"key\":\"size\",\"operator\":\"Lt\",\"values\":[\"-1\"]}", false, true},
            {"{\"key\":\"zone\",\"operator\":\"Equals\",\"values\":[\"a\"]}", false, true},
            {"{\"operator\":\"Exists\"}", false, true},
        };
        _cleanup_json_ cJSON *labels =
            parse("{\"zone\":\"a\",\"size\":\"8\",\"neg\":\"-3\",\"text\":\"abc\"}");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *req = parse(cases[i].req);
                bool invalid = false;

                cr_expect_eq(node_eligibility_match_expression(req, labels, &invalid), cases[i].match,
                             "case %zu: %s", i, cases[i].req);
                cr_expect_eq(invalid, cases[i].invalid, "case %zu (invalid): %s", i, cases[i].req);
        }
}

Test(node_eligibility, match_fields_on_metadata_name)
{
        static const ExprCase cases[] = {
            {"{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n1\"]}", true, false},
            {"{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n2\"]}", false, false},
            {"{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":[\"n2\"]}", true, false},
            {"{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":[\"n1\"]}", false, false},
            {"{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n1\",\"n2\"]}", false, true},
            {"{\"key\":\"metadata.name\",\"operator\":\"Exists\"}", false, true},
            {"{\"key\":\"metadata.uid\",\"operator\":\"In\",\"values\":[\"n1\"]}", false, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *req = parse(cases[i].req);
                bool invalid = false;

                cr_expect_eq(node_eligibility_match_field(req, "n1", &invalid), cases[i].match,
                             "case %zu: %s", i, cases[i].req);
                cr_expect_eq(invalid, cases[i].invalid, "case %zu (invalid): %s", i, cases[i].req);
        }
}

typedef struct AffinityCase {
        const char *spec;
        bool match;
} AffinityCase;

#define REQUIRED(terms)                                                                                     \
        "{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"             \
        "\"nodeSelectorTerms\":" terms "}}}}"

Test(node_eligibility, node_selector_and_required_affinity)
{
        static const AffinityCase cases[] = {
            {"{}", true},
            {"{\"nodeSelector\":{\"disk\":\"ssd\"}}", true},
            {"{\"nodeSelector\":{\"disk\":\"ssd\",\"zone\":\"a\"}}", true},
            {"{\"nodeSelector\":{\"disk\":\"hdd\"}}", false},
            {"{\"nodeSelector\":{\"gpu\":\"\"}}", false},
            /* terms are ORed */
            {REQUIRED("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"b\"]}]},"
                      "{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}]"),
             true},
            /* expressions within a term are ANDed */
            {REQUIRED("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]},"
                      "{\"key\":\"disk\",\"operator\":\"In\",\"values\":[\"hdd\"]}]}]"),
             false},
            /* expressions and fields are ANDed */
            {REQUIRED(
                 "[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"}],"
                 "\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n1\"]}]}]"),
             true},
            {REQUIRED(
                 "[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"}],"
                 "\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n2\"]}]}]"),
             false},
            /* an empty term list, or an empty term, matches no node */
            {REQUIRED("[]"), false},
            {REQUIRED("[{}]"), false},
            {REQUIRED("[{\"matchExpressions\":[]}]"), false},
            /* a malformed term is skipped, another term can still match */
            {REQUIRED("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Gt\",\"values\":[\"x\"]}]},"
                      "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":["
                      "\"n9\"]}]}]"),
             true},
            {REQUIRED("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[]}]}]"),
             false},
            /* nodeSelector and affinity must both hold */
            {"{\"nodeSelector\":{\"disk\":\"hdd\"},\"affinity\":{\"nodeAffinity\":{"
             "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{"
             "\"matchExpressions\":"
             "[{\"key\":\"zone\",\"operator\":\"Exists\"}]}]}}}}",
             false},
            /* preferred affinity does not constrain */
            {"{\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[]}}}",
             true},
        };
        _cleanup_json_ cJSON *node = parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":{"
                                           "\"disk\":\"ssd\",\"zone\":\"a\"}}}");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *spec = parse(cases[i].spec);

                cr_expect_eq(node_eligibility_match_required_affinity(spec, node), cases[i].match,
                             "case %zu: %s", i, cases[i].spec);
        }
}

static bool has_toleration(const cJSON *spec, const char *key, const char *effect)
{
        const cJSON *t;

        cJSON_ArrayForEach (t, json_path(spec, "tolerations"))
                if (streq_ptr(json_str(t, "key"), key) && streq_ptr(json_str(t, "effect"), effect) &&
                    streq_ptr(json_str(t, "operator"), "Exists") && !json_path(t, "tolerationSeconds"))
                        return true;
        return false;
}

Test(node_eligibility, default_daemon_tolerations)
{
        static const struct {
                const char *key, *effect;
        } always[] = {
            {"node.kubernetes.io/not-ready", "NoExecute"},
            {"node.kubernetes.io/unreachable", "NoExecute"},
            {"node.kubernetes.io/disk-pressure", "NoSchedule"},
            {"node.kubernetes.io/memory-pressure", "NoSchedule"},
            {"node.kubernetes.io/pid-pressure", "NoSchedule"},
            {"node.kubernetes.io/unschedulable", "NoSchedule"},
        };
        _cleanup_json_ cJSON *plain = parse("{\"containers\":[]}");
        _cleanup_json_ cJSON *host = parse("{\"hostNetwork\":true}");

        cr_assert_eq(node_eligibility_add_daemon_tolerations(plain), 0);
        cr_assert_eq(node_eligibility_add_daemon_tolerations(host), 0);
        for (size_t i = 0; i < ELEMENTSOF(always); i++) {
                cr_expect(has_toleration(plain, always[i].key, always[i].effect), "%s", always[i].key);
                cr_expect(has_toleration(host, always[i].key, always[i].effect), "%s", always[i].key);
        }
        cr_expect_eq(cJSON_GetArraySize(json_path(plain, "tolerations")), 6);
        cr_expect_not(has_toleration(plain, "node.kubernetes.io/network-unavailable", "NoSchedule"));
        cr_expect(has_toleration(host, "node.kubernetes.io/network-unavailable", "NoSchedule"));
        cr_expect_eq(cJSON_GetArraySize(json_path(host, "tolerations")), 7);
}

Test(node_eligibility, default_tolerations_replace_equal_ones_and_keep_others)
{
        _cleanup_json_ cJSON *spec = parse(
            "{\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
            "\"effect\":\"NoExecute\",\"tolerationSeconds\":30},"
            "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"},"
            "{\"key\":\"mine\",\"operator\":\"Exists\"}]}");
        const cJSON *first;

        cr_assert_eq(node_eligibility_add_daemon_tolerations(spec), 0);
        first = cJSON_GetArrayItem(json_path(spec, "tolerations"), 0);
        cr_assert_str_eq(json_str(first, "key"), "node.kubernetes.io/not-ready");
        cr_assert_null(json_path(first, "tolerationSeconds"),
                       "replaced in place, without tolerationSeconds");
        /* another effect is another toleration: both stay */
        cr_assert_eq(cJSON_GetArraySize(json_path(spec, "tolerations")), 3 + 5);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(json_path(spec, "tolerations"), 2), "key"), "mine");
}

Test(node_eligibility, default_tolerations_tolerate_the_node_condition_taints)
{
        _cleanup_json_ cJSON *not_ready =
            parse("{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"}");
        _cleanup_json_ cJSON *not_ready_ns =
            parse("{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoSchedule\"}");
        _cleanup_json_ cJSON *net =
            parse("{\"key\":\"node.kubernetes.io/network-unavailable\",\"effect\":\"NoSchedule\"}");

        cr_assert(node_eligibility_daemon_tolerations_tolerate(not_ready, false));
        cr_assert_not(node_eligibility_daemon_tolerations_tolerate(not_ready_ns, false));
        cr_assert_not(node_eligibility_daemon_tolerations_tolerate(net, false));
        cr_assert(node_eligibility_daemon_tolerations_tolerate(net, true));
}

Test(node_eligibility, bind_to_node_replaces_required_terms_only)
{
        _cleanup_json_ cJSON *empty = parse("{}");
        _cleanup_json_ cJSON *spec =
            parse("{\"affinity\":{\"podAffinity\":{},\"nodeAffinity\":{"
                  "\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":1}],"
                  "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{"
                  "\"matchExpressions\":"
                  "[{\"key\":\"zone\",\"operator\":\"Exists\"}]}]}}}}");
        _cleanup_json_ cJSON *pod = cJSON_CreateObject();
        const cJSON *terms;

        cr_assert_eq(node_eligibility_bind_to_node(empty, "n1"), 0);
        cr_assert_eq(node_eligibility_bind_to_node(spec, "n1"), 0);
        terms = json_path(
            spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
        cr_assert_eq(cJSON_GetArraySize(terms), 1);
        cr_assert_null(json_path(terms->child, "matchExpressions"));
        cr_assert_not_null(json_path(spec, "affinity.podAffinity"));
        cr_assert_not_null(
            json_path(spec, "affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"));
        cJSON_AddItemToObject(pod, "spec", cJSON_Duplicate(spec, true));
        cr_assert_str_eq(node_eligibility_target_node(pod), "n1");
        cJSON_DeleteItemFromObject(pod, "spec");
        cJSON_AddItemToObject(pod, "spec", cJSON_Duplicate(empty, true));
        cr_assert_str_eq(node_eligibility_target_node(pod), "n1");
        cJSON_AddStringToObject(json_path(pod, "spec"), "nodeName", "n7");
        cr_assert_str_eq(node_eligibility_target_node(pod), "n7", "spec.nodeName wins");
}

typedef struct ShouldRunCase {
        const char *taints;
        const char *tspec;
        bool run, cont;
} ShouldRunCase;

Test(node_eligibility, node_should_run_daemon_pod)
{
        static const ShouldRunCase cases[] = {
            {"[]", "{}", true, true},
            /* PreferNoSchedule is ignored */
            {"[{\"key\":\"x\",\"effect\":\"PreferNoSchedule\"}]", "{}", true, true},
            /* NoSchedule: do not start, keep running */
            {"[{\"key\":\"x\",\"effect\":\"NoSchedule\"}]", "{}", false, true},
            /* NoExecute: neither */
            {"[{\"key\":\"x\",\"effect\":\"NoExecute\"}]", "{}", false, false},
            {"[{\"key\":\"x\",\"effect\":\"NoSchedule\"},{\"key\":\"y\",\"effect\":\"NoExecute\"}]", "{}",
             false, false},
            /* tolerated taints */
            {"[{\"key\":\"x\",\"value\":\"1\",\"effect\":\"NoExecute\"}]",
             "{\"tolerations\":[{\"key\":\"x\",\"operator\":\"Equal\",\"value\":\"1\"}]}", true, true},
            {"[{\"key\":\"x\",\"effect\":\"NoExecute\"},{\"key\":\"y\",\"effect\":\"NoSchedule\"}]",
             "{\"tolerations\":[{\"key\":\"x\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]}", false,
             true},
            /* the default tolerations */
            {"[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"},"
             "{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]",
             "{}", true, true},
            {"[{\"key\":\"node.kubernetes.io/network-unavailable\",\"effect\":\"NoSchedule\"}]", "{}", false,
             true},
            {"[{\"key\":\"node.kubernetes.io/network-unavailable\",\"effect\":\"NoSchedule\"}]",
             "{\"hostNetwork\":true}", true, true},
            /* affinity and node name */
            {"[]", "{\"nodeSelector\":{\"zone\":\"b\"}}", false, false},
            {"[]", "{\"nodeSelector\":{\"zone\":\"a\"}}", true, true},
            {"[]", "{\"nodeName\":\"n2\"}", false, false},
            {"[]", "{\"nodeName\":\"n1\"}", true, true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = NULL, *d = NULL;
                bool run, cont;

                cr_assert(asprintf(&n,
                                   "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"zone\":\"a\"}},\"spec\":{"
                                   "\"taints\":%s}}",
                                   cases[i].taints) > 0);
                cr_assert(asprintf(&d, "{\"spec\":{\"template\":{\"spec\":%s}}}", cases[i].tspec) > 0);
                _cleanup_json_ cJSON *node = parse(n), *ds = parse(d);

                node_eligibility_should_run_daemon_pod(node, ds, &run, &cont);
                cr_expect_eq(run, cases[i].run, "case %zu (shouldRun): %s %s", i, cases[i].taints,
                             cases[i].tspec);
                cr_expect_eq(cont, cases[i].cont, "case %zu (shouldContinueRunning): %s %s", i,
                             cases[i].taints, cases[i].tspec);
        }
}
