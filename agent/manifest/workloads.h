/* Helpers shared by the workload kinds (Job, CronJob, StatefulSet, DaemonSet) and the core
 * kinds of the manifest module: label selector matching, int-or-percent fields, JSON
 * defaulting and comparison, and the Job spec validation that CronJob reuses. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "field-errors.h"

/* metav1.LabelSelectorAsSelector(sel).Matches(labels): a NULL/null selector matches
 * nothing, an empty one everything; matchLabels and matchExpressions (In, NotIn, Exists,
 * DoesNotExist) are ANDed. labels may be NULL (no labels). */
bool workload_selector_matches(const cJSON *sel, const cJSON *labels);
/* "<spec_path>.template.metadata.labels: Invalid value: ...: `selector` does not match
 * template `labels`" when spec.selector is present and does not match. */
void workload_validate_selector_matches_template(const cJSON *spec, const char *spec_path, FieldErrors *e);
/* appsvalidation ValidatePositiveIntOrPercent + IsNotMoreThan100Percent for v (may be
 * NULL). */
void workload_validate_int_or_percent(const cJSON *v, const char *path, FieldErrors *e);
/* getIntOrPercentValue: the integer, or the number of a valid percent string, else 0. */
int workload_int_or_percent_value(const cJSON *v);
/* Forbidden "activeDeadlineSeconds in <kind> is not Supported" when the template sets it. */
void workload_forbid_active_deadline(const cJSON *spec, const char *spec_path, const char *kind,
                                     FieldErrors *e);
/* ValidateImmutableField: Invalid "field is immutable" (with the new value) at
 * parent_path.field when new_parent[field] differs from old_parent[field]. */
void workload_validate_immutable(const cJSON *new_parent, const cJSON *old_parent, const char *field,
                                 const char *parent_path, FieldErrors *e);

/* Defaulting helpers: treat a missing or null field as unset. Return 0 or -ENOMEM. */
bool workload_json_has(const cJSON *obj, const char *field);
int workload_default_int(cJSON *obj, const char *field, int64_t value);
int workload_default_bool(cJSON *obj, const char *field, bool value);
int workload_default_string(cJSON *obj, const char *field, const char *value);
/* obj[field] as an object, created when unset; NULL when it holds another type or on
 * OOM (*ret_oom tells which). */
cJSON *workload_default_object(cJSON *obj, const char *field, bool *ret_oom);
/* Applies pod defaults to tmpl.spec when it is an object. */
int workload_template_set_defaults(cJSON *tmpl);

/* Job spec rules shared by Job and CronJob's jobTemplate (validateJobSpec). spec_path is
 * "spec" or "spec.jobTemplate.spec". */
void job_spec_validate(const cJSON *spec, const char *spec_path, FieldErrors *e);
/* Job spec defaults that also apply inside a CronJob's jobTemplate (podFailurePolicy
 * condition status, pod template). */
int job_spec_set_template_defaults(cJSON *spec);

/* PersistentVolumeClaimSpec rules (core-kinds.c), also used for StatefulSet
 * volumeClaimTemplates; path is the spec's path. */
void pvc_spec_validate(const cJSON *spec, const char *path, FieldErrors *e);
