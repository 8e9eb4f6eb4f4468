/* The manifest module's front: the table of kinds berth knows (REST names, scope), the
 * per-kind hooks (defaults, validation, update validation, schema), the generic checks
 * every object gets (apiVersion, kind, metadata), unknown-field warnings walking the
 * schemas, and "file:line: path: message" formatting of field errors. */
#include <ctype.h>
#include <strings.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"

static const KindInfo kinds[] = {
    {"Pod", "v1", "", "pods", "pod", "po", true},
    {"Service", "v1", "", "services", "service", "svc", true},
    {"ConfigMap", "v1", "", "configmaps", "configmap", "cm", true},
    {"Secret", "v1", "", "secrets", "secret", NULL, true},
    {"PersistentVolumeClaim", "v1", "", "persistentvolumeclaims", "persistentvolumeclaim", "pvc", true},
    {"PersistentVolume", "v1", "", "persistentvolumes", "persistentvolume", "pv", false},
    {"StorageClass", "storage.k8s.io/v1", "storage.k8s.io", "storageclasses", "storageclass", "sc", false},
    {"Event", "v1", "", "events", "event", "ev", true},
    {"Job", "batch/v1", "batch", "jobs", "job", NULL, true},
    {"CronJob", "batch/v1", "batch", "cronjobs", "cronjob", "cj", true},
    {"StatefulSet", "apps/v1", "apps", "statefulsets", "statefulset", "sts", true},
    {"DaemonSet", "apps/v1", "apps", "daemonsets", "daemonset", "ds", true},
    {"Node", "v1", "", "nodes", "node", "no", false},
    {"ControllerRevision", "apps/v1", "apps", "controllerrevisions", "controllerrevision", NULL, true},
};

static const KindHooks hooks[] = {
    {"Pod", pod_set_defaults, pod_validate, pod_validate_update, &schema_pod},
    {"Service", service_set_defaults, service_validate, NULL, &schema_service},
    {"ConfigMap", NULL, configmap_validate, NULL, &schema_configmap},
    {"Secret", secret_set_defaults, secret_validate, NULL, &schema_secret},
    {"PersistentVolumeClaim", pvc_set_defaults, pvc_validate, pvc_validate_update, &schema_pvc},
    {"Job", job_set_defaults, job_validate, job_validate_update, &schema_job},
    {"CronJob", cronjob_set_defaults, cronjob_validate, NULL, &schema_cronjob},
    {"StatefulSet", statefulset_set_defaults, statefulset_validate, statefulset_validate_update,
     &schema_statefulset},
    {"DaemonSet", daemonset_set_defaults, daemonset_validate, daemonset_validate_update, &schema_daemonset},
};

const KindInfo *kind_table(size_t *ret_n)
{
        if (ret_n)
                *ret_n = ELEMENTSOF(kinds);
        return kinds;
}

const KindInfo *kind_by_kind(const char *kind)
{
        for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].kind, kind))
                        return &kinds[i];
        return NULL;
}

const KindInfo *kind_by_plural(const char *group, const char *plural)
{
        for (size_t i = 0; plural && i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].plural, plural) && (!group || streq(kinds[i].group, group)))
                        return &kinds[i];
        return NULL;
}

static bool names_kind(const KindInfo *k, const char *name, size_t n)
{
        const char *names[] = {k->kind, k->plural, k->singular, k->short_name};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i] && strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
                        return true;
        return false;
}

/* "jobs", "Job", "cj", "jobs.batch", "jobs.v1.batch", "pods.core" (case-insensitive). */
const KindInfo *kind_lookup(const char *name)
{
        const char *dot = name ? strchr(name, '.') : NULL, *group = NULL;
        size_t n;

        if (isempty(name))
                return NULL;
        n = dot ? (size_t)(dot - name) : strlen(name);
        if (dot) {
                const char *second = strchr(dot + 1, '.');

                /* "<resource>.<version>.<group>" when the segment after the name is a version
                 * ("v1", "v1beta1"), else "<resource>.<group>" ("storageclasses.storage.k8s.io") */
                group = second && dot[1] == 'v' && isdigit((unsigned char)dot[2]) &&
                                strspn(dot + 1, "abcdefghijklmnopqrstuvwxyz0123456789") ==
                                    (size_t)(second - dot - 1)
                            ? second + 1
                            : dot + 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                if (!names_kind(&kinds[i], name, n))
                        continue;
                if (!group || strcasecmp(group, kinds[i].group) == 0 ||
                    (!kinds[i].group[0] && strcasecmp(group, "core") == 0))
                        return &kinds[i];
        }
        return NULL;
}

const KindHooks *kind_hooks(const char *kind)
{
        for (size_t i = 0; kind && i < ELEMENTSOF(hooks); i++)
                if (streq(hooks[i].kind, kind))
                        return &hooks[i];
        return NULL;
}

const SchemaNode *schema_for_kind(const char *kind)
{
        const KindHooks *h = kind_hooks(kind);

        return h ? h->schema : NULL;
}

int manifest_default(cJSON *obj)
{
        const KindHooks *h = kind_hooks(json_str(obj, "kind"));

        if (!h || !h->set_defaults)
                return 0;
        return h->set_defaults(obj);
}

static int result(const FieldErrors *errs, size_t before)
{
        return errs->oom ? -ENOMEM : (int)(errs->n - before);
}

/* apiVersion and kind: known kind, served version. Returns the kind's entry or NULL. */
static const KindInfo *validate_type_meta(const cJSON *obj, FieldErrors *errs)
{
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
        const KindInfo *k;

        if (!cJSON_IsString(kind) || !kind->valuestring[0]) {
                field_error_add(errs, FIELD_ERROR_REQUIRED, "kind", NULL, NULL);
                return NULL;
        }
        k = kind_by_kind(kind->valuestring);
        if (!k) {
                field_error_add(errs, FIELD_ERROR_INVALID, "kind", kind,
                                "no matches for kind \"%s\" in version \"%s\"", kind->valuestring,
                                cJSON_IsString(av) ? av->valuestring : "");
                return NULL;
        }
        if (!cJSON_IsString(av) || !av->valuestring[0]) {
                field_error_add(errs, FIELD_ERROR_REQUIRED, "apiVersion", NULL, NULL);
                return NULL;
        }
        if (!streq(av->valuestring, k->api_version)) {
                const char *const supported[] = {k->api_version, NULL};

                field_error_not_supported(errs, "apiVersion", av, supported);
                return NULL;
        }
        return k;
}

int manifest_validate(const cJSON *obj, FieldErrors *errs)
{
        size_t before = errs->n;
        const KindInfo *k;
        const KindHooks *h;

        if (!cJSON_IsObject(obj)) {
                field_error_add(errs, FIELD_ERROR_INVALID, "", obj, "must be an object");
                return result(errs, before);
        }
        k = validate_type_meta(obj, errs);
        if (!k)
                return result(errs, before);
        validate_object_meta(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), k->namespaced, false,
                             "metadata", errs);
        h = kind_hooks(k->kind);
        if (h && h->validate)
                h->validate(obj, errs);
        return result(errs, before);
}

static void immutable(const cJSON *n, const cJSON *o, const char *field, const char *path, FieldErrors *errs)
{
        const cJSON *nv = cJSON_GetObjectItemCaseSensitive(n, field),
                    *ov = cJSON_GetObjectItemCaseSensitive(o, field);

        if (!ov || cJSON_IsNull(ov))
                return;
        if (!nv || !cJSON_Compare(nv, ov, true))
                field_error_add(errs, FIELD_ERROR_INVALID, path, nv, "field is immutable");
}

int manifest_validate_update(const cJSON *new_obj, const cJSON *old_obj, FieldErrors *errs)
{
        size_t before = errs->n;
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(new_obj, "metadata");
        const cJSON *om = cJSON_GetObjectItemCaseSensitive(old_obj, "metadata");
        const KindHooks *h;

        immutable(new_obj, old_obj, "kind", "kind", errs);
        immutable(nm, om, "name", "metadata.name", errs);
        immutable(nm, om, "namespace", "metadata.namespace", errs);
        immutable(nm, om, "uid", "metadata.uid", errs);
        h = kind_hooks(json_str(new_obj, "kind"));
        if (h && h->validate_update && errs->n == before)
                h->validate_update(new_obj, old_obj, errs);
        return result(errs, before);
}

static const SchemaField *schema_field(const SchemaNode *node, const char *name)
{
        for (const SchemaField *f = node->fields; f && f->name; f++)
                if (streq(f->name, name))
                        return f;
        return NULL;
}

static void walk(const SchemaNode *node, const cJSON *j, const char *path, FieldErrors *w)
{
        const cJSON *c;
        size_t i = 0;

        if (!node || node->type == SCHEMA_ANY)
                return;
        if (node->type == SCHEMA_LIST && cJSON_IsArray(j)) {
                cJSON_ArrayForEach (c, j) {
                        _cleanup_free_ char *p = field_path_index(path, i++);

                        walk(node->items, c, p, w);
                }
        } else if (node->type == SCHEMA_MAP && cJSON_IsObject(j) && node->items) {
                cJSON_ArrayForEach (c, j) {
                        _cleanup_free_ char *p = field_path_child(path, c->string);

                        walk(node->items, c, p, w);
                }
        } else if (node->type == SCHEMA_OBJECT && cJSON_IsObject(j)) {
                cJSON_ArrayForEach (c, j) {
                        const SchemaField *f = schema_field(node, c->string);
                        _cleanup_free_ char *p = field_path_child(path, c->string);

                        if (!p)
                                w->oom = true;
                        else if (!f)
                                field_error_add(w, FIELD_ERROR_WARNING, p, NULL, "unknown field \"%s\"", p);
                        else
                                walk(f->node, c, p, w);
                }
        }
}

int manifest_unknown_fields(const cJSON *obj, FieldErrors *warnings)
{
        size_t before = warnings->n;

        walk(schema_for_kind(json_str(obj, "kind")), obj, "", warnings);
        return result(warnings, before);
}

char *manifest_format_errors(const ManifestDoc *doc, const FieldErrors *errs)
{
        const char *source = manifest_doc_source(doc) ?: "-";
        _cleanup_free_ char *out = strdup("");

        for (size_t i = 0; out && i < errs->n; i++) {
                _cleanup_free_ char *msg = field_error_format(&errs->items[i]), *line = NULL;
                char *n;

                if (!msg ||
                    asprintf_safe(&line, "%s:%u: %s%s", source, manifest_doc_line(doc, errs->items[i].path),
                                  errs->items[i].type == FIELD_ERROR_WARNING ? "warning: " : "", msg) < 0)
                        return NULL;
                n = strjoin(out, i > 0 ? "\n" : "", line, NULL);
                free(out);
                out = n;
        }
        return TAKE_PTR(out);
}

/* What the server keeps when a user replaces an object (kubectl apply, PUT). */
int manifest_inherit_server_fields(cJSON *obj, const cJSON *old, bool with_version)
{
        static const char *const keep[] = {"creationTimestamp", "deletionTimestamp",
                                           "deletionGracePeriodSeconds", "generation"};
        const cJSON *om = cJSON_GetObjectItemCaseSensitive(old, "metadata");
        cJSON *meta = json_ensure_object(obj, "metadata");
        const cJSON *v;

        if (!meta)
                return -ENOMEM;
        if (!json_str(meta, "uid") && (v = cJSON_GetObjectItemCaseSensitive(om, "uid")) &&
            json_set(meta, "uid", cJSON_Duplicate(v, true)) < 0)
                return -ENOMEM;
        if (with_version && !json_str(meta, "resourceVersion") &&
            (v = cJSON_GetObjectItemCaseSensitive(om, "resourceVersion")) &&
            json_set(meta, "resourceVersion", cJSON_Duplicate(v, true)) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                v = cJSON_GetObjectItemCaseSensitive(om, keep[i]);
                if (v) {
                        if (json_set(meta, keep[i], cJSON_Duplicate(v, true)) < 0)
                                return -ENOMEM;
                } else
                        cJSON_DeleteItemFromObjectCaseSensitive(meta, keep[i]);
        }
        /* the scheduler's (here: the agent's) binding is not the user's to undo */
        if (streq_ptr(json_str(obj, "kind"), "Pod") && isempty(json_str(obj, "spec.nodeName")) &&
            !isempty(json_str(old, "spec.nodeName"))) {
                cJSON *spec = json_ensure_object(obj, "spec");
                if (!spec || json_set_string(spec, "nodeName", json_str(old, "spec.nodeName")) < 0)
                        return -ENOMEM;
        }
        /* nor is the binding of a claim to its volume, nor the class it was given */
        if (streq_ptr(json_str(obj, "kind"), "PersistentVolumeClaim"))
                for (const char *const *f = (const char *const[]){"volumeName", "storageClassName", NULL};
                     *f; f++) {
                        const cJSON *ov = cJSON_GetObjectItemCaseSensitive(json_path(old, "spec"), *f);
                        cJSON *spec = json_ensure_object(obj, "spec");

                        if (!spec)
                                return -ENOMEM;
                        if (cJSON_IsString(ov) && !cJSON_GetObjectItemCaseSensitive(spec, *f) &&
                            json_set_string(spec, *f, ov->valuestring) < 0)
                                return -ENOMEM;
                }
        return 0;
}

char *manifest_object_key(const cJSON *obj)
{
        const char *ns = json_str(obj, "metadata.namespace");
        const KindInfo *k = kind_by_kind(json_str(obj, "kind") ?: "");

        if (k && k->namespaced && isempty(ns))
                ns = "default";
        return strjoin(json_str(obj, "kind") ?: "", "/", ns ?: "", "/", json_str(obj, "metadata.name") ?: "",
                       NULL);
}
