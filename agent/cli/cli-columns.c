/* kubectl's table columns per kind (pkg/printers/internalversion/printers.go): the pod
 * READY/STATUS/RESTARTS logic, job status and completions, the storage kinds' access modes
 * and classes, and the plain columns of the other kinds; rows go through the tabwriter with
 * kubectl's settings (min 6, padding 3). */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

void cli_age(const char *rfc3339, usec_t now, char *buf, size_t size)
{
        usec_t t;

        if (isempty(rfc3339) || parse_rfc3339(rfc3339, &t) < 0) {
                snprintf(buf, size, "<unknown>");
                return;
        }
        format_age(now > t ? now - t : 0, buf, size);
}

char *cli_format_labels(const cJSON *labels)
{
        size_t n = (size_t)cJSON_GetArraySize(labels), i = 0;
        _cleanup_free_ const char **keys = NULL;
        char *buf = NULL;
        size_t size = 0;
        const cJSON *c;
        FILE *f;

        if (!cJSON_IsObject(labels) || n == 0)
                return strdup("<none>");
        keys = calloc(n, sizeof(char *));
        if (!keys)
                return NULL;
        cJSON_ArrayForEach (c, labels)
                keys[i++] = c->string;
        qsort(keys, n, sizeof(char *), strptr_compare);
        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (i = 0; i < n; i++) {
                /* not json_str: keys like "app.kubernetes.io/name" are not paths */
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, keys[i]);
                fprintf(f, "%s%s=%s", i ? "," : "", keys[i], cJSON_IsString(v) ? v->valuestring : "");
        }
        fclose(f);
        return buf;
}

/* ---- pods ---- */

static bool has_condition(const cJSON *obj, const char *type)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, json_path(obj, "status.conditions")) {
                const char *t = json_str(c, "type"), *s = json_str(c, "status");
                if (t && s && streq(t, type) && streq(s, "True"))
                        return true;
        }
        return false;
}

static const cJSON *find_named(const cJSON *array, const char *name)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, array) {
                const char *n = json_str(c, "name");
                if (n && name && streq(n, name))
                        return c;
        }
        return NULL;
}

static bool restartable_init(const cJSON *pod, const char *name)
{
        const char *p = json_str(find_named(json_path(pod, "spec.initContainers"), name), "restartPolicy");
        return p && streq(p, "Always");
}

/* Remembers the latest lastState.terminated.finishedAt of a container status. */
static void note_restart(const cJSON *cs, usec_t *last)
{
        const char *fin = json_str(cs, "lastState.terminated.finishedAt");
        usec_t t;

        if (fin && parse_rfc3339(fin, &t) >= 0 && t > *last)
                *last = t;
}

static char *terminated_reason(const cJSON *term, const char *prefix)
{
        const char *reason = json_str(term, "reason");
        int64_t sig = json_int(term, "signal", 0);
        char *s = NULL;

        if (!isempty(reason))
                asprintf_safe(&s, "%s%s", prefix, reason);
        else if (sig != 0)
                asprintf_safe(&s, "%sSignal:%lld", prefix, (long long)sig);
        else
                asprintf_safe(&s, "%sExitCode:%lld", prefix, (long long)json_int(term, "exitCode", 0));
        return s;
}

static void set_reason(char **reason, char *s)
{
        if (!s)
                return;
        free(*reason);
        *reason = s;
}

typedef struct PodCount {
        unsigned restarts, restartable_restarts, ready;
        usec_t last, restartable_last;
} PodCount;

/* The init containers: returns true while the pod is still initializing. */
static bool pod_init_status(const cJSON *pod, PodCount *pc, char **reason)
{
        const cJSON *statuses = json_path(pod, "status.initContainerStatuses"), *cs;
        int n_init = cJSON_GetArraySize(json_path(pod, "spec.initContainers")), i = 0;

        cJSON_ArrayForEach (cs, statuses) {
                const char *name = json_str(cs, "name");
                const cJSON *term = json_path(cs, "state.terminated");
                const char *wait = json_str(cs, "state.waiting.reason");
                unsigned rc = (unsigned)json_int(cs, "restartCount", 0);
                bool restartable = restartable_init(pod, name);

                pc->restarts += rc;
                note_restart(cs, &pc->last);
                if (restartable) {
                        pc->restartable_restarts += rc;
                        note_restart(cs, &pc->restartable_last);
                }
                if (term && json_int(term, "exitCode", 0) == 0) {
                        i++;
                        continue;
                }
                if (restartable && json_bool(cs, "started", false)) {
                        pc->ready += json_bool(cs, "ready", false);
                        i++;
                        continue;
                }
                if (term)
                        set_reason(reason, terminated_reason(term, "Init:"));
                else if (!isempty(wait) && !streq(wait, "PodInitializing"))
                        set_reason(reason, strjoin("Init:", wait, NULL));
                else {
                        char *s = NULL;
                        asprintf_safe(&s, "Init:%d/%d", i, n_init);
                        set_reason(reason, s);
                }
                return true;
        }
        return false;
}

static void pod_main_status(const cJSON *pod, PodCount *pc, char **reason)
{
        const cJSON *statuses = json_path(pod, "status.containerStatuses");
        bool has_running = false;

        pc->restarts = pc->restartable_restarts;
        pc->last = pc->restartable_last;
        for (int i = cJSON_GetArraySize(statuses) - 1; i >= 0; i--) {
                const cJSON *cs = cJSON_GetArrayItem(statuses, i);
                const cJSON *term = json_path(cs, "state.terminated");
                const char *wait = json_str(cs, "state.waiting.reason");

                pc->restarts += (unsigned)json_int(cs, "restartCount", 0);
                note_restart(cs, &pc->last);
                if (!isempty(wait))
                        set_reason(reason, strdup(wait));
                else if (term)
                        set_reason(reason, terminated_reason(term, ""));
                else if (json_bool(cs, "ready", false) && json_path(cs, "state.running")) {
                        has_running = true;
                        pc->ready++;
                }
        }
        if (*reason && streq(*reason, "Completed") && has_running)
                set_reason(reason, strdup(has_condition(pod, "Ready") ? "Running" : "NotReady"));
}

int cli_pod_summary(const cJSON *pod, usec_t now, CliPodSummary *ret)
{
        const char *phase = json_str(pod, "status.phase"), *preason = json_str(pod, "status.reason");
        unsigned total = (unsigned)cJSON_GetArraySize(json_path(pod, "spec.containers"));
        _cleanup_free_ char *reason = strdup(!isempty(preason) ? preason : phase ? phase : "");
        PodCount pc = {};
        const cJSON *c;
        bool initializing;

        if (!reason)
                return -ENOMEM;
        cJSON_ArrayForEach (c, json_path(pod, "status.conditions")) {
                const char *t = json_str(c, "type"), *r = json_str(c, "reason");
                if (t && r && streq(t, "PodScheduled") && streq(r, "SchedulingGated"))
                        set_reason(&reason, strdup("SchedulingGated"));
        }
        cJSON_ArrayForEach (c, json_path(pod, "spec.initContainers")) {
                const char *p = json_str(c, "restartPolicy");
                total += p && streq(p, "Always");
        }
        initializing = pod_init_status(pod, &pc, &reason);
        if (!initializing || has_condition(pod, "Initialized"))
                pod_main_status(pod, &pc, &reason);
        if (json_str(pod, "metadata.deletionTimestamp")) {
                if (preason && streq(preason, "NodeLost"))
                        set_reason(&reason, strdup("Unknown"));
                else if (!phase || (!streq(phase, "Succeeded") && !streq(phase, "Failed")))
                        set_reason(&reason, strdup("Terminating"));
        }

        *ret = (CliPodSummary){.n_restarts = pc.restarts};
        snprintf(ret->ready, sizeof(ret->ready), "%u/%u", pc.ready, total);
        if (pc.restarts != 0 && pc.last != 0) {
                char age[32];
                format_age(now > pc.last ? now - pc.last : 0, age, sizeof(age));
                asprintf_safe(&ret->restarts, "%u (%s ago)", pc.restarts, age);
        } else
                asprintf_safe(&ret->restarts, "%u", pc.restarts);
        ret->status = TAKE_PTR(reason);
        if (!ret->restarts) {
                cli_pod_summary_done(ret);
                return -ENOMEM;
        }
        return 0;
}

void cli_pod_summary_done(CliPodSummary *s)
{
        free(s->status);
        free(s->restarts);
        s->status = s->restarts = NULL;
}

/* ---- rows ---- */

/* Appends one cell; tabs and line breaks inside values would break the table. */
static void cell(FILE *f, const char *s)
{
        fputc('\t', f);
        for (s = s ? s : ""; *s; s++)
                fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void cellf(FILE *f, const char *fmt, ...) _printf_(2, 3);
static void cellf(FILE *f, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        cell(f, s);
}

static void cell_or_none(FILE *f, const char *s)
{
        cell(f, isempty(s) ? "<none>" : s);
}

static void cell_age(FILE *f, const cJSON *obj, const char *path, const CliPrintOptions *o)
{
        char age[32];

        cli_age(json_str(obj, path), o->now, age, sizeof(age));
        cell(f, age);
}

static long long jint(const cJSON *obj, const char *path)
{
        return (long long)json_int(obj, path, 0);
}

/* Comma-separated values of field in every element of array (CONTAINERS, IMAGES). */
static void cell_join(FILE *f, const cJSON *array, const char *field)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        const cJSON *c;
        FILE *m = open_memstream(&buf, &size);

        if (!m)
                return;
        cJSON_ArrayForEach (c, array) {
                const char *v = json_str(c, field);
                fprintf(m, "%s%s", c == array->child ? "" : ",", v ? v : "");
        }
        fclose(m);
        cell_or_none(f, buf);
}

static void cell_labels(FILE *f, const cJSON *labels)
{
        _cleanup_free_ char *s = cli_format_labels(labels);
        cell(f, s);
}

static void cell_selector(FILE *f, const cJSON *sel)
{
        const cJSON *exprs = json_path(sel, "matchExpressions");
        if (cJSON_GetArraySize(exprs) > 0)
                cell(f, "<complex>");
        else
                cell_labels(f, json_path(sel, "matchLabels"));
}

/* AGE, then with -o wide the CONTAINERS and IMAGES of spec's pod template and, when
 * with_selector, spec's SELECTOR: the tail of every workload's row. */
static void cells_workload_tail(FILE *f, const cJSON *obj, const cJSON *spec, bool with_selector,
                                const CliPrintOptions *o)
{
        const cJSON *containers = json_path(spec, "template.spec.containers");

        cell_age(f, obj, "metadata.creationTimestamp", o);
        if (!o->wide)
                return;
        cell_join(f, containers, "name");
        cell_join(f, containers, "image");
        if (with_selector)
                cell_selector(f, json_path(spec, "selector"));
}

static void pod_row(FILE *f, const cJSON *pod, const CliPrintOptions *o)
{
        CliPodSummary s = {};
        const cJSON *gates = json_path(pod, "spec.readinessGates");

        if (cli_pod_summary(pod, o->now, &s) < 0)
                return;
        cell(f, s.ready);
        cell(f, s.status);
        cell(f, s.restarts);
        cell_age(f, pod, "metadata.creationTimestamp", o);
        if (o->wide) {
                cell_or_none(f, json_str(pod, "status.podIP"));
                cell_or_none(f, json_str(pod, "spec.nodeName"));
                cell_or_none(f, json_str(pod, "status.nominatedNodeName"));
                if (cJSON_GetArraySize(gates) == 0)
                        cell(f, "<none>");
                else {
                        int ready = 0;
                        const cJSON *g;
                        cJSON_ArrayForEach (g, gates)
                                ready += has_condition(pod, json_str(g, "conditionType"));
                        cellf(f, "%d/%d", ready, cJSON_GetArraySize(gates));
                }
        }
        cli_pod_summary_done(&s);
}

static const char *job_status(const cJSON *job)
{
        if (has_condition(job, "Complete"))
                return "Complete";
        if (has_condition(job, "Failed"))
                return "Failed";
        if (json_str(job, "metadata.deletionTimestamp"))
                return "Terminating";
        if (has_condition(job, "Suspended"))
                return "Suspended";
        if (has_condition(job, "FailureTarget"))
                return "FailureTarget";
        if (has_condition(job, "SuccessCriteriaMet"))
                return "SuccessCriteriaMet";
        return "Running";
}

static void job_row(FILE *f, const cJSON *job, const CliPrintOptions *o)
{
        long long succeeded = jint(job, "status.succeeded");
        const char *start = json_str(job, "status.startTime"), *end = json_str(job, "status.completionTime");
        const cJSON *par = json_path(job, "spec.parallelism");
        usec_t ts, te;
        char dur[32] = "";

        cell(f, job_status(job));
        if (cJSON_IsNumber(json_path(job, "spec.completions")))
                cellf(f, "%lld/%lld", succeeded, jint(job, "spec.completions"));
        else if (cJSON_IsNumber(par) && par->valuedouble > 1)
                cellf(f, "%lld/1 of %lld", succeeded, (long long)par->valuedouble);
        else
                cellf(f, "%lld/1", succeeded);
        if (start && parse_rfc3339(start, &ts) >= 0) {
                if (!end || parse_rfc3339(end, &te) < 0)
                        te = o->now;
                format_age(te > ts ? te - ts : 0, dur, sizeof(dur));
        }
        cell(f, dur);
        cells_workload_tail(f, job, json_path(job, "spec"), true, o);
}

static void cronjob_row(FILE *f, const cJSON *cj, const CliPrintOptions *o)
{
        const char *last = json_str(cj, "status.lastScheduleTime");

        cell(f, json_str(cj, "spec.schedule"));
        cell_or_none(f, json_str(cj, "spec.timeZone"));
        cell(f, json_bool(cj, "spec.suspend", false) ? "True" : "False");
        cellf(f, "%d", cJSON_GetArraySize(json_path(cj, "status.active")));
        if (last)
                cell_age(f, cj, "status.lastScheduleTime", o);
        else
                cell(f, "<none>");
        cells_workload_tail(f, cj, json_path(cj, "spec.jobTemplate.spec"), true, o);
}

static void statefulset_row(FILE *f, const cJSON *s, const CliPrintOptions *o)
{
        cellf(f, "%lld/%lld", jint(s, "status.readyReplicas"), (long long)json_int(s, "spec.replicas", 1));
        cells_workload_tail(f, s, json_path(s, "spec"), false, o);
}

static void daemonset_row(FILE *f, const cJSON *d, const CliPrintOptions *o)
{
        cellf(f, "%lld", jint(d, "status.desiredNumberScheduled"));
        cellf(f, "%lld", jint(d, "status.currentNumberScheduled"));
        cellf(f, "%lld", jint(d, "status.numberReady"));
        cellf(f, "%lld", jint(d, "status.updatedNumberScheduled"));
        cellf(f, "%lld", jint(d, "status.numberAvailable"));
        cell_labels(f, json_path(d, "spec.template.spec.nodeSelector"));
        cells_workload_tail(f, d, json_path(d, "spec"), true, o);
}

static void service_row(FILE *f, const cJSON *s, const CliPrintOptions *o)
{
        const char *type = json_str(s, "spec.type");
        _cleanup_free_ char *ports = NULL;
        size_t size = 0;
        const cJSON *p;
        FILE *m;

        type = isempty(type) ? "ClusterIP" : type;
        cell(f, type);
        cell_or_none(f, json_str(s, "spec.clusterIP"));
        if (streq(type, "ExternalName"))
                cell_or_none(f, json_str(s, "spec.externalName"));
        else if (streq(type, "LoadBalancer") && !json_path(s, "status.loadBalancer.ingress"))
                cell(f, "<pending>");
        else if (streq(type, "LoadBalancer"))
                cell_join(f, json_path(s, "status.loadBalancer.ingress"), "ip");
        else {
                const cJSON *ips = json_path(s, "spec.externalIPs"), *ip;
                _cleanup_free_ char *buf = NULL;
                size_t n = 0;
                if ((m = open_memstream(&buf, &n))) {
                        cJSON_ArrayForEach (ip, ips)
                                fprintf(m, "%s%s", ip == ips->child ? "" : ",",
                                        cJSON_IsString(ip) ? ip->valuestring : "");
                        fclose(m);
                }
                cell_or_none(f, buf);
        }
        if ((m = open_memstream(&ports, &size))) {
                cJSON_ArrayForEach (p, json_path(s, "spec.ports")) {
                        const char *proto = json_str(p, "protocol");
                        fprintf(m, "%s%lld", ftell(m) > 0 ? "," : "", jint(p, "port"));
                        if (json_int(p, "nodePort", 0) > 0)
                                fprintf(m, ":%lld", jint(p, "nodePort"));
                        fprintf(m, "/%s", proto ? proto : "TCP");
                }
                fclose(m);
        }
        cell_or_none(f, ports);
        cell_age(f, s, "metadata.creationTimestamp", o);
        if (o->wide) {
                const cJSON *sel = json_path(s, "spec.selector");
                if (cJSON_GetArraySize(sel) == 0)
                        cell(f, "<none>");
                else
                        cell_labels(f, sel);
        }
}

static void configmap_row(FILE *f, const cJSON *c, const CliPrintOptions *o)
{
        cellf(f, "%d",
              cJSON_GetArraySize(json_path(c, "data")) + cJSON_GetArraySize(json_path(c, "binaryData")));
        cell_age(f, c, "metadata.creationTimestamp", o);
}

static void secret_row(FILE *f, const cJSON *s, const CliPrintOptions *o)
{
        const char *type = json_str(s, "type");

        cell(f, isempty(type) ? "Opaque" : type);
        cellf(f, "%d", cJSON_GetArraySize(json_path(s, "data")));
        cell_age(f, s, "metadata.creationTimestamp", o);
}

/* ---- storage ---- */

static bool has_string(const cJSON *array, const char *s)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, array)
                if (cJSON_IsString(c) && streq(c->valuestring, s))
                        return true;
        return false;
}

/* kubectl's GetAccessModesAsString: each known mode once, always in the order RWO,ROX,RWX,RWOP,
 * whatever the order or repetitions of the list; unknown modes are left out. */
void cli_access_modes(const cJSON *modes, char *buf, size_t size)
{
        static const struct {
                const char *mode, *abbr;
        } known[] = {
            {"ReadWriteOnce", "RWO"},
            {"ReadOnlyMany", "ROX"},
            {"ReadWriteMany", "RWX"},
            {"ReadWriteOncePod", "RWOP"},
        };
        size_t n = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                if (!has_string(modes, known[i].mode))
                        continue;
                int w = snprintf(buf + n, size - n, "%s%s", n ? "," : "", known[i].abbr);
                if (w < 0 || (size_t)w >= size - n)
                        return;
                n += (size_t)w;
        }
}

/* The class of a PersistentVolume or PersistentVolumeClaim as kubectl names it: the beta
 * annotation wins over spec.storageClassName. */
const char *cli_storage_class_name(const cJSON *obj)
{
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(json_path(obj, "metadata.annotations"),
                                                          "volume.beta.kubernetes.io/storage-class");

        if (cJSON_IsString(a))
                return a->valuestring;
        return json_str(obj, "spec.storageClassName") ?: "";
}

/* storageutil.IsDefaultAnnotation: the GA or the beta annotation set to "true". */
bool cli_storage_class_is_default(const cJSON *sc)
{
        const cJSON *ann = json_path(sc, "metadata.annotations");
        const char *keys[] = {"storageclass.kubernetes.io/is-default-class",
                              "storageclass.beta.kubernetes.io/is-default-class"};

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(ann, keys[i]);
                if (cJSON_IsString(a) && streq(a->valuestring, "true"))
                        return true;
        }
        return false;
}

static void pvc_row(FILE *f, const cJSON *p, const CliPrintOptions *o)
{
        const char *volume = json_str(p, "spec.volumeName"), *phase = json_str(p, "status.phase");
        char modes[32] = "";

        cell(f, json_str(p, "metadata.deletionTimestamp") ? "Terminating" : phase ? phase : "Pending");
        cell(f, volume);
        /* capacity and modes are the bound volume's, so only shown once bound */
        if (!isempty(volume))
                cli_access_modes(json_path(p, "status.accessModes"), modes, sizeof(modes));
        cell(f, isempty(volume) ? "" : json_str(p, "status.capacity.storage") ?: "0");
        cell(f, modes);
        cell(f, cli_storage_class_name(p));
        cell(f, json_str(p, "spec.volumeAttributesClassName") ?: "<unset>");
        cell_age(f, p, "metadata.creationTimestamp", o);
        if (o->wide)
                cell(f, json_str(p, "spec.volumeMode") ?: "<unset>");
}

static void pv_row(FILE *f, const cJSON *pv, const CliPrintOptions *o)
{
        const cJSON *claim = json_path(pv, "spec.claimRef");
        const char *phase = json_str(pv, "status.phase");
        char modes[32];

        cell(f, json_str(pv, "spec.capacity.storage") ?: "0");
        cli_access_modes(json_path(pv, "spec.accessModes"), modes, sizeof(modes));
        cell(f, modes);
        cell(f, json_str(pv, "spec.persistentVolumeReclaimPolicy"));
        cell(f, json_str(pv, "metadata.deletionTimestamp") ? "Terminating" : phase ? phase : "Pending");
        if (cJSON_IsObject(claim))
                cellf(f, "%s/%s", json_str(claim, "namespace") ?: "", json_str(claim, "name") ?: "");
        else
                cell(f, "");
        cell(f, cli_storage_class_name(pv));
        cell(f, json_str(pv, "spec.volumeAttributesClassName") ?: "<unset>");
        cell(f, json_str(pv, "status.reason"));
        cell_age(f, pv, "metadata.creationTimestamp", o);
        if (o->wide)
                cell(f, json_str(pv, "spec.volumeMode") ?: "<unset>");
}

/* The unset fields show the API server's defaults, as kubectl's printer does. */
static void storageclass_row(FILE *f, const cJSON *sc, const CliPrintOptions *o)
{
        cell(f, json_str(sc, "provisioner"));
        cell(f, json_str(sc, "reclaimPolicy") ?: "Delete");
        cell(f, json_str(sc, "volumeBindingMode") ?: "Immediate");
        cell(f, json_bool(sc, "allowVolumeExpansion", false) ? "true" : "false");
        cell_age(f, sc, "metadata.creationTimestamp", o);
}

static const char *storageclass_name_suffix(const cJSON *sc)
{
        return cli_storage_class_is_default(sc) ? " (default)" : "";
}

static void node_row(FILE *f, const cJSON *n, const CliPrintOptions *o)
{
        const char *status = "Unknown", *roles_prefix = "node-role.kubernetes.io/";
        _cleanup_free_ char *roles = NULL;
        size_t size = 0;
        const cJSON *c;
        FILE *m;

        cJSON_ArrayForEach (c, json_path(n, "status.conditions")) {
                const char *t = json_str(c, "type"), *s = json_str(c, "status");
                if (t && streq(t, "Ready"))
                        status = s && streq(s, "True")    ? "Ready"
                                 : s && streq(s, "False") ? "NotReady"
                                                          : "Unknown";
        }
        cellf(f, "%s%s", status, json_bool(n, "spec.unschedulable", false) ? ",SchedulingDisabled" : "");
        if ((m = open_memstream(&roles, &size))) {
                bool first = true;
                cJSON_ArrayForEach (c, json_path(n, "metadata.labels")) {
                        if (!c->string || !startswith(c->string, roles_prefix))
                                continue;
                        fprintf(m, "%s%s", first ? "" : ",", c->string + strlen(roles_prefix));
                        first = false;
                }
                fclose(m);
        }
        cell_or_none(f, roles);
        cell_age(f, n, "metadata.creationTimestamp", o);
        cell(f, json_str(n, "status.nodeInfo.kubeletVersion"));
        if (o->wide) {
                cell_or_none(f, json_str(n, "status.nodeInfo.osImage"));
                cell_or_none(f, json_str(n, "status.nodeInfo.kernelVersion"));
        }
}

static void generic_row(FILE *f, const cJSON *obj, const CliPrintOptions *o)
{
        cell_age(f, obj, "metadata.creationTimestamp", o);
}

/* The event's last time as kubectl shows it: lastTimestamp, else eventTime/firstTimestamp. */
static const char *event_last(const cJSON *e)
{
        const char *s = json_str(e, "series.lastObservedTime");
        if (!s)
                s = json_str(e, "lastTimestamp");
        if (!s)
                s = json_str(e, "eventTime");
        if (!s)
                s = json_str(e, "firstTimestamp");
        if (!s)
                s = json_str(e, "metadata.creationTimestamp");
        return s;
}

/* Events have no NAME column: LAST SEEN TYPE REASON OBJECT MESSAGE. */
static void event_row(FILE *f, const cJSON *e, const CliPrintOptions *o)
{
        const char *kind = json_str(e, "involvedObject.kind"), *name = json_str(e, "involvedObject.name");
        _cleanup_free_ char *lower = strdup(kind ? kind : "");
        char age[32];

        cli_age(event_last(e), o->now, age, sizeof(age));
        fputs(age, f);
        cell(f, json_str(e, "type"));
        cell(f, json_str(e, "reason"));
        for (char *p = lower; p && *p; p++)
                *p = (char)tolower((unsigned char)*p);
        if (!isempty(name))
                cellf(f, "%s/%s", lower ? lower : "", name);
        else
                cell(f, lower);
        cell(f, json_str(e, "message"));
}

typedef struct Columns {
        const char *kind;
        const char *headers; /* after NAME, tab-separated, each starting with a tab */
        const char *wide;
        void (*row)(FILE *f, const cJSON *obj, const CliPrintOptions *o);
        const char *(*name_suffix)(const cJSON *obj); /* appended to NAME, or NULL */
} Columns;

static const Columns columns[] = {
    {"Pod", "\tREADY\tSTATUS\tRESTARTS\tAGE", "\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES", pod_row},
    {"Job", "\tSTATUS\tCOMPLETIONS\tDURATION\tAGE", "\tCONTAINERS\tIMAGES\tSELECTOR", job_row},
    {"CronJob", "\tSCHEDULE\tTIMEZONE\tSUSPEND\tACTIVE\tLAST SCHEDULE\tAGE",
     "\tCONTAINERS\tIMAGES\tSELECTOR", cronjob_row},
    {"StatefulSet", "\tREADY\tAGE", "\tCONTAINERS\tIMAGES", statefulset_row},
    {"DaemonSet", "\tDESIRED\tCURRENT\tREADY\tUP-TO-DATE\tAVAILABLE\tNODE SELECTOR\tAGE",
     "\tCONTAINERS\tIMAGES\tSELECTOR", daemonset_row},
    {"Service", "\tTYPE\tCLUSTER-IP\tEXTERNAL-IP\tPORT(S)\tAGE", "\tSELECTOR", service_row},
    {"ConfigMap", "\tDATA\tAGE", "", configmap_row},
    {"Secret", "\tTYPE\tDATA\tAGE", "", secret_row},
    {"PersistentVolumeClaim",
     "\tSTATUS\tVOLUME\tCAPACITY\tACCESS MODES\tSTORAGECLASS\tVOLUMEATTRIBUTESCLASS\tAGE", "\tVOLUMEMODE",
     pvc_row},
    {"PersistentVolume",
     "\tCAPACITY\tACCESS MODES\tRECLAIM POLICY\tSTATUS\tCLAIM\tSTORAGECLASS"
     "\tVOLUMEATTRIBUTESCLASS\tREASON\tAGE",
     "\tVOLUMEMODE", pv_row},
    {"StorageClass", "\tPROVISIONER\tRECLAIMPOLICY\tVOLUMEBINDINGMODE\tALLOWVOLUMEEXPANSION\tAGE", "",
     storageclass_row, storageclass_name_suffix},
    {"Node", "\tSTATUS\tROLES\tAGE\tVERSION", "\tOS-IMAGE\tKERNEL-VERSION", node_row},
    {"Event", "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE", "", event_row},
};

static const Columns generic = {NULL, "\tAGE", "", generic_row, NULL};

/* Whether pods (a JSON array) run on more than one node: in cluster mode a list holds every
 * node's pods, and then the plain table needs a NODE column to say where each one runs. */
static bool pods_span_nodes(const cJSON *pods)
{
        const char *first = NULL;
        const cJSON *pod;

        cJSON_ArrayForEach (pod, pods) {
                const char *node = json_str(pod, "spec.nodeName");

                if (isempty(node))
                        continue;
                if (!first)
                        first = node;
                else if (!streq(first, node))
                        return true;
        }
        return false;
}

static const Columns *columns_for(const char *kind)
{
        for (size_t i = 0; kind && i < ELEMENTSOF(columns); i++)
                if (streq(columns[i].kind, kind))
                        return &columns[i];
        return &generic;
}

int cli_columns_print(FILE *out, const KindInfo *k, const cJSON *items, const CliPrintOptions *o)
{
        const Columns *c = columns_for(k ? k->kind : NULL);
        bool events = c->row == event_row, ns = o->with_namespace && (!k || k->namespaced);
        /* -o wide has its own NODE column */
        bool node = c->row == pod_row && !o->wide && pods_span_nodes(items);
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        const cJSON *obj;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        fprintf(f, "%s%s%s%s%s%s\n", ns ? "NAMESPACE\t" : "", events ? "" : "NAME", c->headers,
                node ? "\tNODE" : "", o->wide ? c->wide : "", o->show_labels ? "\tLABELS" : "");
        cJSON_ArrayForEach (obj, items) {
                if (ns)
                        fprintf(f, "%s\t", json_str(obj, "metadata.namespace") ?: "");
                if (!events && o->show_kind && k) {
                        _cleanup_free_ char *kn = cli_kind_resource_name(k);
                        fprintf(f, "%s/", kn ?: "");
                }
                if (!events)
                        fputs(json_str(obj, "metadata.name") ?: "", f);
                if (!events && c->name_suffix)
                        fputs(c->name_suffix(obj), f);
                c->row(f, obj, o);
                if (node)
                        cell_or_none(f, json_str(obj, "spec.nodeName"));
                if (o->show_labels)
                        cell_labels(f, json_path(obj, "metadata.labels"));
                fputc('\n', f);
        }
        if (fclose(f) != 0 || !text)
                return -ENOMEM;
        cli_tabwriter_print(out, text, 6, 3);
        return 0;
}
