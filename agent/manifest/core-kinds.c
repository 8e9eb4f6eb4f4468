/* Core v1 kinds besides Pod: Service (ports, type, defaults), ConfigMap and Secret (keys,
 * sizes, base64 payloads, typed secrets, stringData merged on defaulting) and
 * PersistentVolumeClaim (access modes, storage request, growth-only updates). */
#include <math.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"
#include "workloads.h"

#define MAX_SECRET_SIZE (1024 * 1024)
#define CONFIG_KEY_MSG                                                                                      \
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "   \
        "or "                                                                                               \
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
#define QUANTITY_MSG                                                                                        \
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

static const cJSON *get(const cJSON *obj, const char *field)
{
        const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;

        return v && !cJSON_IsNull(v) ? v : NULL;
}

/* ------------------------------------------------------------------ Service */

static bool is_headless(const cJSON *spec)
{
        const char *ip = json_str(spec, "clusterIP");

        return ip && streq(ip, "None");
}

static void validate_service_port(const cJSON *port, const char *pp, bool require_name, FieldErrors *e)
{
        static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
        const cJSON *name = get(port, "name"), *tp = get(port, "targetPort");
        _cleanup_free_ char *np = field_path_append(e, pp, ".name"),
                            *portp = field_path_append(e, pp, ".port"),
                            *tpp = field_path_append(e, pp, ".targetPort"),
                            *protp = field_path_append(e, pp, ".protocol");

        if (!np || !portp || !tpp || !protp)
                return;
        if (!cJSON_IsObject(port)) {
                field_error_add(e, FIELD_ERROR_INVALID, pp, port, "must be an object");
                return;
        }
        if (validate_type_string(port, "name", pp, e)) {
                if (require_name && (!name || !name->valuestring[0]))
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
                else if (name && name->valuestring[0])
                        validate_dns1123_label(name->valuestring, np, e);
        }
        validate_port_number(get(port, "port"), portp, e);
        if (!get(port, "protocol") ||
            (cJSON_IsString(get(port, "protocol")) && !json_str(port, "protocol")[0]))
                field_error_add(e, FIELD_ERROR_REQUIRED, protp, NULL, NULL);
        else
                validate_enum(port, "protocol", pp, protocols, true, e);
        if (cJSON_IsString(tp))
                validate_port_name(tp->valuestring, tpp, e);
        else if (tp)
                validate_port_number(tp, tpp, e);
}

static void validate_service_ports(const cJSON *spec, const char *type, FieldErrors *e)
{
        const cJSON *ports = get(spec, "ports"), *port, *other;
        int n = cJSON_IsArray(ports) ? cJSON_GetArraySize(ports) : 0;
        size_t i = 0;

        if (ports && !cJSON_IsArray(ports)) {
                field_error_add(e, FIELD_ERROR_INVALID, "spec.ports", ports, "must be a list");
                return;
        }
        if (n == 0 && !is_headless(spec) && !streq(type, "ExternalName"))
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.ports", NULL, NULL);
        cJSON_ArrayForEach (port, ports) {
                _cleanup_free_ char *pp = field_path_index("spec.ports", i++);
                _cleanup_free_ char *np = field_path_append(e, pp, ".name"),
                                    *npp = field_path_append(e, pp, ".nodePort");
                const char *name = json_str(port, "name");

                if (!np || !npp) {
                        e->oom = true;
                        return;
                }
                validate_service_port(port, pp, n > 1, e);
                if (get(port, "nodePort") && streq(type, "ClusterIP"))
                        field_error_add(e, FIELD_ERROR_FORBIDDEN, npp, NULL,
                                        "may not be used when `type` is 'ClusterIP'");
                cJSON_ArrayForEach (other, ports) {
                        const char *on = json_str(other, "name");

                        if (other == port)
                                break;
                        if (!isempty(name) && on && streq(name, on))
                                field_error_add(e, FIELD_ERROR_DUPLICATE, np, get(port, "name"), NULL);
                        if (cJSON_Compare(get(port, "port"), get(other, "port"), true) &&
                            cJSON_Compare(get(port, "protocol"), get(other, "protocol"), true))
                                field_error_add(e, FIELD_ERROR_DUPLICATE, pp, port, NULL);
                }
        }
}

void service_validate(const cJSON *obj, FieldErrors *e)
{
        static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort", NULL};
        static const char *const affinities[] = {"ClientIP", "None", NULL};
        const cJSON *spec = get(obj, "spec"), *sel;
        const char *name = json_str(obj, "metadata.name"), *type, *ext;

        /* Service names are DNS-1035 labels; non-subdomains are reported by the metadata check. */
        if (name && !is_dns1035_label(name) && is_dns1123_subdomain(name))
                validate_dns1035_label(name, "metadata.name", e);
        if (!cJSON_IsObject(spec)) {
                field_error_add(e, spec ? FIELD_ERROR_INVALID : FIELD_ERROR_REQUIRED, "spec", spec,
                                spec ? "must be an object" : NULL);
                return;
        }
        type = validate_enum(spec, "type", "spec", types, true, e);
        validate_enum(spec, "sessionAffinity", "spec", affinities, false, e);
        validate_service_ports(spec, type ?: "", e);
        if (type && streq(type, "ExternalName")) {
                ext = json_str(spec, "externalName");
                if (isempty(ext))
                        field_error_add(e, FIELD_ERROR_REQUIRED, "spec.externalName", NULL, NULL);
                else {
                        _cleanup_free_ char *trimmed =
                            strndup(ext, strlen(ext) - (endswith(ext, ".") ? 1 : 0));

                        if (!trimmed)
                                e->oom = true;
                        else
                                validate_dns1123_subdomain(trimmed, "spec.externalName", e);
                }
                if (!isempty(json_str(spec, "clusterIP")))
                        field_error_add(e, FIELD_ERROR_INVALID, "spec.clusterIP", get(spec, "clusterIP"),
                                        "must be empty when `type` is 'ExternalName'");
        } else if (is_headless(spec) && type && !streq(type, "ClusterIP"))
                field_error_add(e, FIELD_ERROR_INVALID, "spec.clusterIP", get(spec, "clusterIP"),
                                "may not be set to 'None' for %s services", type);
        sel = get(spec, "selector");
        if (sel)
                validate_labels(sel, "spec.selector", e);
}

int service_set_defaults(cJSON *obj)
{
        cJSON *spec, *ports, *port;
        const char *type;
        bool oom;
        int r;

        spec = workload_default_object(obj, "spec", &oom);
        if (!spec)
                return oom ? -ENOMEM : 0;
        r = workload_default_string(spec, "sessionAffinity", "None");
        if (r >= 0)
                r = workload_default_string(spec, "type", "ClusterIP");
        if (r < 0)
                return r;
        type = json_str(spec, "type") ?: "";
        ports = cJSON_GetObjectItemCaseSensitive(spec, "ports");
        cJSON_ArrayForEach (port, (cJSON_IsArray(ports) ? ports : NULL)) {
                const cJSON *tp = get(port, "targetPort"), *pn = get(port, "port");

                r = workload_default_string(port, "protocol", "TCP");
                if (r < 0)
                        return r;
                /* targetPort unset, 0 or "" means "same as port". */
                if (cJSON_IsNumber(pn) && cJSON_IsObject(port) && fabs(pn->valuedouble) < 9.2e18 &&
                    (!tp || (cJSON_IsNumber(tp) && tp->valuedouble == 0) ||
                     (cJSON_IsString(tp) && !tp->valuestring[0]))) {
                        r = json_set_int(port, "targetPort", (int64_t)pn->valuedouble);
                        if (r < 0)
                                return r;
                }
        }
        if (streq(type, "NodePort") || streq(type, "LoadBalancer")) {
                r = workload_default_string(spec, "externalTrafficPolicy", "Cluster");
                if (r < 0)
                        return r;
        }
        if (streq(type, "LoadBalancer")) {
                r = workload_default_bool(spec, "allocateLoadBalancerNodePorts", true);
                if (r < 0)
                        return r;
        }
        if (!streq(type, "ExternalName")) {
                r = workload_default_string(spec, "internalTrafficPolicy", "Cluster");
                if (r < 0)
                        return r;
        }
        if (streq(json_str(spec, "sessionAffinity") ?: "", "ClientIP")) {
                cJSON *cfg = workload_default_object(spec, "sessionAffinityConfig", &oom), *cip;

                cip = cfg ? workload_default_object(cfg, "clientIP", &oom) : NULL;
                if (oom)
                        return -ENOMEM;
                r = workload_default_int(cip, "timeoutSeconds", 10800);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------------- ConfigMap / Secret */

/* IsConfigMapKey: one Invalid error per violated rule. */
static void validate_config_key(const char *key, const char *map_path, FieldErrors *e)
{
        _cleanup_free_ char *p = field_path_key(map_path, key);
        size_t n = strlen(key);
        bool charset = n > 0;

        if (!p) {
                e->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (!strchr("-._", key[i]) && !(key[i] >= 'a' && key[i] <= 'z') &&
                    !(key[i] >= 'A' && key[i] <= 'Z') && !(key[i] >= '0' && key[i] <= '9'))
                        charset = false;
        if (n > 253)
                field_error_add_str(e, FIELD_ERROR_INVALID, p, key, "must be no more than 253 characters");
        if (!charset)
                field_error_add_str(e, FIELD_ERROR_INVALID, p, key, CONFIG_KEY_MSG);
        if (streq(key, "."))
                field_error_add_str(e, FIELD_ERROR_INVALID, p, key, "must not be '.'");
        else if (streq(key, ".."))
                field_error_add_str(e, FIELD_ERROR_INVALID, p, key, "must not be '..'");
        else if (startswith(key, ".."))
                field_error_add_str(e, FIELD_ERROR_INVALID, p, key, "must not start with '..'");
}

static int b64_value(char c)
{
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(alphabet, c) : NULL;

        return p ? (int)(p - alphabet) : -1;
}

/* Go's base64.StdEncoding.DecodeString as a check: returns the decoded length, or -1 and
 * the offset of the offending byte. CR and LF are skipped. */
static ssize_t base64_decoded_len(const char *s, size_t *ret_bad)
{
        size_t n = strlen(s), len = 0, q = 0, pad = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\r' || s[i] == '\n')
                        continue;
                if (pad > 0 && s[i] != '=') {
                        *ret_bad = i;
                        return -1;
                }
                if (s[i] == '=') {
                        if (q < 2) {
                                *ret_bad = i;
                                return -1;
                        }
                        pad++;
                } else if (b64_value(s[i]) < 0) {
                        *ret_bad = i;
                        return -1;
                }
                q++;
                if (q == 4) {
                        len += 3 - pad;
                        q = 0;
                        if (pad > 0) {
                                /* Nothing but line breaks may follow the padding. */
                                for (size_t j = i + 1; j < n; j++)
                                        if (s[j] != '\r' && s[j] != '\n') {
                                                *ret_bad = j;
                                                return -1;
                                        }
                                return (ssize_t)len;
                        }
                }
        }
        if (q != 0) {
                *ret_bad = n;
                return -1;
        }
        return (ssize_t)len;
}

static size_t validate_base64_map(const cJSON *map, const char *map_path, FieldErrors *e)
{
        const cJSON *v;
        size_t total = 0;

        cJSON_ArrayForEach (v, map) {
                _cleanup_free_ char *p = field_path_key(map_path, v->string);
                size_t bad = 0;
                ssize_t len;

                if (!p) {
                        e->oom = true;
                        return total;
                }
                validate_config_key(v->string, map_path, e);
                if (!cJSON_IsString(v)) {
                        field_error_add_str(e, FIELD_ERROR_INVALID, p, "<secret contents redacted>",
                                            "must be a base64-encoded string");
                        continue;
                }
                len = base64_decoded_len(v->valuestring, &bad);
                if (len < 0)
                        field_error_add_str(e, FIELD_ERROR_INVALID, p, "<secret contents redacted>",
                                            "illegal base64 data at input byte %zu", bad);
                else
                        total += (size_t)len;
        }
        return total;
}

static bool map_ok(const cJSON *map, const char *path, FieldErrors *e)
{
        if (!map || cJSON_IsObject(map))
                return true;
        field_error_add(e, FIELD_ERROR_INVALID, path, map, "must be a map");
        return false;
}

static void too_long(FieldErrors *e, const char *path)
{
        field_error_add(e, FIELD_ERROR_TOO_LONG, path, NULL, "may not be more than %d bytes",
                        MAX_SECRET_SIZE);
}

void configmap_validate(const cJSON *obj, FieldErrors *e)
{
        const cJSON *data = get(obj, "data"), *bin = get(obj, "binaryData"), *v;
        size_t total = 0;

        if (!map_ok(data, "data", e) || !map_ok(bin, "binaryData", e))
                return;
        validate_type_bool(obj, "immutable", "", e);
        cJSON_ArrayForEach (v, data) {
                _cleanup_free_ char *p = field_path_key("data", v->string);

                if (!p) {
                        e->oom = true;
                        return;
                }
                validate_config_key(v->string, "data", e);
                if (!cJSON_IsString(v))
                        field_error_add(e, FIELD_ERROR_INVALID, p, v, "must be a string");
                else
                        total += strlen(v->valuestring);
                if (cJSON_GetObjectItemCaseSensitive(bin, v->string))
                        field_error_add_str(e, FIELD_ERROR_INVALID, p, v->string,
                                            "duplicate of key present in binaryData");
        }
        total += validate_base64_map(bin, "binaryData", e);
        cJSON_ArrayForEach (v, bin)
                if (cJSON_GetObjectItemCaseSensitive(data, v->string)) {
                        _cleanup_free_ char *p = field_path_key("binaryData", v->string);

                        if (!p) {
                                e->oom = true;
                                return;
                        }
                        field_error_add_str(e, FIELD_ERROR_INVALID, p, v->string,
                                            "duplicate of key present in data");
                }
        if (total > MAX_SECRET_SIZE)
                too_long(e, "");
}

static void require_key(const cJSON *data, const char *key, FieldErrors *e)
{
        _cleanup_free_ char *p = NULL;

        if (cJSON_GetObjectItemCaseSensitive(data, key))
                return;
        p = field_path_key("data", key);
        if (!p) {
                e->oom = true;
                return;
        }
        field_error_add(e, FIELD_ERROR_REQUIRED, p, NULL, NULL);
}

void secret_validate(const cJSON *obj, FieldErrors *e)
{
        const cJSON *data = get(obj, "data");
        const char *type = json_str(obj, "type") ?: "";

        if (!map_ok(data, "data", e) || !validate_type_string(obj, "type", "", e))
                return;
        validate_type_bool(obj, "immutable", "", e);
        if (validate_base64_map(data, "data", e) > MAX_SECRET_SIZE)
                too_long(e, "data");
        if (streq(type, "kubernetes.io/service-account-token")) {
                if (isempty(json_str(get(get(obj, "metadata"), "annotations"),
                                     "kubernetes.io/service-account.name")))
                        field_error_add(e, FIELD_ERROR_REQUIRED,
                                        "metadata.annotations[kubernetes.io/service-account.name]", NULL,
                                        NULL);
        } else if (streq(type, "kubernetes.io/dockercfg"))
                require_key(data, ".dockercfg", e);
        else if (streq(type, "kubernetes.io/dockerconfigjson"))
                require_key(data, ".dockerconfigjson", e);
        else if (streq(type, "kubernetes.io/basic-auth")) {
                if (!get(data, "username") && !get(data, "password")) {
                        require_key(data, "username", e);
                        require_key(data, "password", e);
                }
        } else if (streq(type, "kubernetes.io/ssh-auth")) {
                const char *k = json_str(data, "ssh-privatekey");
                if (isempty(k))
                        field_error_add(e, FIELD_ERROR_REQUIRED, "data[ssh-privatekey]", NULL, NULL);
        } else if (streq(type, "kubernetes.io/tls")) {
                require_key(data, "tls.crt", e);
                require_key(data, "tls.key", e);
        }
}

int secret_set_defaults(cJSON *obj)
{
        cJSON *sd = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, "stringData") : NULL, *v,
              *data;
        bool oom;
        int r;

        r = workload_default_string(obj, "type", "Opaque");
        if (r < 0 || !cJSON_IsObject(sd))
                return r;
        /* stringData is write-only: its keys overwrite data's, base64-encoded. */
        data = workload_default_object(obj, "data", &oom);
        if (!data)
                return oom ? -ENOMEM : 0;
        cJSON_ArrayForEach (v, sd) {
                _cleanup_free_ char *enc = NULL;

                if (!cJSON_IsString(v))
                        return 0; /* left for validation of stringData's type */
                r = base64_encode(v->valuestring, strlen(v->valuestring), &enc);
                if (r >= 0)
                        r = json_set_string(data, v->string, enc);
                if (r < 0)
                        return r;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "stringData");
        return 0;
}

/* ---------------------------------------------------- PersistentVolumeClaim */

void pvc_spec_validate(const cJSON *spec, const char *path, FieldErrors *e)
{
        static const char *const modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                            "ReadWriteOncePod", NULL};
        static const char *const volume_modes[] = {"Block", "Filesystem", NULL};
        const cJSON *am = get(spec, "accessModes"), *m,
                    *storage = get(get(get(spec, "resources"), "requests"), "storage");
        _cleanup_free_ char *amp = field_path_append(e, path, ".accessModes"),
                            *sp = field_path_append(e, path, ".resources[storage]"),
                            *scp = field_path_append(e, path, ".storageClassName"),
                            *selp = field_path_append(e, path, ".selector");
        const char *sc = json_str(spec, "storageClassName");
        bool rwop = false;
        int64_t milli;

        if (!amp || !sp || !scp || !selp)
                return;
        if (!cJSON_IsObject(spec)) {
                field_error_add(e, spec ? FIELD_ERROR_INVALID : FIELD_ERROR_REQUIRED, path, spec,
                                spec ? "must be an object" : NULL);
                return;
        }
        if (cJSON_GetArraySize(cJSON_IsArray(am) ? am : NULL) == 0)
                field_error_add(e, FIELD_ERROR_REQUIRED, amp, NULL, "at least 1 access mode is required");
        cJSON_ArrayForEach (m, (cJSON_IsArray(am) ? am : NULL)) {
                bool ok = false;

                for (size_t i = 0; cJSON_IsString(m) && modes[i]; i++)
                        ok = ok || streq(m->valuestring, modes[i]);
                if (!ok)
                        field_error_not_supported(e, amp, m, modes);
                if (cJSON_IsString(m) && streq(m->valuestring, "ReadWriteOncePod"))
                        rwop = true;
        }
        if (rwop && cJSON_GetArraySize(am) > 1)
                field_error_add(e, FIELD_ERROR_FORBIDDEN, amp, NULL,
                                "may not use ReadWriteOncePod with other access modes");
        validate_label_selector(get(spec, "selector"), selp, e);
        if (!storage)
                field_error_add(e, FIELD_ERROR_REQUIRED, sp, NULL, NULL);
        else if (quantity_from_json(storage, &milli) < 0)
                field_error_add(e, FIELD_ERROR_INVALID, sp, storage, QUANTITY_MSG);
        else if (milli <= 0)
                field_error_add(e, FIELD_ERROR_INVALID, sp, storage, "must be greater than zero");
        if (validate_type_string(spec, "storageClassName", path, e) && !isempty(sc))
                validate_dns1123_subdomain(sc, scp, e);
        validate_enum(spec, "volumeMode", path, volume_modes, false, e);
}

void pvc_validate(const cJSON *obj, FieldErrors *e)
{
        pvc_spec_validate(get(obj, "spec"), "spec", e);
}

void pvc_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e)
{
        _cleanup_json_ cJSON *ns = cJSON_Duplicate(get(n, "spec"), true),
                             *os = cJSON_Duplicate(get(o, "spec"), true);
        const cJSON *nst = json_path(get(n, "spec"), "resources.requests.storage");
        const cJSON *ost = json_path(get(o, "spec"), "resources.requests.storage");
        int64_t nv, ov;

        if ((get(n, "spec") && !ns) || (get(o, "spec") && !os)) {
                e->oom = true;
                return;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(json_path(ns, "resources"), "requests");
        cJSON_DeleteItemFromObjectCaseSensitive(json_path(os, "resources"), "requests");
        cJSON_DeleteItemFromObjectCaseSensitive(ns, "volumeAttributesClassName");
        cJSON_DeleteItemFromObjectCaseSensitive(os, "volumeAttributesClassName");
        if ((ns || os) && !cJSON_Compare(ns, os, true))
                field_error_add(e, FIELD_ERROR_FORBIDDEN, "spec", NULL,
                                "spec is immutable after creation except resources.requests and "
                                "volumeAttributesClassName for bound claims");
        if (nst && ost && quantity_from_json(nst, &nv) >= 0 && quantity_from_json(ost, &ov) >= 0 && nv < ov)
                field_error_add(e, FIELD_ERROR_FORBIDDEN, "spec.resources.requests.storage", NULL,
                                "field can not be less than previous value");
}

int pvc_set_defaults(cJSON *obj)
{
        cJSON *spec;
        bool oom;

        spec = workload_default_object(obj, "spec", &oom);
        if (!spec)
                return oom ? -ENOMEM : 0;
        return workload_default_string(spec, "volumeMode", "Filesystem");
}
