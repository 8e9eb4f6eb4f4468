/* Manifests: YAML (libyaml) or JSON text, multi-document, into cJSON objects that remember
 * the line of every field; then Kubernetes defaulting and validation per kind. Errors are
 * phrased as the Kubernetes apiserver phrases them and carry file:line and field path. */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#include "field-errors.h"

/* Largest manifest file or request body accepted (Kubernetes' apiserver takes 3 MiB). */
#define MANIFEST_MAX_BYTES ((size_t)3 * 1024 * 1024)

typedef struct ManifestDoc ManifestDoc;
typedef struct ManifestSet ManifestSet;

/* Parses data (YAML or JSON, auto-detected; YAML may hold several "---" documents; a JSON
 * or YAML "kind: List" is flattened into its items; empty documents are skipped).
 * source names the origin for messages ("web.yaml", "-"). On a syntax error returns
 * -EINVAL and sets *ret_error to one line "web.yaml:3: <what is wrong>". */
int manifest_parse(const char *source, const char *data, size_t size, ManifestSet **ret, char **ret_error);
/* Reads and parses a file (at most MANIFEST_MAX_BYTES, else -EFBIG with a message). */
int manifest_parse_file(const char *path, ManifestSet **ret, char **ret_error);
ManifestSet *manifest_set_free(ManifestSet *set);
DEFINE_TRIVIAL_CLEANUP_FUNC(ManifestSet *, manifest_set_free);
#define _cleanup_manifest_set_ _cleanup_(manifest_set_freep)

size_t manifest_set_size(const ManifestSet *set);
ManifestDoc *manifest_set_get(const ManifestSet *set, size_t i);

/* The document's object (borrowed; still owned by the set). */
cJSON *manifest_doc_object(const ManifestDoc *doc);
/* Takes the object out of the document (the doc then holds NULL). */
cJSON *manifest_doc_steal_object(ManifestDoc *doc);
const char *manifest_doc_source(const ManifestDoc *doc);
/* Line (1-based) of the field at a Kubernetes field path ("spec.containers[0].image",
 * "metadata.labels[app]"); falls back to the nearest ancestor that has a line, then to
 * the document's first line. */
unsigned manifest_doc_line(const ManifestDoc *doc, const char *field_path);

/* Applies the Kubernetes defaults of obj's kind in place (SetDefaults_*). Unknown kinds
 * are left alone. Returns 0 or -ENOMEM. */
int manifest_default(cJSON *obj);
/* Validates obj (already defaulted) against the rules of its kind: apiVersion/kind known,
 * metadata (DNS-1123 names, labels, annotations) and the kind's spec. Appends to errs;
 * returns the number of errors found (>= 0) or -ENOMEM. */
int manifest_validate(const cJSON *obj, FieldErrors *errs);
/* Validates an update of old into new: immutable fields (Pod spec, Job selector/template,
 * StatefulSet selector/serviceName/volumeClaimTemplates...). Returns errors as above. */
int manifest_validate_update(const cJSON *new_obj, const cJSON *old_obj, FieldErrors *errs);
/* Appends one warning per field the kind's schema does not know ("unknown field
 * \"spec.containers[0].imagePullPolice\""). Returns the number of warnings. */
int manifest_unknown_fields(const cJSON *obj, FieldErrors *warnings);

/* Resource kinds known to berth, with their REST names (kubectl's plural, singular and
 * short names). Lookup is case-insensitive and accepts "kind.group" too. */
typedef struct KindInfo {
        const char *kind;        /* "StatefulSet" */
        const char *api_version; /* "apps/v1" */
        const char *group;       /* "apps", "" for core */
        const char *plural;      /* "statefulsets" */
        const char *singular;    /* "statefulset" */
        const char *short_name;  /* "sts" or NULL */
        bool namespaced;
} KindInfo;
const KindInfo *kind_lookup(const char *name);  /* any of kind/plural/singular/short */
const KindInfo *kind_by_kind(const char *kind); /* exact Kind */
const KindInfo *kind_by_plural(const char *group, const char *plural);
const KindInfo *kind_table(size_t *ret_n);

/* Formats every error of errs against doc as "file:line: path: message" lines (one per
 * error, "\n"-separated, no trailing newline). */
char *manifest_format_errors(const ManifestDoc *doc, const FieldErrors *errs);

/* Parses one YAML or JSON document as plain data (no apiVersion/kind needed), e.g. the
 * agent's config file. Several documents are an error; an empty one gives a JSON null. */
int manifest_parse_plain(const char *source, const char *data, size_t size, cJSON **ret, char **ret_error);

/* Prepares obj, a user's full object, to replace old, the stored one: carries over what the
 * server and the controllers own — metadata.uid, creationTimestamp, deletionTimestamp,
 * deletionGracePeriodSeconds, generation (and resourceVersion when with_version and obj has
 * none) — and, for a Pod, spec.nodeName when obj sets none (the node binding). Call it before
 * manifest_validate_update(). Returns 0 or -ENOMEM. */
int manifest_inherit_server_fields(cJSON *obj, const cJSON *old, bool with_version);
/* The key that identifies an object in one apply: "<Kind>/<namespace>/<name>" (malloc'd). */
char *manifest_object_key(const cJSON *obj);
