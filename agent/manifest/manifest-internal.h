/* Internal interface between the parts of the manifest module: the per-kind default and
 * validate hooks, shared validation helpers, and the known-field schemas. */
#pragma once

#include <cjson/cJSON.h>

#include "field-errors.h"
#include "manifest.h"
#include "schema.h"

/* One entry per kind: defaults, create validation, update validation, schema. */
typedef struct KindHooks {
        const char *kind;
        int (*set_defaults)(cJSON *obj);
        void (*validate)(const cJSON *obj, FieldErrors *e);
        void (*validate_update)(const cJSON *new_obj, const cJSON *old_obj, FieldErrors *e);
        const SchemaNode *schema;
} KindHooks;
const KindHooks *kind_hooks(const char *kind);

/* --- shared validation helpers (validate-common.c) --- */
bool is_dns1123_label(const char *s);     /* [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63 */
bool is_dns1123_subdomain(const char *s); /* labels joined by '.', <= 253 */
bool is_dns1035_label(const char *s);     /* [a-z]([-a-z0-9]*[a-z0-9])?, <= 63 */
bool is_c_identifier(const char *s);
/* metadata: name (per kind rule: subdomain unless dns_label), generateName, namespace,
 * labels (qualified names + label values), annotations (total size <= 256 KiB). */
void validate_object_meta(const cJSON *meta, bool namespaced, bool name_is_dns_label, const char *path,
                          FieldErrors *e);
void validate_labels(const cJSON *labels, const char *path, FieldErrors *e);
/* metav1.LabelSelector {matchLabels, matchExpressions} */
void validate_label_selector(const cJSON *sel, const char *path, FieldErrors *e);
/* Integer-valued field checks: "must be greater than or equal to 0" etc. */
void validate_nonnegative(const cJSON *parent, const char *field, const char *path, FieldErrors *e);
void validate_positive(const cJSON *parent, const char *field, const char *path, FieldErrors *e);
/* Kubernetes resource quantities ("100m", "1Gi", "0.5"); returns 0 and the value in
 * milli-units, or -EINVAL. */
int quantity_parse_milli(const char *s, int64_t *ret_milli);
int quantity_from_json(const cJSON *j, int64_t *ret_milli);

/* --- Pod and pod template (pod.c) --- */
int pod_set_defaults(cJSON *obj);
int pod_spec_set_defaults(cJSON *spec);
void pod_validate(const cJSON *obj, FieldErrors *e);
void pod_validate_update(const cJSON *new_obj, const cJSON *old_obj, FieldErrors *e);
/* PodTemplateSpec {metadata, spec} at path, e.g. "spec.template". allowed_restart lists the
 * restartPolicy values the owner allows (NULL = all three). */
void pod_template_validate(const cJSON *tmpl, const char *path, const char *const *allowed_restart,
                           FieldErrors *e);
void pod_spec_validate(const cJSON *spec, const char *path, FieldErrors *e);
extern const SchemaNode schema_pod;
extern const SchemaNode schema_pod_template; /* {metadata, spec} */
extern const SchemaNode schema_object_meta;
extern const SchemaNode schema_label_selector;

/* --- workloads (workloads.c) and the rest (core-kinds.c) --- */
int job_set_defaults(cJSON *obj);
void job_validate(const cJSON *obj, FieldErrors *e);
void job_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e);
int cronjob_set_defaults(cJSON *obj);
void cronjob_validate(const cJSON *obj, FieldErrors *e);
int statefulset_set_defaults(cJSON *obj);
void statefulset_validate(const cJSON *obj, FieldErrors *e);
void statefulset_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e);
int daemonset_set_defaults(cJSON *obj);
void daemonset_validate(const cJSON *obj, FieldErrors *e);
void daemonset_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e);
int service_set_defaults(cJSON *obj);
void service_validate(const cJSON *obj, FieldErrors *e);
void configmap_validate(const cJSON *obj, FieldErrors *e);
int secret_set_defaults(cJSON *obj);
void secret_validate(const cJSON *obj, FieldErrors *e);
int pvc_set_defaults(cJSON *obj);
void pvc_validate(const cJSON *obj, FieldErrors *e);
void pvc_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e);
extern const SchemaNode schema_job, schema_cronjob, schema_statefulset, schema_daemonset, schema_service,
    schema_configmap, schema_secret, schema_pvc;

/* --- more shared helpers (validate-common.c); each appends one Invalid error per upstream
 * message (IsDNS1123Label & co.), with the value as the bad value. --- */
bool is_qualified_name(const char *s); /* label keys: [prefix/]name */
bool is_label_value(const char *s);
bool is_port_name(const char *s); /* IANA_SVC_NAME */
void validate_dns1123_label(const char *value, const char *path, FieldErrors *e);
void validate_dns1123_subdomain(const char *value, const char *path, FieldErrors *e);
void validate_dns1035_label(const char *value, const char *path, FieldErrors *e);
void validate_qualified_name(const char *value, const char *path, FieldErrors *e);
void validate_port_name(const char *value, const char *path, FieldErrors *e);
/* A port number 1..65535 ("must be between 1 and 65535, inclusive"). */
void validate_port_number(const cJSON *port, const char *path, FieldErrors *e);
/* parent[field] must be a string among supported (NotSupported otherwise); a missing field
 * is Required when required is set. Returns the string or NULL. */
const char *validate_enum(const cJSON *parent, const char *field, const char *path,
                          const char *const *supported, bool required, FieldErrors *e);
/* Type checks: append "Invalid value: <v>: must be a string" etc. and return false when
 * the field is present with another type; true when missing or well-typed. */
bool validate_type_string(const cJSON *parent, const char *field, const char *path, FieldErrors *e);
bool validate_type_bool(const cJSON *parent, const char *field, const char *path, FieldErrors *e);
bool validate_type_int(const cJSON *parent, const char *field, const char *path, FieldErrors *e);
