/* describe: kubectl's detailed page for pods (containers with state, resources, env,
 * mounts; conditions; volumes; events), for claims, volumes and storage classes, and a
 * generic page for every other kind (metadata, then spec and status as indented
 * "Key: value" lines, then events). */
#include <ctype.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"
#include "probe.h"

/* kubectl's maxAnnotationLen */
#define DESCRIBE_MAX_ANNOTATION_LEN 140U

static void indent(FILE *f, int level)
{
        fprintf(f, "%*s", level * 2, "");
}

/* Go's time.RFC1123Z in local time, as kubectl formats metav1.Time; buf stays empty when
 * rfc3339 is missing or unparsable. */
void cli_describe_rfc1123z(const char *rfc3339, char *buf, size_t size)
{
        usec_t t;

        buf[0] = '\0';
        if (rfc3339 && parse_rfc3339(rfc3339, &t) >= 0) {
                time_t s = (time_t)(t / USEC_PER_SEC);
                struct tm tm;
                if (localtime_r(&s, &tm))
                        strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
        }
}

static void time_line(FILE *f, int level, const char *title, const char *rfc3339)
{
        char buf[64];

        cli_describe_rfc1123z(rfc3339, buf, sizeof(buf));
        indent(f, level);
        fprintf(f, "%s:\t%s\n", title, buf[0] ? buf : "<unknown>");
}

/* "Labels:  a=b" with one key per line, kubectl's printLabelsMultiline. */
void cli_describe_labels(FILE *f, int level, const char *title, const cJSON *map)
{
        _cleanup_free_ char *joined = cli_format_labels(map);
        bool first = true;

        indent(f, level);
        fprintf(f, "%s:\t", title);
        if (cJSON_GetArraySize(map) == 0 || !joined) {
                fputs("<none>\n", f);
                return;
        }
        for (char *p = joined; p && *p;) {
                char *comma = strchr(p, ',');
                fprintf(f, "%s%.*s\n", first ? "" : "\t", comma ? (int)(comma - p) : (int)strlen(p), p);
                first = false;
                p = comma ? comma + 1 : NULL;
        }
}

/* One annotation value line, cut as kubectl's shorten() does. */
static void annotation_value_line(FILE *f, const char *s, size_t len)
{
        fprintf(f, "\t  %.*s%s\n", (int)MIN(len, DESCRIBE_MAX_ANNOTATION_LEN - 2), s,
                len > DESCRIBE_MAX_ANNOTATION_LEN - 2 ? "..." : "");
}

/* kubectl's printAnnotationsMultiline: sorted keys, without last-applied-configuration;
 * long or multi-line values go below their key, each line cut at 138 bytes. */
void cli_describe_annotations(FILE *f, const char *title, const cJSON *map)
{
        size_t n = 0, size = (size_t)cJSON_GetArraySize(map);
        _cleanup_free_ const char **keys = NULL;
        const cJSON *c;

        fprintf(f, "%s:\t", title);
        keys = size > 0 ? calloc(size, sizeof(char *)) : NULL;
        if (size > 0 && !keys) {
                fputs("<unknown>\n", f);
                return;
        }
        cJSON_ArrayForEach (c, map)
                if (keys && c->string &&
                    !streq(c->string, "kubectl.kubernetes.io/last-applied-configuration"))
                        keys[n++] = c->string;
        if (n == 0) {
                fputs("<none>\n", f);
                return;
        }
        qsort(keys, n, sizeof(char *), strptr_compare);
        for (size_t i = 0; i < n; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, keys[i]);
                const char *value = cJSON_IsString(v) ? v->valuestring : "";
                size_t len = strlen(value);

                if (len > 0 && value[len - 1] == '\n')
                        len--;
                if (i > 0)
                        fputc('\t', f);
                if (len + strlen(keys[i]) + 2 <= DESCRIBE_MAX_ANNOTATION_LEN && !memchr(value, '\n', len)) {
                        fprintf(f, "%s: %.*s\n", keys[i], (int)len, value);
                        continue;
                }
                fprintf(f, "%s:\n", keys[i]);
                for (const char *p = value, *end = value + len;;) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        annotation_value_line(f, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
                        if (!nl)
                                break;
                        p = nl + 1;
                }
        }
}

static void str_line(FILE *f, int level, const char *title, const char *value)
{
        indent(f, level);
        fprintf(f, "%s:\t%s\n", title, isempty(value) ? "<none>" : value);
}

static void describe_state(FILE *f, const char *title, const cJSON *state)
{
        const cJSON *run = json_path(state, "running"), *term = json_path(state, "terminated");
        const cJSON *wait = json_path(state, "waiting");

        indent(f, 2);
        if (run) {
                fprintf(f, "%s:\tRunning\n", title);
                time_line(f, 3, "Started", json_str(run, "startedAt"));
        } else if (wait) {
                fprintf(f, "%s:\tWaiting\n", title);
                if (json_str(wait, "reason"))
                        str_line(f, 3, "Reason", json_str(wait, "reason"));
        } else if (term) {
                fprintf(f, "%s:\tTerminated\n", title);
                if (json_str(term, "reason"))
                        str_line(f, 3, "Reason", json_str(term, "reason"));
                if (json_str(term, "message"))
                        str_line(f, 3, "Message", json_str(term, "message"));
                indent(f, 3);
                fprintf(f, "Exit Code:\t%lld\n", (long long)json_int(term, "exitCode", 0));
                if (json_int(term, "signal", 0) != 0) {
                        indent(f, 3);
                        fprintf(f, "Signal:\t%lld\n", (long long)json_int(term, "signal", 0));
                }
                time_line(f, 3, "Started", json_str(term, "startedAt"));
                time_line(f, 3, "Finished", json_str(term, "finishedAt"));
        } else
                fprintf(f, "%s:\tWaiting\n", title);
}

static void string_list(FILE *f, const char *title, const cJSON *list)
{
        const cJSON *c;

        if (cJSON_GetArraySize(list) == 0)
                return;
        indent(f, 2);
        fprintf(f, "%s:\n", title);
        cJSON_ArrayForEach (c, list) {
                indent(f, 3);
                fprintf(f, "%s\n", cJSON_IsString(c) ? c->valuestring : "");
        }
}

static void resources(FILE *f, const char *title, const cJSON *map)
{
        const cJSON *c;

        if (cJSON_GetArraySize(map) == 0)
                return;
        indent(f, 2);
        fprintf(f, "%s:\n", title);
        cJSON_ArrayForEach (c, map) {
                indent(f, 3);
                fprintf(f, "%s:\t%s\n", c->string, cJSON_IsString(c) ? c->valuestring : "");
        }
}

static void env_lines(FILE *f, const cJSON *env)
{
        const cJSON *e;

        if (cJSON_GetArraySize(env) == 0) {
                str_line(f, 2, "Environment", NULL);
                return;
        }
        indent(f, 2);
        fputs("Environment:\n", f);
        cJSON_ArrayForEach (e, env) {
                const char *v = json_str(e, "value");
                indent(f, 3);
                if (json_path(e, "valueFrom.secretKeyRef"))
                        fprintf(f, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: false\n",
                                json_str(e, "name") ?: "", json_str(e, "valueFrom.secretKeyRef.key") ?: "",
                                json_str(e, "valueFrom.secretKeyRef.name") ?: "");
                else if (json_path(e, "valueFrom.configMapKeyRef"))
                        fprintf(f, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: false\n",
                                json_str(e, "name") ?: "",
                                json_str(e, "valueFrom.configMapKeyRef.key") ?: "",
                                json_str(e, "valueFrom.configMapKeyRef.name") ?: "");
                else if (json_path(e, "valueFrom.fieldRef"))
                        fprintf(f, "%s:\t (%s:%s)\n", json_str(e, "name") ?: "",
                                json_str(e, "valueFrom.fieldRef.apiVersion") ?: "v1",
                                json_str(e, "valueFrom.fieldRef.fieldPath") ?: "");
                else
                        fprintf(f, "%s:\t%s\n", json_str(e, "name") ?: "", v ? v : "");
        }
}

static void mounts(FILE *f, const cJSON *vm)
{
        const cJSON *m;

        if (cJSON_GetArraySize(vm) == 0) {
                str_line(f, 2, "Mounts", NULL);
                return;
        }
        indent(f, 2);
        fputs("Mounts:\n", f);
        cJSON_ArrayForEach (m, vm) {
                const char *sub = json_str(m, "subPath");
                indent(f, 3);
                fprintf(f, "%s from %s (%s%s%s%s)\n", json_str(m, "mountPath") ?: "",
                        json_str(m, "name") ?: "", json_bool(m, "readOnly", false) ? "ro" : "rw",
                        sub ? ",path=\"" : "", sub ? sub : "", sub ? "\"" : "");
        }
}

static const cJSON *find_status(const cJSON *statuses, const char *name)
{
        const cJSON *s;

        cJSON_ArrayForEach (s, statuses) {
                const char *n = json_str(s, "name");
                if (n && name && streq(n, name))
                        return s;
        }
        return NULL;
}

/* kubectl's "Liveness: http-get ..." line, then what the agent's worker knows now
 * (beyond kubectl): the published result, the streak and the last run. */
static void probe_lines(FILE *f, const cJSON *c, const cJSON *probes, usec_t now)
{
        static const struct {
                const char *field, *title, *kind;
        } kinds[] = {
            {"livenessProbe", "Liveness", "Liveness"},
            {"readinessProbe", "Readiness", "Readiness"},
            {"startupProbe", "Startup", "Startup"},
        };

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const cJSON *probe = cJSON_GetObjectItemCaseSensitive(c, kinds[i].field), *st;
                _cleanup_free_ char *d = NULL;

                if (!cJSON_IsObject(probe))
                        continue;
                d = probe_describe(probe);
                str_line(f, 2, kinds[i].title, d);
                cJSON_ArrayForEach (st, probes) {
                        const char *last = json_str(st, "lastProbeTime"), *msg = json_str(st, "message");
                        char age[32] = "";
                        usec_t t;

                        if (!streq_ptr(json_str(st, "container"), json_str(c, "name")) ||
                            !streq_ptr(json_str(st, "kind"), kinds[i].kind))
                                continue;
                        indent(f, 3);
                        fprintf(f, "Result:\t%s, %lld consecutive successes, %lld consecutive failures",
                                json_str(st, "result") ?: "unknown",
                                (long long)json_int(st, "consecutiveSuccesses", 0),
                                (long long)json_int(st, "consecutiveFailures", 0));
                        if (!isempty(last) && parse_rfc3339(last, &t) >= 0) {
                                format_age(now > t ? now - t : 0, age, sizeof(age));
                                fprintf(f, "; last probe %s ago: %s", age,
                                        json_str(st, "lastOutcome") ?: "");
                                if (!isempty(msg)) {
                                        fputs(": ", f);
                                        for (const char *m = msg; *m; m++)
                                                fputc(*m == '\n' || *m == '\t' ? ' ' : *m, f);
                                }
                        }
                        fputc('\n', f);
                }
        }
}

static void containers(FILE *f, const char *title, const cJSON *specs, const cJSON *statuses,
                       const cJSON *probes, usec_t now)
{
        const cJSON *c, *p;

        if (cJSON_GetArraySize(specs) == 0)
                return;
        fprintf(f, "%s:\n", title);
        cJSON_ArrayForEach (c, specs) {
                const cJSON *st = find_status(statuses, json_str(c, "name"));
                indent(f, 1);
                fprintf(f, "%s:\n", json_str(c, "name") ?: "");
                if (st)
                        fprintf(f, "    Container ID:\t%s\n", json_str(st, "containerID") ?: "");
                str_line(f, 2, "Image", json_str(c, "image"));
                if (st)
                        fprintf(f, "    Image ID:\t%s\n", json_str(st, "imageID") ?: "");
                p = cJSON_GetArrayItem(json_path(c, "ports"), 0);
                indent(f, 2);
                if (p)
                        fprintf(f, "Port:\t%lld/%s\n", (long long)json_int(p, "containerPort", 0),
                                json_str(p, "protocol") ?: "TCP");
                else
                        fputs("Port:\t<none>\n", f);
                string_list(f, "Command", json_path(c, "command"));
                string_list(f, "Args", json_path(c, "args"));
                if (st) {
                        describe_state(f, "State", json_path(st, "state"));
                        if (json_path(st, "lastState.terminated"))
                                describe_state(f, "Last State", json_path(st, "lastState"));
                        str_line(f, 2, "Ready", json_bool(st, "ready", false) ? "True" : "False");
                        indent(f, 2);
                        fprintf(f, "Restart Count:\t%lld\n", (long long)json_int(st, "restartCount", 0));
                }
                resources(f, "Limits", json_path(c, "resources.limits"));
                resources(f, "Requests", json_path(c, "resources.requests"));
                probe_lines(f, c, probes, now);
                env_lines(f, json_path(c, "env"));
                mounts(f, json_path(c, "volumeMounts"));
        }
}

static void volume_lines(FILE *f, const cJSON *vols)
{
        const cJSON *v, *src;

        if (cJSON_GetArraySize(vols) == 0) {
                str_line(f, 0, "Volumes", NULL);
                return;
        }
        fputs("Volumes:\n", f);
        cJSON_ArrayForEach (v, vols) {
                indent(f, 1);
                fprintf(f, "%s:\n", json_str(v, "name") ?: "");
                cJSON_ArrayForEach (src, v) {
                        const cJSON *field;
                        if (!src->string || streq(src->string, "name"))
                                continue;
                        indent(f, 2);
                        fprintf(f, "Type:\t%c%s\n", toupper((unsigned char)src->string[0]), src->string + 1);
                        cJSON_ArrayForEach (field, src) {
                                _cleanup_free_ char *s =
                                    cJSON_IsString(field) ? strdup(field->valuestring) : json_print(field);
                                indent(f, 2);
                                fprintf(f, "%c%s:\t%s\n", toupper((unsigned char)field->string[0]),
                                        field->string + 1, s ? s : "");
                        }
                }
        }
}

static void conditions(FILE *f, const cJSON *conds)
{
        const cJSON *c;

        if (cJSON_GetArraySize(conds) == 0)
                return;
        fputs("Conditions:\n", f);
        indent(f, 1);
        fputs("Type\tStatus\n", f);
        cJSON_ArrayForEach (c, conds) {
                indent(f, 1);
                fprintf(f, "%s \t%s \n", json_str(c, "type") ?: "", json_str(c, "status") ?: "");
        }
}

static void owner_line(FILE *f, const cJSON *obj)
{
        const cJSON *o;

        cJSON_ArrayForEach (o, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(o, "controller", false)) {
                        fprintf(f, "Controlled By:\t%s/%s\n", json_str(o, "kind") ?: "",
                                json_str(o, "name") ?: "");
                        return;
                }
}

static void describe_pod(FILE *f, const cJSON *pod, const cJSON *probes, usec_t now)
{
        const char *node = json_str(pod, "spec.nodeName"), *host = json_str(pod, "status.hostIP");
        const cJSON *ip;

        str_line(f, 0, "Name", json_str(pod, "metadata.name"));
        str_line(f, 0, "Namespace", json_str(pod, "metadata.namespace"));
        indent(f, 0);
        fprintf(f, "Priority:\t%lld\n", (long long)json_int(pod, "spec.priority", 0));
        str_line(f, 0, "Service Account", json_str(pod, "spec.serviceAccountName") ?: "default");
        if (node && host)
                fprintf(f, "Node:\t%s/%s\n", node, host);
        else
                str_line(f, 0, "Node", node);
        if (json_str(pod, "status.startTime"))
                time_line(f, 0, "Start Time", json_str(pod, "status.startTime"));
        cli_describe_labels(f, 0, "Labels", json_path(pod, "metadata.labels"));
        cli_describe_annotations(f, "Annotations", json_path(pod, "metadata.annotations"));
        if (json_str(pod, "metadata.deletionTimestamp"))
                fprintf(f, "Status:\tTerminating\n");
        else
                str_line(f, 0, "Status", json_str(pod, "status.phase"));
        if (json_str(pod, "status.reason"))
                str_line(f, 0, "Reason", json_str(pod, "status.reason"));
        if (json_str(pod, "status.message"))
                str_line(f, 0, "Message", json_str(pod, "status.message"));
        str_line(f, 0, "IP", json_str(pod, "status.podIP"));
        if (cJSON_GetArraySize(json_path(pod, "status.podIPs")) == 0)
                fputs("IPs:\t<none>\n", f);
        else {
                fputs("IPs:\n", f);
                cJSON_ArrayForEach (ip, json_path(pod, "status.podIPs"))
                        fprintf(f, "  IP:\t%s\n", json_str(ip, "ip") ?: "");
        }
        owner_line(f, pod);
        containers(f, "Init Containers", json_path(pod, "spec.initContainers"),
                   json_path(pod, "status.initContainerStatuses"), NULL, now);
        containers(f, "Containers", json_path(pod, "spec.containers"),
                   json_path(pod, "status.containerStatuses"), probes, now);
        conditions(f, json_path(pod, "status.conditions"));
        volume_lines(f, json_path(pod, "spec.volumes"));
        str_line(f, 0, "QoS Class", json_str(pod, "status.qosClass") ?: "BestEffort");
        cli_describe_labels(f, 0, "Node-Selectors", json_path(pod, "spec.nodeSelector"));
        str_line(f, 0, "Tolerations",
                 cJSON_GetArraySize(json_path(pod, "spec.tolerations")) ? "(see spec)" : NULL);
}

/* "restartPolicy" -> "Restart Policy", kubectl's generic describer style. */
static void title_case(FILE *f, const char *key)
{
        for (const char *p = key; *p; p++) {
                if (p == key)
                        fputc(toupper((unsigned char)*p), f);
                else if (isupper((unsigned char)*p) && islower((unsigned char)p[-1])) {
                        fputc(' ', f);
                        fputc(*p, f);
                } else
                        fputc(*p, f);
        }
}

static void generic_value(FILE *f, const cJSON *v, int level);

static void generic_member(FILE *f, const cJSON *c, int level, bool in_array)
{
        indent(f, level);
        if (!in_array) {
                title_case(f, c->string ? c->string : "");
                fputc(':', f);
        }
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && c->child) {
                if (in_array)
                        fputs("-", f);
                fputc('\n', f);
                generic_value(f, c, level + 1);
        } else {
                _cleanup_free_ char *s = cJSON_IsString(c) ? strdup(c->valuestring) : json_print(c);
                fprintf(f, "%s%s\n", in_array ? "" : "\t", s ? s : "");
        }
}

static void generic_value(FILE *f, const cJSON *v, int level)
{
        const cJSON *c;

        if (level > 12)
                return;
        cJSON_ArrayForEach (c, v)
                generic_member(f, c, level, cJSON_IsArray(v));
}

static void describe_generic(FILE *f, const cJSON *obj)
{
        const cJSON *c;

        str_line(f, 0, "Name", json_str(obj, "metadata.name"));
        if (json_str(obj, "metadata.namespace"))
                str_line(f, 0, "Namespace", json_str(obj, "metadata.namespace"));
        cli_describe_labels(f, 0, "Labels", json_path(obj, "metadata.labels"));
        cli_describe_annotations(f, "Annotations", json_path(obj, "metadata.annotations"));
        str_line(f, 0, "API Version", json_str(obj, "apiVersion"));
        str_line(f, 0, "Kind", json_str(obj, "kind"));
        if (json_str(obj, "metadata.creationTimestamp"))
                time_line(f, 0, "CreationTimestamp", json_str(obj, "metadata.creationTimestamp"));
        owner_line(f, obj);
        cJSON_ArrayForEach (c, obj) {
                if (!c->string || streq(c->string, "apiVersion") || streq(c->string, "kind") ||
                    streq(c->string, "metadata"))
                        continue;
                generic_member(f, c, 0, false);
        }
}

/* kubectl's describe of a ConfigMap (values shown) or a Secret (sizes only). */
static void describe_data(FILE *f, const cJSON *obj, bool secret)
{
        const cJSON *c;

        str_line(f, 0, "Name", json_str(obj, "metadata.name"));
        str_line(f, 0, "Namespace", json_str(obj, "metadata.namespace"));
        cli_describe_labels(f, 0, "Labels", json_path(obj, "metadata.labels"));
        cli_describe_annotations(f, "Annotations", json_path(obj, "metadata.annotations"));
        fputc('\n', f);
        if (secret) {
                str_line(f, 0, "Type", json_str(obj, "type") ?: "Opaque");
                fputs("\nData\n====\n", f);
                cJSON_ArrayForEach (c, json_path(obj, "data")) {
                        _cleanup_free_ char *raw = NULL;
                        size_t n = 0;
                        if (cJSON_IsString(c) && base64_decode(c->valuestring, &raw, &n) < 0)
                                n = 0;
                        fprintf(f, "%s:\t%zu bytes\n", c->string, n);
                }
                return;
        }
        fputs("Data\n====\n", f);
        cJSON_ArrayForEach (c, json_path(obj, "data"))
                fprintf(f, "%s:\n----\n%s\n\n", c->string, cJSON_IsString(c) ? c->valuestring : "");
        fputs("\nBinaryData\n====\n", f);
        cJSON_ArrayForEach (c, json_path(obj, "binaryData")) {
                _cleanup_free_ char *raw = NULL;
                size_t n = 0;
                if (cJSON_IsString(c) && base64_decode(c->valuestring, &raw, &n) < 0)
                        n = 0;
                fprintf(f, "%s: %zu bytes\n", c->string, n);
        }
        fputc('\n', f);
}

static void event_lines(FILE *f, const cJSON *events, usec_t now)
{
        const cJSON *e;

        if (cJSON_GetArraySize(events) == 0) {
                fputs("Events:\t<none>\n", f);
                return;
        }
        fputs("Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n", f);
        cJSON_ArrayForEach (e, events) {
                const char *last = json_str(e, "lastTimestamp") ?: json_str(e, "eventTime");
                const char *first = json_str(e, "firstTimestamp") ?: last;
                const char *from = json_str(e, "source.component") ?: json_str(e, "reportingComponent");
                long long count = (long long)json_int(e, "count", 1);
                char age[32], first_age[32];

                cli_age(last, now, age, sizeof(age));
                cli_age(first, now, first_age, sizeof(first_age));
                fprintf(f, "  %s\t%s\t", json_str(e, "type") ?: "", json_str(e, "reason") ?: "");
                if (count > 1)
                        fprintf(f, "%s (x%lld over %s)", age, count, first_age);
                else
                        fputs(age, f);
                fprintf(f, "\t%s\t", from ? from : "");
                for (const char *m = json_str(e, "message") ?: ""; *m; m++)
                        fputc(*m == '\n' || *m == '\t' ? ' ' : *m, f);
                fputc('\n', f);
        }
}

/* related: for a Pod, its live probe states; for a PersistentVolumeClaim, the pods of its
 * namespace (for "Used By"); else unused. */
int cli_describe_print(FILE *out, const KindInfo *k, const cJSON *obj, const cJSON *events,
                       const cJSON *related, usec_t now)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        if (k && streq(k->kind, "Pod"))
                describe_pod(f, obj, related, now);
        else if (k && streq(k->kind, "PersistentVolumeClaim"))
                cli_describe_pvc(f, obj, related, now);
        else if (k && streq(k->kind, "PersistentVolume"))
                cli_describe_pv(f, obj, now);
        else if (k && streq(k->kind, "StorageClass"))
                cli_describe_storageclass(f, obj);
        else if (k && (streq(k->kind, "ConfigMap") || streq(k->kind, "Secret")))
                describe_data(f, obj, streq(k->kind, "Secret"));
        else
                describe_generic(f, obj);
        event_lines(f, events, now);
        if (fclose(f) != 0 || !text)
                return -ENOMEM;
        cli_tabwriter_print(out, text, 0, 2);
        return 0;
}

/* The object's events, oldest first (an empty array when the API has none). */
static cJSON *fetch_events(CliHttp *h, const cJSON *obj)
{
        const char *uid = json_str(obj, "metadata.uid"), *ns = json_str(obj, "metadata.namespace");
        _cleanup_free_ char *path = NULL, *sel = NULL;
        _cleanup_json_ cJSON *list = NULL;
        CliResponse resp = {};

        if (!uid)
                return cJSON_CreateArray();
        sel = strjoin("involvedObject.uid=", uid, NULL);
        _cleanup_free_ char *esc = sel ? cli_http_escape(sel) : NULL;
        if (!esc)
                return NULL;
        if (ns)
                asprintf_safe(&path, "/api/v1/namespaces/%s/events?fieldSelector=%s", ns, esc);
        else
                asprintf_safe(&path, "/api/v1/events?fieldSelector=%s", esc);
        if (!path)
                return NULL;
        if (cli_http_get_json(h, path, &list, &resp) != 0) {
                cli_response_done(&resp);
                return cJSON_CreateArray();
        }
        cJSON *items = cJSON_DetachItemFromObject(list, "items");
        return items ? items : cJSON_CreateArray();
}

/* What the agent's probe workers know of a pod now; NULL when it has nothing to say. */
static cJSON *fetch_probes(CliHttp *h, const cJSON *pod)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ cJSON *obj = NULL;
        CliResponse resp = {};

        if (asprintf_safe(&path, "/api/v1/namespaces/%s/pods/%s/probes",
                          json_str(pod, "metadata.namespace") ?: "default",
                          json_str(pod, "metadata.name") ?: "") < 0)
                return NULL;
        if (cli_http_get_json(h, path, &obj, &resp) != 0) {
                cli_response_done(&resp);
                return NULL;
        }
        return cJSON_DetachItemFromObject(obj, "probes");
}

/* The pods of the claim's namespace, to find those using it; NULL after printing why not. */
static cJSON *fetch_namespace_pods(CliHttp *h, const cJSON *claim)
{
        cJSON *items = NULL;

        if (cli_http_list(h, kind_by_kind("Pod"), json_str(claim, "metadata.namespace") ?: "default", NULL,
                          &items) != 0)
                return NULL;
        return items;
}

static int describe_one(CliHttp *h, const KindInfo *k, const cJSON *obj, bool *first)
{
        _cleanup_json_ cJSON *events = fetch_events(h, obj), *related = NULL;

        if (!events)
                return 1;
        if (streq(k->kind, "Pod"))
                related = fetch_probes(h, obj);
        else if (streq(k->kind, "PersistentVolumeClaim")) {
                /* kubectl gives up on the claim when it cannot list the pods: an empty "Used By"
                 * would claim the volume is free */
                related = fetch_namespace_pods(h, obj);
                if (!related)
                        return 1;
        }
        if (!*first)
                fputs("\n\n", stdout);
        *first = false;
        return cli_describe_print(stdout, k, obj, events, related, now_usec(CLOCK_REALTIME)) < 0;
}

int cli_verb_describe(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ CliTarget *t = NULL;
        const char *ns = a->all_namespaces ? NULL : cli_args_namespace(a);
        bool first = true;
        int n, rc = 0;

        n = cli_targets_parse(a->pos, a->n_pos, &t);
        if (n < 0 || cli_connect(a, &h) < 0)
                return 1;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *sel = NULL, *base = NULL;
                _cleanup_json_ cJSON *obj = NULL;
                CliResponse resp = {};
                const cJSON *it;
                int r;

                if (t[i].name)
                        path = cli_http_path(t[i].kind, cli_args_namespace(a), t[i].name);
                else if ((sel = a->selector ? cli_http_escape(a->selector) : NULL) &&
                         (base = cli_http_path(t[i].kind, ns, NULL)))
                        path = strjoin(base, "?labelSelector=", sel, NULL);
                else
                        path = cli_http_path(t[i].kind, ns, NULL);
                if (!path)
                        return 1;
                r = cli_http_get_json(h, path, &obj, &resp);
                if (r > 0) {
                        rc |= cli_report_response(&resp);
                        cli_response_done(&resp);
                        continue;
                }
                if (r < 0)
                        return 1;
                if (t[i].name)
                        rc |= describe_one(h, t[i].kind, obj, &first);
                else
                        cJSON_ArrayForEach (it, json_path(obj, "items"))
                                rc |= describe_one(h, t[i].kind, it, &first);
                if (!t[i].name && cJSON_GetArraySize(json_path(obj, "items")) == 0)
                        fprintf(stderr, "No resources found in %s namespace.\n", ns ? ns : "any");
        }
        return rc;
}
