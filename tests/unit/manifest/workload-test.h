/* Test helpers for the pod, workload and core-kind tests: fixtures (JSON objects under
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

/* Asserts that each line of the NULL-terminated list is among the errors in e; an empty
 * list asserts that there are none. Frees e. */
static inline void expect_lines(FieldErrors *e, const char *const *lines)
{
        _cleanup_free_ char *t = errors_text(e);
        size_t n = e->n;

        for (size_t i = 0; lines[i]; i++)
                cr_expect(errors_contain(e, lines[i]), "expected\n  %s\ngot\n%s", lines[i], t);
        field_errors_done(e);
        if (!lines[0])
                cr_assert_eq(n, 0, "expected no errors, got\n%s", t);
}

/* Defaults (when given) and validates o once, then checks the errors as expect_lines does. */
static inline void expect_validation(cJSON *o, DefaultsFn def, ValidateFn val, const char *const *lines)
{
        FieldErrors e;

        run_validation(o, def, val, &e);
        expect_lines(&e, lines);
}

/* The same for the named fixture with an RFC 7386 merge patch applied. */
static inline void expect_patch_validation(const char *fixture_name, const char *patch, DefaultsFn def,
                                           ValidateFn val, const char *const *lines)
{
        _cleanup_json_ cJSON *o = patched(fixture_name, patch);

        expect_validation(o, def, val, lines);
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_LINES ((const char *const[]){NULL})

/* Every given error line must be reported. */
#define expect_errors(o, def, val, ...) expect_validation((o), (def), (val), LINES(__VA_ARGS__))
#define expect_valid(o, def, val) expect_validation((o), (def), (val), NO_LINES)
#define expect_patch_errors(name, patch, def, val, ...)                                                     \
        expect_patch_validation((name), (patch), (def), (val), LINES(__VA_ARGS__))
#define expect_patch_valid(name, patch, def, val)                                                           \
        expect_patch_validation((name), (patch), (def), (val), NO_LINES)

typedef void (*ValidateUpdateFn)(const cJSON *new_obj, const cJSON *old_obj, FieldErrors *e);

/* Validates the update of old_obj to new_obj, then checks the errors as expect_lines does. */
static inline void expect_update_validation(const cJSON *new_obj, const cJSON *old_obj, ValidateUpdateFn val,
                                            const char *const *lines)
{
        FieldErrors e;

        field_errors_init(&e);
        val(new_obj, old_obj, &e);
        expect_lines(&e, lines);
}

#define expect_update_errors(new_obj, old_obj, val, ...)                                                    \
        expect_update_validation((new_obj), (old_obj), (val), LINES(__VA_ARGS__))
#define expect_update_valid(new_obj, old_obj, val)                                                          \
        expect_update_validation((new_obj), (old_obj), (val), NO_LINES)

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
