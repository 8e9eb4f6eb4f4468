/* Pod: defaults (SetDefaults_PodSpec, SetDefaults_Volume ...), create and update
 * validation of pods and pod templates (pkg/apis/core/validation ValidatePodSpec,
 * ValidatePodUpdate): pod-level fields and volumes here, containers in pod-container.c. */
#include <math.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "pod-internal.h"
#include "util.h"

#define FILE_MODE_MSG "must be a number between 0 and 0777 (octal), both inclusive"
#define POD_UPDATE_MSG                                                                                      \
        "pod updates may not change fields other than `spec.containers[*].image`,"                          \
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "   \
        "to "                                                                                               \
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "    \
        "previously negative)"

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None",
                                           NULL};
static const char *const host_path_types[] = {
    "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
    "File", "FileOrCreate", "Socket",     NULL};
static const char *const storage_media[] = {"", "Memory", "HugePages", NULL};
static const char *const toleration_ops[] = {"Equal", "Exists", NULL};
static const char *const taint_effects[] = {"NoExecute", "NoSchedule", "PreferNoSchedule", NULL};
/* Volume sources berth can provide, and the other sources of the API (refused). */
static const char *const volume_sources[] = {
    "emptyDir",  "hostPath",    "configMap", "secret", "persistentVolumeClaim",
    "projected", "downwardAPI", NULL};
static const char *const other_volume_sources[] = {"nfs",
                                                   "iscsi",
                                                   "glusterfs",
                                                   "rbd",
                                                   "flexVolume",
                                                   "cinder",
                                                   "cephfs",
                                                   "flocker",
                                                   "fc",
                                                   "azureFile",
                                                   "azureDisk",
                                                   "vsphereVolume",
                                                   "quobyte",
                                                   "photonPersistentDisk",
                                                   "portworxVolume",
                                                   "scaleIO",
                                                   "storageos",
                                                   "csi",
                                                   "ephemeral",
                                                   "image",
                                                   "gcePersistentDisk",
                                                   "awsElasticBlockStore",
                                                   "gitRepo",
                                                   NULL};

static cJSON *get(const cJSON *o, const char *k)
{
        return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool unset(const cJSON *o, const char *k)
{
        const cJSON *v = get(o, k);

        return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]);
}

/* --- defaults --- */

static int volume_set_defaults(cJSON *v)
{
        static const char *const moded[] = {"secret", "configMap", "downwardAPI", "projected"};
        bool any = false;

        if (!cJSON_IsObject(v))
                return 0;
        for (size_t i = 0; volume_sources[i]; i++)
                any = any || !unset(v, volume_sources[i]);
        for (size_t i = 0; other_volume_sources[i]; i++)
                any = any || !unset(v, other_volume_sources[i]);
        /* SetDefaults_Volume: a volume without a source is an emptyDir. */
        if (!any)
                return json_set(v, "emptyDir", cJSON_CreateObject());
        for (size_t i = 0; i < ELEMENTSOF(moded); i++) {
                cJSON *src = get(v, moded[i]);

                if (cJSON_IsObject(src) && unset(src, "defaultMode") &&
                    json_set_int(src, "defaultMode", 0644) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int pod_spec_set_defaults(cJSON *spec)
{
        static const char *const lists[] = {"initContainers", "containers"};
        cJSON *c;
        int r;

        if (!cJSON_IsObject(spec))
                return 0;
        if (unset(spec, "restartPolicy") && json_set_string(spec, "restartPolicy", "Always") < 0)
                return -ENOMEM;
        if (unset(spec, "terminationGracePeriodSeconds") &&
            json_set_int(spec, "terminationGracePeriodSeconds", 30) < 0)
                return -ENOMEM;
        if (unset(spec, "dnsPolicy") && json_set_string(spec, "dnsPolicy", "ClusterFirst") < 0)
                return -ENOMEM;
        if (unset(spec, "schedulerName") && json_set_string(spec, "schedulerName", "default-scheduler") < 0)
                return -ENOMEM;
        if (unset(spec, "securityContext") && json_set(spec, "securityContext", cJSON_CreateObject()) < 0)
                return -ENOMEM;
        if (unset(spec, "enableServiceLinks") && json_set_bool(spec, "enableServiceLinks", true) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                cJSON_ArrayForEach (c, (cJSON_IsArray(get(spec, lists[i])) ? get(spec, lists[i]) : NULL)) {
                        r = pod_container_set_defaults(c);
                        if (r < 0)
                                return r;
                }
        cJSON_ArrayForEach (c, (cJSON_IsArray(get(spec, "volumes")) ? get(spec, "volumes") : NULL)) {
                r = volume_set_defaults(c);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_set_defaults(cJSON *obj)
{
        cJSON *spec;

        if (!cJSON_IsObject(obj))
                return 0;
        spec = get(obj, "spec");
        if (!spec || cJSON_IsNull(spec)) {
                spec = json_ensure_object(obj, "spec");
                if (!spec)
                        return -ENOMEM;
        }
        return pod_spec_set_defaults(spec);
}

/* --- volumes --- */

static void validate_key_to_paths(const cJSON *src, const char *path, FieldErrors *e)
{
        const cJSON *items = get(src, "items"), *it, *mode = get(src, "defaultMode");
        _cleanup_free_ char *ip = pod_path(path, "items"), *mp = pod_path(path, "defaultMode");
        size_t i = 0;

        if (cJSON_IsNumber(mode) && (mode->valuedouble < 0 || mode->valuedouble > 0777))
                field_error_add(e, FIELD_ERROR_INVALID, mp, mode, FILE_MODE_MSG);
        else
                validate_type_int(src, "defaultMode", path, e);
        cJSON_ArrayForEach (it, (cJSON_IsArray(items) ? items : NULL)) {
                _cleanup_free_ char *p = field_path_index(ip, i++), *kp = pod_path(p, "key"),
                                    *pp = pod_path(p, "path");
                const char *rel = json_str(it, "path");

                if (unset(it, "key") && !get(it, "fieldRef"))
                        field_error_add(e, FIELD_ERROR_REQUIRED, kp, NULL, NULL);
                if (!rel || !rel[0])
                        field_error_add(e, FIELD_ERROR_REQUIRED, pp, NULL, NULL);
                else if (rel[0] == '/')
                        field_error_add_str(e, FIELD_ERROR_INVALID, pp, rel, "must be a relative path");
                else if (streq(rel, "..") || startswith(rel, "../") || strstr(rel, "/../") ||
                         endswith(rel, "/.."))
                        field_error_add_str(e, FIELD_ERROR_INVALID, pp, rel, "must not contain '..'");
        }
}

static void validate_volume_source(const cJSON *v, const char *src_name, const char *path, FieldErrors *e)
{
        const cJSON *src = get(v, src_name);
        _cleanup_free_ char *sp = pod_path(path, src_name);

        if (!cJSON_IsObject(src)) {
                field_error_add(e, FIELD_ERROR_INVALID, sp, src, "must be an object");
                return;
        }
        if (streq(src_name, "hostPath")) {
                _cleanup_free_ char *pp = pod_path(sp, "path");

                if (unset(src, "path"))
                        field_error_add(e, FIELD_ERROR_REQUIRED, pp, NULL, NULL);
                if (get(src, "type") && !cJSON_IsNull(get(src, "type")))
                        validate_enum(src, "type", sp, host_path_types, false, e);
        } else if (streq(src_name, "emptyDir")) {
                _cleanup_free_ char *lp = pod_path(sp, "sizeLimit");
                int64_t q;

                if (!unset(src, "medium"))
                        validate_enum(src, "medium", sp, storage_media, false, e);
                if (get(src, "sizeLimit") && quantity_from_json(get(src, "sizeLimit"), &q) < 0)
                        field_error_add(e, FIELD_ERROR_INVALID, lp, get(src, "sizeLimit"),
                                        "must be a valid quantity");
        } else if (streq(src_name, "configMap") || streq(src_name, "secret")) {
                const char *nf = streq(src_name, "secret") ? "secretName" : "name";
                _cleanup_free_ char *np = pod_path(sp, nf);

                if (unset(src, nf))
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
                validate_key_to_paths(src, sp, e);
        } else if (streq(src_name, "persistentVolumeClaim")) {
                _cleanup_free_ char *cp = pod_path(sp, "claimName");

                if (unset(src, "claimName"))
                        field_error_add(e, FIELD_ERROR_REQUIRED, cp, NULL, NULL);
        } else if (streq(src_name, "downwardAPI"))
                validate_key_to_paths(src, sp, e);
        else if (streq(src_name, "projected")) {
                _cleanup_free_ char *pp = pod_path(sp, "sources");

                if (!cJSON_IsArray(get(src, "sources")))
                        field_error_add(e, FIELD_ERROR_REQUIRED, pp, NULL, NULL);
                validate_key_to_paths(src, sp, e);
        }
}

/* Validates spec.volumes; returns the list of valid names for the volume mounts. */
static cJSON *validate_volumes(const cJSON *spec, const char *spec_path, FieldErrors *e)
{
        const cJSON *vols = get(spec, "volumes"), *v;
        cJSON *names = cJSON_CreateArray();
        _cleanup_free_ char *vp = pod_path(spec_path, "volumes");
        size_t i = 0;

        if (!names) {
                e->oom = true;
                return NULL;
        }
        if (vols && !cJSON_IsNull(vols) && !cJSON_IsArray(vols))
                field_error_add(e, FIELD_ERROR_INVALID, vp, vols, "must be a list");
        cJSON_ArrayForEach (v, (cJSON_IsArray(vols) ? vols : NULL)) {
                _cleanup_free_ char *p = field_path_index(vp, i++), *np = pod_path(p, "name");
                const char *name = json_str(v, "name"), *first = NULL;

                if (!name || !name[0])
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
                else if (!is_dns1123_label(name))
                        validate_dns1123_label(name, np, e);
                else {
                        const cJSON *n;
                        bool dup = false;

                        cJSON_ArrayForEach (n, names)
                                dup = dup || streq(n->valuestring, name);
                        if (dup)
                                field_error_add_str(e, FIELD_ERROR_DUPLICATE, np, name, NULL);
                        else
                                cJSON_AddItemToArray(names, cJSON_CreateString(name));
                }
                for (size_t k = 0; volume_sources[k]; k++) {
                        _cleanup_free_ char *sp = pod_path(p, volume_sources[k]);

                        if (unset(v, volume_sources[k]))
                                continue;
                        if (first)
                                field_error_add(e, FIELD_ERROR_FORBIDDEN, sp, NULL,
                                                "may not specify more than 1 volume type");
                        else {
                                first = volume_sources[k];
                                validate_volume_source(v, first, p, e);
                        }
                }
                for (size_t k = 0; !first && other_volume_sources[k]; k++) {
                        _cleanup_free_ char *sp = pod_path(p, other_volume_sources[k]);

                        if (!unset(v, other_volume_sources[k])) {
                                field_error_add(e, FIELD_ERROR_FORBIDDEN, sp, NULL,
                                                "volume type not supported by berth");
                                first = other_volume_sources[k];
                        }
                }
                if (!first)
                        field_error_add(e, FIELD_ERROR_REQUIRED, p, NULL, "must specify a volume type");
        }
        return names;
}

/* --- pod spec --- */

static void validate_tolerations(const cJSON *spec, const char *spec_path, FieldErrors *e)
{
        const cJSON *tols = get(spec, "tolerations"), *t;
        _cleanup_free_ char *tp = pod_path(spec_path, "tolerations");
        size_t i = 0;

        cJSON_ArrayForEach (t, (cJSON_IsArray(tols) ? tols : NULL)) {
                _cleanup_free_ char *p = field_path_index(tp, i++), *kp = pod_path(p, "key"),
                                    *op_p = pod_path(p, "operator");
                const char *key = json_str(t, "key"), *op;

                if (key && key[0])
                        validate_qualified_name(key, kp, e);
                op = validate_enum(t, "operator", p, toleration_ops, false, e);
                if (op && streq(op, "Exists") && !unset(t, "value"))
                        field_error_add(e, FIELD_ERROR_INVALID, op_p, get(t, "operator"),
                                        "value must be empty when `operator` is 'Exists'");
                if ((!key || !key[0]) && (!op || !streq(op, "Exists")) && get(t, "operator"))
                        field_error_add(
                            e, FIELD_ERROR_INVALID, op_p, get(t, "operator"),
                            "operator must be Exists when `key` is empty, which means \"match all "
                            "values and all keys\"");
                if (!unset(t, "effect"))
                        validate_enum(t, "effect", p, taint_effects, false, e);
        }
}

static void validate_spec(const cJSON *spec, const char *path, const char *const *allowed_restart,
                          FieldErrors *e)
{
        static const char *const bools[] = {"hostNetwork",
                                            "hostPID",
                                            "hostIPC",
                                            "automountServiceAccountToken",
                                            "enableServiceLinks",
                                            "shareProcessNamespace"};
        _cleanup_json_ cJSON *volume_names = NULL;
        const cJSON *ads = get(spec, "activeDeadlineSeconds");
        _cleanup_free_ char *ap = pod_path(path, "activeDeadlineSeconds"),
                            *nsp = pod_path(path, "nodeSelector"), *scp = pod_path(path, "securityContext"),
                            *sap = pod_path(path, "serviceAccountName"), *hp = pod_path(path, "hostname");
        const char *s;

        if (!cJSON_IsObject(spec)) {
                if (spec && !cJSON_IsNull(spec))
                        field_error_add(e, FIELD_ERROR_INVALID, path, spec, "must be an object");
                else
                        field_error_add(e, FIELD_ERROR_REQUIRED, path, NULL, NULL);
                return;
        }
        volume_names = validate_volumes(spec, path, e);
        pod_containers_validate(spec, path, volume_names, e);
        validate_enum(spec, "restartPolicy", path, allowed_restart ? allowed_restart : restart_policies,
                      true, e);
        validate_enum(spec, "dnsPolicy", path, dns_policies, true, e);
        validate_nonnegative(spec, "terminationGracePeriodSeconds", path, e);
        if (validate_type_int(spec, "activeDeadlineSeconds", path, e) && cJSON_IsNumber(ads) &&
            (ads->valuedouble < 1 || ads->valuedouble > 2147483647))
                field_error_add(e, FIELD_ERROR_INVALID, ap, ads,
                                "must be between 1 and 2147483647, inclusive");
        validate_labels(get(spec, "nodeSelector"), nsp, e);
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                validate_type_bool(spec, bools[i], path, e);
        pod_validate_security_context(get(spec, "securityContext"), scp, e);
        s = json_str(spec, "serviceAccountName");
        if (s && s[0])
                validate_dns1123_subdomain(s, sap, e);
        s = json_str(spec, "hostname");
        if (s && s[0])
                validate_dns1123_label(s, hp, e);
        validate_tolerations(spec, path, e);
}

void pod_spec_validate(const cJSON *spec, const char *path, FieldErrors *e)
{
        validate_spec(spec, path, NULL, e);
}

/* Like every kind's validate hook, the spec only: manifest_validate() checks metadata. */
void pod_validate(const cJSON *obj, FieldErrors *e)
{
        validate_spec(get(obj, "spec"), "spec", NULL, e);
}

void pod_template_validate(const cJSON *tmpl, const char *path, const char *const *allowed_restart,
                           FieldErrors *e)
{
        const cJSON *meta = get(tmpl, "metadata");
        _cleanup_free_ char *mp = pod_path(path, "metadata"), *lp = pod_path(mp, "labels"),
                            *sp = pod_path(path, "spec");

        if (!cJSON_IsObject(tmpl)) {
                if (tmpl && !cJSON_IsNull(tmpl))
                        field_error_add(e, FIELD_ERROR_INVALID, path, tmpl, "must be an object");
                else
                        field_error_add(e, FIELD_ERROR_REQUIRED, path, NULL, NULL);
                return;
        }
        if (meta && !cJSON_IsNull(meta) && !cJSON_IsObject(meta))
                field_error_add(e, FIELD_ERROR_INVALID, mp, meta, "must be an object");
        validate_labels(get(meta, "labels"), lp, e);
        validate_spec(get(tmpl, "spec"), sp, allowed_restart, e);
}

/* --- updates --- */

static bool toleration_listed(const cJSON *list, const cJSON *t)
{
        const cJSON *i;

        cJSON_ArrayForEach (i, list) {
                if (cJSON_Compare(i, t, true))
                        return true;
        }
        return false;
}

/* ValidatePodUpdate: the old spec with the mutable fields taken from the new one must equal
 * the new spec. (metadata immutability is checked for every kind by manifest.c.) */
void pod_validate_update(const cJSON *new_obj, const cJSON *old_obj, FieldErrors *e)
{
        static const char *const lists[] = {"containers", "initContainers"};
        const cJSON *ns = get(new_obj, "spec"), *os = get(old_obj, "spec"), *t;
        const cJSON *nad = get(ns, "activeDeadlineSeconds"), *oad = get(os, "activeDeadlineSeconds");
        _cleanup_json_ cJSON *mixed = cJSON_Duplicate(os, true);
        bool additions = true;

        if (!cJSON_IsObject(ns) || !cJSON_IsObject(os))
                return;
        if (!mixed) {
                e->oom = true;
                return;
        }
        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                cJSON *oc = get(mixed, lists[l]), *c;
                const cJSON *nc = get(ns, lists[l]);
                int i = 0;

                cJSON_ArrayForEach (c, (cJSON_IsArray(oc) && cJSON_IsArray(nc) ? oc : NULL)) {
                        const cJSON *img = get(cJSON_GetArrayItem(nc, i++), "image");

                        if (cJSON_IsObject(c) && img)
                                json_set(c, "image", cJSON_Duplicate(img, true));
                }
        }
        if (cJSON_IsNumber(oad) && !cJSON_IsNumber(nad))
                field_error_add(e, FIELD_ERROR_INVALID, "spec.activeDeadlineSeconds", nad,
                                "must not update from a positive integer to nil value");
        else if (cJSON_IsNumber(oad) && nad->valuedouble > oad->valuedouble)
                field_error_add(e, FIELD_ERROR_INVALID, "spec.activeDeadlineSeconds", nad,
                                "must be less than or equal to previous value");
        cJSON_DeleteItemFromObjectCaseSensitive(mixed, "activeDeadlineSeconds");
        if (nad)
                json_set(mixed, "activeDeadlineSeconds", cJSON_Duplicate(nad, true));
        cJSON_ArrayForEach (t, get(os, "tolerations"))
                additions = additions && toleration_listed(get(ns, "tolerations"), t);
        if (additions) {
                cJSON_DeleteItemFromObjectCaseSensitive(mixed, "tolerations");
                if (get(ns, "tolerations"))
                        json_set(mixed, "tolerations", cJSON_Duplicate(get(ns, "tolerations"), true));
        }
        if (json_int(os, "terminationGracePeriodSeconds", 0) < 0 &&
            json_int(ns, "terminationGracePeriodSeconds", 0) == 1)
                json_set_int(mixed, "terminationGracePeriodSeconds", 1);
        if (!cJSON_Compare(mixed, ns, true))
                field_error_add(e, FIELD_ERROR_FORBIDDEN, "spec", NULL, "%s", POD_UPDATE_MSG);
}
