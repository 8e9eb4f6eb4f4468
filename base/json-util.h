/* cJSON conveniences: cleanup, typed getters that borrow, path lookup ("spec.template.spec"),
 * and setters that copy. Getters return NULL/default when the field is missing or of
 * another type. */
#pragma once

#include <cjson/cJSON.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete);
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Walks a dotted path of object keys ("metadata.name"); NULL if any step is missing. */
cJSON *json_path(const cJSON *root, const char *dotted);
/* Borrowed string at dotted path, or NULL when missing or not a string. */
const char *json_str(const cJSON *root, const char *dotted);
/* Integer at path, or def when missing or not a number. */
int64_t json_int(const cJSON *root, const char *dotted, int64_t def);
/* Boolean at path, or def when missing or not a bool. */
bool json_bool(const cJSON *root, const char *dotted, bool def);

/* Returns the object at key, creating an empty object there if missing (or replacing a
 * non-object). NULL on OOM. */
cJSON *json_ensure_object(cJSON *parent, const char *key);
/* Replace-or-add helpers; return 0 or -ENOMEM. */
int json_set_string(cJSON *obj, const char *key, const char *value);
int json_set_int(cJSON *obj, const char *key, int64_t value);
int json_set_bool(cJSON *obj, const char *key, bool value);
int json_set(cJSON *obj, const char *key, cJSON *value); /* takes value */

/* Compact print into a malloc'd string; NULL on OOM. */
char *json_print(const cJSON *j);
