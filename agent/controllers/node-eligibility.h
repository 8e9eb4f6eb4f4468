/* Which node a daemon pod may run on (SEMANTICS.md 6.2-6.5): taints and tolerations,
 * nodeSelector and required node affinity, the tolerations the DaemonSet controller adds to
 * its pods, and NodeShouldRunDaemonPod. Pure functions over cJSON objects (a Node, a pod
 * spec, a DaemonSet), so that a cluster mode can ask the same questions about other nodes. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Effects, as a mask for node_eligibility_find_untolerated_taint(). */
typedef enum NodeTaintEffect {
        NODE_TAINT_NO_SCHEDULE = 1 << 0,
        NODE_TAINT_PREFER_NO_SCHEDULE = 1 << 1,
        NODE_TAINT_NO_EXECUTE = 1 << 2,
} NodeTaintEffect;

/* The NodeTaintEffect of an effect string; 0 for an unknown or missing one. */
unsigned node_eligibility_taint_effect(const char *effect);

/* Toleration.ToleratesTaint: an empty effect or key in the toleration matches every effect
 * or key; operator "" or "Equal" compares values, "Exists" matches any value. Lt/Gt
 * (feature gate TaintTolerationComparisonOperators, off by default) and unknown operators
 * tolerate nothing. */
bool node_eligibility_tolerates_taint(const cJSON *toleration, const cJSON *taint);
/* Whether any toleration of the array tolerations (may be NULL) tolerates taint. */
bool node_eligibility_tolerations_tolerate(const cJSON *tolerations, const cJSON *taint);
/* FindMatchingUntoleratedTaint: the first taint of the array taints whose effect is in
 * effects (a NodeTaintEffect mask) that no toleration tolerates; NULL when none. */
const cJSON *node_eligibility_find_untolerated_taint(const cJSON *taints, const cJSON *tolerations,
                                                     unsigned effects);

/* One NodeSelectorRequirement on labels (matchExpressions): In, NotIn (true when the key is
 * absent), Exists, DoesNotExist, Gt, Lt. A malformed requirement (unknown operator, wrong
 * number of values, a Gt/Lt value that is not an integer) sets *ret_invalid and is false. */
bool node_eligibility_match_expression(const cJSON *req, const cJSON *labels, bool *ret_invalid);
/* One requirement on fields (matchFields): only In/NotIn with exactly one value; the one
 * field a node has is metadata.name. */
bool node_eligibility_match_field(const cJSON *req, const char *node_name, bool *ret_invalid);
/* A v1.NodeSelector ({nodeSelectorTerms: [...]}) against node: terms are ORed, a term's
 * matchExpressions and matchFields ANDed; a term with neither, or with a malformed
 * requirement, matches nothing. */
bool node_eligibility_match_node_selector(const cJSON *node_selector, const cJSON *node);
/* GetRequiredNodeAffinity(pod).Match(node) for a pod spec: spec.nodeSelector (every key
 * present with that value) and spec.affinity.nodeAffinity.
 * requiredDuringSchedulingIgnoredDuringExecution, both when set. */
bool node_eligibility_match_required_affinity(const cJSON *pod_spec, const cJSON *node);

/* AddOrUpdateDaemonPodTolerations: adds to pod_spec.tolerations (operator Exists, no
 * tolerationSeconds) node.kubernetes.io/not-ready and unreachable (NoExecute), disk-,
 * memory- and pid-pressure and unschedulable (NoSchedule), and with hostNetwork
 * network-unavailable (NoSchedule). A toleration equal in key, operator, value and effect is
 * replaced in place. 0 or -ENOMEM. */
int node_eligibility_add_daemon_tolerations(cJSON *pod_spec);
/* Whether the default daemon tolerations (host_network: with network-unavailable) tolerate
 * taint. */
bool node_eligibility_daemon_tolerations_tolerate(const cJSON *taint, bool host_network);
/* ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes the one
 * term matchFields metadata.name In [node_name]; other affinity is kept. 0 or -ENOMEM. */
int node_eligibility_bind_to_node(cJSON *pod_spec, const char *node_name);
/* GetTargetNodeName: spec.nodeName, else the single value of a metadata.name In
 * requirement in the first term of the required node affinity; NULL when neither. */
const char *node_eligibility_target_node(const cJSON *pod);

/* NodeShouldRunDaemonPod for the DaemonSet ds on node (SEMANTICS.md 6.2): should_run when
 * a new daemon pod may start there, should_continue when a running one may stay (an
 * untolerated NoSchedule taint keeps it, an untolerated NoExecute one does not). */
void node_eligibility_should_run_daemon_pod(const cJSON *node, const cJSON *ds, bool *ret_should_run,
                                            bool *ret_should_continue);
