/* Field errors in the apiserver's words (k8s.io/apimachinery/pkg/util/validation/field):
 * each error has a field path, a type and a detail, and prints as
 * "spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"". */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#include "macro.h"

typedef enum FieldErrorType {
        FIELD_ERROR_REQUIRED,      /* "Required value" */
        FIELD_ERROR_INVALID,       /* "Invalid value: <value>: <detail>" */
        FIELD_ERROR_NOT_SUPPORTED, /* "Unsupported value: <value>: supported values: ..." */
        FIELD_ERROR_DUPLICATE,     /* "Duplicate value: <value>" */
        FIELD_ERROR_FORBIDDEN,     /* "Forbidden: <detail>" */
        FIELD_ERROR_TOO_LONG,      /* "Too long: may not be more than <n> bytes" */
        FIELD_ERROR_TOO_MANY,      /* "Too many: <n>: must have at most <m> items" */
        FIELD_ERROR_NOT_FOUND,     /* "Not found: <value>" */
        FIELD_ERROR_WARNING,       /* a warning, printed as the detail only */
} FieldErrorType;

typedef struct FieldError {
        FieldErrorType type;
        char *path;   /* "spec.template.spec.containers[0].image" */
        char *value;  /* rendered bad value as Go's %#v would quote it ("\"Always\"", "5"), or NULL */
        char *detail; /* free text, or NULL */
} FieldError;

typedef struct FieldErrors {
        FieldError *items;
        size_t n, allocated;
        bool oom;
} FieldErrors;

void field_errors_init(FieldErrors *e);
void field_errors_done(FieldErrors *e);
static inline size_t field_errors_count(const FieldErrors *e)
{
        return e->n;
}

/* Appends an error. value_json (may be NULL) is rendered the way the apiserver renders
 * the bad value: strings quoted, numbers and bools bare. detail may be NULL. */
void field_error_add(FieldErrors *e, FieldErrorType type, const char *path, const cJSON *value_json,
                     const char *detail_fmt, ...) _printf_(5, 6);
/* Same with a C string value (rendered quoted). */
void field_error_add_str(FieldErrors *e, FieldErrorType type, const char *path, const char *value,
                         const char *detail_fmt, ...) _printf_(5, 6);
/* NotSupported with the list of supported values (NULL-terminated). */
void field_error_not_supported(FieldErrors *e, const char *path, const cJSON *value,
                               const char *const *supported);

/* "path: Type: value: detail" for one error, malloc'd. */
char *field_error_format(const FieldError *err);

/* Path building: "spec" + "containers" -> "spec.containers"; index -> "spec.containers[0]";
 * key -> "metadata.labels[app]". Results are malloc'd; NULL on OOM. */
char *field_path_child(const char *parent, const char *child);
char *field_path_index(const char *parent, size_t index);
char *field_path_key(const char *parent, const char *key);
/* parent + suffix ("spec.ports[0]" + ".name"), malloc'd. On OOM, or when parent is NULL (an
 * earlier OOM), sets e->oom and returns NULL. */
char *field_path_append(FieldErrors *e, const char *parent, const char *suffix);
