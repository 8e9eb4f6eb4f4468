/* Test helpers for the workload and core-kind tests: fixtures (JSON objects under
 * fixtures/), RFC 7386 merge patches to vary them, and
 * error list checks against the exact apiserver-style lines. FIXTURES is the fixtures
 * directory, defined by meson.build. */
#pragma once

#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"

static inline cJSON *fixture(const char *name)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *dir = FIXTURES;
        cJSON *j;

        cr_assert(asprintf_safe(&path, "%s/%s", dir, name) >= 0);
        cr_assert(read_full_file(path, 1 << 20, &text, NULL) >= 0, "cannot read %s", path);
        j = cJSON_Parse(text);
        cr_assert(j, "bad JSON in %s", path);
        return j;
}

/* RFC 7386: objects merge recursively, null deletes, anything else replaces. */
static inline void merge_patch_into(cJSON *target, const cJSON *patch)
{
        const cJSON *p;

        cJSON_ArrayForEach (p, patch) {
                cJSON *t = cJSON_GetObjectItemCaseSensitive(target, p->string);

                if (cJSON_IsNull(p))
                        cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
                else if (cJSON_IsObject(p) && cJSON_IsObject(t))
                        merge_patch_into(t, p);
                else
                        cr_assert(json_set(target, p->string, cJSON_Duplicate(p, true)) >= 0);
        }
}

static inline cJSON *patched(const char *name, const char *patch_json)
{
        cJSON *o = fixture(name);
        _cleanup_json_ cJSON *patch = patch_json ? cJSON_Parse(patch_json) : NULL;

        cr_assert(!patch_json || patch, "bad patch %s", patch_json);
        if (patch)
                merge_patch_into(o, patch);
        return o;
}

static inline char *errors_text(const FieldErrors *e)
{
        char *all = strdup("");

        for (size_t i = 0; all && i < e->n; i++) {
                _cleanup_free_ char *line = field_error_format(&e->items[i]);
                char *n = line ? strjoin(all, i ? "\n" : "", line, NULL) : NULL;

                free(all);
                all = n;
        }
        cr_assert(all);
        return all;
}

static inline bool errors_contain(const FieldErrors *e, const char *line)
{
        for (size_t i = 0; i < e->n; i++) {
                _cleanup_free_ char *l = field_error_format(&e->items[i]);
                if (l && streq(l, line))
                        return true;
        }
        return false;
}

typedef int (*DefaultsFn)(cJSON *obj);
typedef void (*ValidateFn)(const cJSON *obj, FieldErrors *e);

/* Defaults (when given) then validates; the caller owns and frees *e. */
static inline void run_validation(cJSON *o, DefaultsFn def, ValidateFn val, FieldErrors *e)
{
        field_errors_init(e);
        if (def)
                cr_assert_eq(def(o), 0);
        val(o, e);
        cr_assert(!e->oom);
}

#define expect_error(o, def, val, line)                                                                     \
        do {                                                                                                \
                FieldErrors _e;                                                                             \
                run_validation((o), (def), (val), &_e);                                                     \
                _cleanup_free_ char *_t = errors_text(&_e);                                                 \
                bool _ok = errors_contain(&_e, (line));                                                     \
                field_errors_done(&_e);                                                                     \
                cr_assert(_ok, "expected\n  %s\ngot\n%s", (line), _t);                                      \
        } while (0)

#define expect_valid(o, def, val)                                                                           \
        do {                                                                                                \
                FieldErrors _e;                                                                             \
                run_validation((o), (def), (val), &_e);                                                     \
                _cleanup_free_ char *_t = errors_text(&_e);                                                 \
                size_t _n = _e.n;                                                                           \
                field_errors_done(&_e);                                                                     \
                cr_assert_eq(_n, 0, "expected no errors, got\n%s", _t);                                     \
        } while (0)

#define expect_update_error(new_obj, old_obj, val, line)                                                    \
        do {                                                                                                \
                FieldErrors _e;                                                                             \
                field_errors_init(&_e);                                                                     \
                val((new_obj), (old_obj), &_e);                                                             \
                _cleanup_free_ char *_t = errors_text(&_e);                                                 \
                bool _ok = (line) ? errors_contain(&_e, (line)) : _e.n == 0;                                \
                field_errors_done(&_e);                                                                     \
                cr_assert(_ok, "expected\n  %s\ngot\n%s", (line) ? (line) : "(no errors)", _t);             \
        } while (0)

/* Runs defaults and validation over fixture variants with fields of the wrong type: each
 * must report errors or pass, never crash. */
static inline void survive_patches(const char *fixture_name, DefaultsFn def, ValidateFn val,
                                   const char *const *patches)
{
        for (size_t i = 0; patches[i]; i++) {
                _cleanup_json_ cJSON *o = patched(fixture_name, patches[i]);
                FieldErrors e;

                run_validation(o, def, val, &e);
                field_errors_done(&e);
        }
}
