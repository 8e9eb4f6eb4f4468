/* The berth extension POST /apis/berth.dev/v1/apply: a List of objects applied all or
 * nothing. Every item is defaulted and validated first (errors of all items collected,
 * fields prefixed "items[i]."), then all are applied in one store transaction;
 * ?dryRun=All applies inside a transaction that is rolled back, so results are exact. */
#include <string.h>

#include "api-internal.h"
#include "json-util.h"
#include "util.h"

typedef struct ApplyCheck {
        cJSON *causes; /* Status details.causes */
        FILE *message; /* the Status message, items separated by "; ", written into buf */
        char *buf;
        size_t size;
        bool failed;
} ApplyCheck;

static void apply_check_done(ApplyCheck *c)
{
        cJSON_Delete(c->causes);
        if (c->message)
                fclose(c->message);
        free(c->buf);
}

static int add_cause(ApplyCheck *c, const char *reason, const char *field, const char *msg)
{
        cJSON *cause = cJSON_CreateObject();

        if (!cause || json_set_string(cause, "reason", reason) < 0 ||
            json_set_string(cause, "message", msg) < 0 || json_set_string(cause, "field", field) < 0 ||
            !cJSON_AddItemToArray(c->causes, cause)) {
                cJSON_Delete(cause);
                return -ENOMEM;
        }
        fprintf(c->message, "%s%s: %s", c->failed ? "; " : "", field, msg);
        c->failed = true;
        return 0;
}

static int check_errors(ApplyCheck *c, const KindInfo *k, const cJSON *item, const FieldErrors *errs,
                        const char *prefix)
{
        _cleanup_free_ char *msg = NULL;
        int r;

        if (errs->oom)
                return -ENOMEM;
        if (errs->n == 0)
                return 0;
        r = api_causes_append(c->causes, errs, prefix);
        if (r < 0)
                return r;
        msg = api_invalid_message(k->kind, json_str(item, "metadata.name"), errs);
        if (!msg)
                return -ENOMEM;
        fprintf(c->message, "%s%s", c->failed ? "; " : "", msg);
        c->failed = true;
        return 0;
}

/* Validates the update the item makes, once it carries what the server keeps. */
static int validate_update(cJSON *item, const cJSON *old, FieldErrors *errs)
{
        int r = manifest_inherit_server_fields(item, old, true);

        if (r < 0)
                return r;
        return manifest_validate_update(item, old, errs);
}

/* The same object twice in one apply is refused, as kubectl's users would expect. */
static int check_duplicate(ApplyCheck *c, const cJSON *items, size_t i, const cJSON *item,
                           const char *prefix)
{
        _cleanup_free_ char *key = manifest_object_key(item), *field = NULL, *msg = NULL;
        const cJSON *other;
        size_t j = 0;

        if (!key)
                return -ENOMEM;
        cJSON_ArrayForEach (other, items) {
                _cleanup_free_ char *k2 = NULL;
                if (j++ >= i)
                        break;
                k2 = manifest_object_key(other);
                if (!k2)
                        return -ENOMEM;
                if (!streq(k2, key))
                        continue;
                field = strjoin(prefix, "metadata.name", NULL);
                if (!field ||
                    asprintf_safe(&msg, "Duplicate value: \"%s\": the same %s is also items[%zu]",
                                  json_str(item, "metadata.name") ?: "", json_str(item, "kind"), j - 1) < 0)
                        return -ENOMEM;
                return add_cause(c, "FieldValueDuplicate", field, msg);
        }
        return 0;
}

/* Identifies, defaults and validates one item; problems go into c. */
static int check_item(ApiRequest *req, ApplyCheck *c, const cJSON *items, size_t i, cJSON *item,
                      ApiResponse *resp)
{
        _cleanup_free_ char *prefix = NULL, *field = NULL, *warn_prefix = NULL, *msg = NULL;
        _cleanup_json_ cJSON *old = NULL;
        const char *kind = json_str(item, "kind"), *av = json_str(item, "apiVersion");
        const KindInfo *k = kind ? kind_by_kind(kind) : NULL;
        FieldErrors errs;
        int r;

        if (asprintf_safe(&prefix, "items[%zu].", i) < 0 ||
            asprintf_safe(&warn_prefix, "items[%zu]: ", i) < 0)
                return -ENOMEM;
        if (!cJSON_IsObject(item))
                return add_cause(c, "FieldValueInvalid", prefix, "Invalid value: an object was expected");
        field = strjoin(prefix, "kind", NULL);
        if (!field)
                return -ENOMEM;
        if (!kind)
                return add_cause(c, "FieldValueRequired", field, "Required value");
        if (!k || !av || !streq(av, k->api_version)) {
                if (asprintf_safe(&msg, "no matches for kind \"%s\" in version \"%s\"", kind, av ?: "") < 0)
                        return -ENOMEM;
                return add_cause(c, "FieldValueInvalid", field, msg);
        }
        if (k->namespaced && !json_str(item, "metadata.namespace")) {
                cJSON *meta = json_ensure_object(item, "metadata");

                if (!meta || json_set_string(meta, "namespace", "default") < 0)
                        return -ENOMEM;
        }
        r = manifest_default(item);
        if (r >= 0)
                r = check_duplicate(c, items, i, item, prefix);
        if (r < 0)
                return r;
        field_errors_init(&errs);
        r = manifest_validate(item, &errs);
        if (r >= 0 && json_str(item, "metadata.name") &&
            store_get(req->api->store, k->kind, k->namespaced ? json_str(item, "metadata.namespace") : NULL,
                      json_str(item, "metadata.name"), &old) >= 0)
                r = validate_update(item, old, &errs);
        if (r >= 0 && errs.n == 0)
                r = api_admit(req->api, item, &errs);
        if (r >= 0)
                r = check_errors(c, k, item, &errs, prefix);
        field_errors_done(&errs);
        if (r < 0)
                return r;
        r = api_objects_warn_unknown(resp, item, warn_prefix);
        return r < 0 ? r : api_objects_warn_service(req->api, resp, item, items, warn_prefix);
}

static int reply_invalid(ApiResponse *resp, ApplyCheck *c)
{
        _cleanup_json_ cJSON *d = cJSON_CreateObject();
        int r;

        r = fclose(c->message);
        c->message = NULL;
        if (r != 0 || !d || json_set_string(d, "kind", "List") < 0)
                return -ENOMEM;
        r = json_set(d, "causes", TAKE_PTR(c->causes));
        if (r < 0)
                return r;
        return api_reply_status(resp, 422, "Invalid", TAKE_PTR(d), "%s", c->buf);
}

static int result_new(const cJSON *item, const cJSON *stored, bool created, bool changed, cJSON **ret)
{
        _cleanup_json_ cJSON *res = cJSON_CreateObject();
        const char *ns = json_str(stored, "metadata.namespace");

        if (!res || json_set_string(res, "kind", json_str(item, "kind")) < 0 ||
            (ns && json_set_string(res, "namespace", ns) < 0) ||
            json_set_string(res, "name", json_str(stored, "metadata.name") ?: "") < 0 ||
            json_set_string(res, "result",
                            created   ? "created"
                            : changed ? "configured"
                                      : "unchanged") < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(res);
        return 0;
}

/* Applies every item in one transaction; rolled back on error or for a dry run. */
static int apply_items(ApiRequest *req, const cJSON *items, bool dry_run, cJSON *results)
{
        Store *s = req->api->store;
        const cJSON *item;
        int r;

        r = store_begin(s);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (item, items) {
                _cleanup_json_ cJSON *stored = NULL;
                cJSON *res = NULL;
                bool created = false, changed = false;

                r = store_apply(s, item, &stored, &created, &changed);
                if (r >= 0)
                        r = result_new(item, stored, created, changed, &res);
                if (r >= 0 && !cJSON_AddItemToArray(results, res)) {
                        cJSON_Delete(res);
                        r = -ENOMEM;
                }
                if (r < 0) {
                        store_rollback(s);
                        return r;
                }
        }
        if (dry_run) {
                store_rollback(s);
                return 0;
        }
        r = store_commit(s);
        if (r < 0)
                store_rollback(s);
        return r;
}

int api_apply(ApiRequest *req, ApiResponse *resp)
{
        _cleanup_json_ cJSON *body = NULL, *results = cJSON_CreateArray(), *out = NULL;
        _cleanup_(apply_check_done) ApplyCheck c = {};
        const char *dry = api_request_query(req, "dryRun");
        cJSON *items, *item;
        size_t i = 0;
        int r;

        r = api_parse_body(req, resp, &body);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        if (dry && !streq(dry, "All"))
                return api_reply_bad_request(
                    resp, "dryRun: Unsupported value: \"%s\": supported values: \"All\"", dry);
        items = cJSON_GetObjectItemCaseSensitive(body, "items");
        if (!cJSON_IsArray(items) || (json_str(body, "kind") && !streq(json_str(body, "kind"), "List")))
                return api_reply_bad_request(resp, "the request body must be a List with an items array");

        c.causes = cJSON_CreateArray();
        c.message = open_memstream(&c.buf, &c.size);
        if (!results || !c.causes || !c.message)
                return -ENOMEM;
        cJSON_ArrayForEach (item, items) {
                r = check_item(req, &c, items, i++, item, resp);
                if (r < 0)
                        return r;
        }
        if (c.failed)
                return reply_invalid(resp, &c);

        r = apply_items(req, items, dry != NULL, results);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        if (!out || json_set_string(out, "kind", "ApplyResult") < 0 ||
            json_set_string(out, "apiVersion", "berth.dev/v1") < 0 ||
            json_set(out, "items", TAKE_PTR(results)) < 0)
                return -ENOMEM;
        return api_reply_json(resp, MHD_HTTP_OK, out);
}
