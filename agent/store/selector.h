/* Kubernetes label selectors: the string form of `-l` and `?labelSelector=`
 * ("app=web,tier!=db,env in (a,b),env notin (c),key,!key") and metav1.LabelSelector
 * objects ({matchLabels, matchExpressions}); matching against a labels object. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "macro.h"

typedef struct LabelSelector LabelSelector;

/* Parses the string form. "" selects everything. On error returns -EINVAL and sets
 * *ret_error (malloc'd) in the apimachinery wording. */
int label_selector_parse(const char *s, LabelSelector **ret, char **ret_error);
/* From a metav1.LabelSelector JSON object. NULL or {} selects everything; operators In,
 * NotIn, Exists, DoesNotExist. -EINVAL on a malformed object. */
int label_selector_from_json(const cJSON *j, LabelSelector **ret);
LabelSelector *label_selector_free(LabelSelector *sel);
DEFINE_TRIVIAL_CLEANUP_FUNC(LabelSelector *, label_selector_free);
bool label_selector_empty(const LabelSelector *sel);
/* labels: a JSON object of string values, or NULL (no labels). */
bool label_selector_matches(const LabelSelector *sel, const cJSON *labels);
