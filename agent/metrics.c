/* The agent's Prometheus text: kube-state-metrics v2 families (names, labels and which
 * series exist follow internal/store/ of kube-state-metrics) computed from the objects
 * in the store at scrape time, berth's own histograms and gauges, the process metrics of
 * the Prometheus client libraries, and the event-loop meter. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>

#include "cronjob-schedule.h"
#include "json-util.h"
#include "manifest-internal.h"
#include "metrics.h"

#define LATENESS_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"
#define STORAGE_CLASS_BETA_ANNOTATION "volume.beta.kubernetes.io/storage-class"
#define HISTOGRAM_MAX_BOUNDS 16

/* Stored times are metav1.Time, whole seconds: a lateness of 0 means "within the scheduled
 * second". The sub-second bounds count fractions once a status carries them. */
static const double lateness_bounds[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
static const double cri_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,   0.5,   1,      2.5,   5,    10,    30,   60};

_Static_assert(ELEMENTSOF(lateness_bounds) <= HISTOGRAM_MAX_BOUNDS, "too many lateness buckets");
_Static_assert(ELEMENTSOF(cri_bounds) <= HISTOGRAM_MAX_BOUNDS, "too many CRI buckets");

typedef struct Histogram {
        uint64_t counts[HISTOGRAM_MAX_BOUNDS + 1]; /* per bucket, the last one is +Inf */
        double sum;
        uint64_t count;
} Histogram;

typedef struct CriSeries {
        char *method;
        int code;
        Histogram h;
} CriSeries;

struct Metrics {
        usec_t since;
        CriSeries *cri;
        size_t n_cri;
        Histogram lateness;
        char **seen; /* uids of the Jobs already in lateness, sorted */
        size_t n_seen;
};

struct MetricsLoopMeter {
        sd_event *event;
        sd_event_source *source;
        usec_t window;
        usec_t last_prepare; /* CLOCK_MONOTONIC, 0 before the first iteration */
        usec_t busy;
        uint64_t iterations;
        usec_t window_start, window_busy;
        double last; /* utilisation of the last complete window */
        bool have_last;
};

/* --- writing the text --- */

typedef struct Family Family;

typedef struct Ctx {
        FILE *f;
        const Family *family;
        const char *keys[3], *values[3]; /* the labels naming the object */
        size_t n;
} Ctx;

typedef void (*family_gen_t)(Ctx *c, const cJSON *obj);

struct Family {
        const char *name, *type, *help;
        family_gen_t gen;
        const char *path; /* the field read by the generic generators */
};

static void write_escaped(FILE *f, const char *s, bool label)
{
        for (; s && *s; s++)
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else if (*s == '"' && label)
                        fputs("\\\"", f);
                else
                        fputc(*s, f);
}

/* Integers as integers, anything else in the fewest digits that read back the same. */
static void write_value(FILE *f, double v)
{
        char buf[40];

        if (isnan(v))
                fputs("NaN", f);
        else if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", f);
        else if (v == 0)
                fputc('0', f);
        else if (v == floor(v) && fabs(v) < 1e15)
                fprintf(f, "%.0f", v);
        else {
                for (int p = 1; p <= 17; p++) {
                        snprintf(buf, sizeof(buf), "%.*g", p, v);
                        if (strtod(buf, NULL) == v)
                                break;
                }
                fputs(buf, f);
        }
}

static void write_header(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s ", name);
        write_escaped(f, help, false);
        fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void write_label(FILE *f, bool *first, const char *key, const char *value)
{
        fputs(*first ? "{" : ",", f);
        *first = false;
        fprintf(f, "%s=\"", key);
        write_escaped(f, value, true);
        fputc('"', f);
}

/* One sample of the current family: the object's labels, then the key/value pairs given
 * (NULL-terminated; a NULL value is ""). */
static void __attribute__((sentinel)) emit(Ctx *c, double v, ...)
{
        bool first = true;
        va_list ap;

        fputs(c->family->name, c->f);
        for (size_t i = 0; i < c->n; i++)
                write_label(c->f, &first, c->keys[i], c->values[i]);
        va_start(ap, v);
        for (const char *k; (k = va_arg(ap, const char *));)
                write_label(c->f, &first, k, va_arg(ap, const char *));
        va_end(ap);
        if (!first)
                fputc('}', c->f);
        fputc(' ', c->f);
        write_value(c->f, v);
        fputc('\n', c->f);
}

static void histogram_observe(Histogram *h, const double *bounds, size_t n, double v)
{
        size_t i = 0;

        while (i < n && v > bounds[i])
                i++;
        h->counts[i]++;
        h->sum += v;
        h->count++;
}

/* The _bucket, _sum and _count lines; k1/k2 NULL for fewer labels. */
static void histogram_write(FILE *f, const char *name, const Histogram *h, const double *bounds, size_t n,
                            const char *k1, const char *v1, const char *k2, const char *v2)
{
        uint64_t cum = 0;
        bool first;

        for (size_t i = 0; i <= n; i++) {
                cum += h->counts[i];
                first = true;
                fprintf(f, "%s_bucket", name);
                if (k1)
                        write_label(f, &first, k1, v1);
                if (k2)
                        write_label(f, &first, k2, v2);
                fputs(first ? "{le=\"" : ",le=\"", f);
                if (i < n)
                        write_value(f, bounds[i]);
                else
                        fputs("+Inf", f);
                fprintf(f, "\"} %" PRIu64 "\n", cum);
        }
        for (int s = 0; s < 2; s++) {
                first = true;
                fprintf(f, "%s%s", name, s == 0 ? "_sum" : "_count");
                if (k1)
                        write_label(f, &first, k1, v1);
                if (k2)
                        write_label(f, &first, k2, v2);
                fputs(first ? " " : "} ", f);
                if (s == 0)
                        write_value(f, h->sum);
                else
                        fprintf(f, "%" PRIu64, h->count);
                fputc('\n', f);
        }
}

/* --- reading objects --- */

static bool present(const cJSON *o, const char *path)
{
        const cJSON *v = json_path(o, path);

        return v && !cJSON_IsNull(v);
}

static bool number(const cJSON *o, const char *path, double *ret)
{
        const cJSON *v = json_path(o, path);

        if (!cJSON_IsNumber(v))
                return false;
        *ret = v->valuedouble;
        return true;
}

/* A metav1.Time as Unix seconds (Go's Time.Unix(): the fraction dropped). */
static bool stamp(const cJSON *o, const char *path, double *ret)
{
        const char *s = json_str(o, path);
        usec_t u;

        if (!s || parse_rfc3339(s, &u) < 0)
                return false;
        *ret = (double)(u / USEC_PER_SEC);
        return true;
}

static const char *annotation(const cJSON *o, const char *key)
{
        const cJSON *a = json_path(o, "metadata.annotations");
        const cJSON *v = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *controller_of(const cJSON *o)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(o, "metadata.ownerReferences")) {
                if (json_bool(ref, "controller", false))
                        return ref;
        }
        return NULL;
}

/* Go's Quantity.Value() of a storage size: bytes, rounded up. */
static bool bytes(const cJSON *o, const char *path, double *ret)
{
        int64_t milli;

        if (quantity_from_json(json_path(o, path), &milli) < 0)
                return false;
        *ret = (double)(milli / 1000 + (milli % 1000 > 0));
        return true;
}

/* --- generators shared by the kinds --- */

static void gen_number(Ctx *c, const cJSON *o)
{
        double v = 0;

        (void)number(o, c->family->path, &v);
        emit(c, v, NULL);
}

static void gen_number_if_set(Ctx *c, const cJSON *o)
{
        double v;

        if (number(o, c->family->path, &v))
                emit(c, v, NULL);
}

static void gen_stamp(Ctx *c, const cJSON *o)
{
        double v;

        if (stamp(o, c->family->path, &v))
                emit(c, v, NULL);
}

static void gen_one(Ctx *c, const cJSON *o)
{
        emit(c, 1, NULL);
}

/* One series per status for every condition of type (NULL: all, labelled condition and
 * status), as addConditionMetrics does. */
static void conditions(Ctx *c, const cJSON *o, const char *type)
{
        static const char *const statuses[] = {"True", "False", "Unknown"};
        static const char *const lower[] = {"true", "false", "unknown"};
        const cJSON *cond;

        cJSON_ArrayForEach (cond, json_path(o, "status.conditions")) {
                const char *t = json_str(cond, "type"), *st = json_str(cond, "status");

                if (type && !streq_ptr(t, type))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
                        if (type)
                                emit(c, streq_ptr(st, statuses[i]), "condition", lower[i], NULL);
                        else
                                emit(c, streq_ptr(st, statuses[i]), "condition", t, "status", lower[i],
                                     NULL);
        }
}

static void phases(Ctx *c, const cJSON *o, const char *const *names, size_t n)
{
        const char *phase = json_str(o, "status.phase");

        if (isempty(phase))
                return;
        for (size_t i = 0; i < n; i++)
                emit(c, streq(phase, names[i]), "phase", names[i], NULL);
}

static void owners(Ctx *c, const cJSON *o)
{
        const cJSON *refs = json_path(o, "metadata.ownerReferences"), *ref;

        if (cJSON_GetArraySize(refs) == 0) {
                emit(c, 1, "owner_kind", "", "owner_name", "", "owner_is_controller", "", NULL);
                return;
        }
        cJSON_ArrayForEach (ref, refs) {
                bool ctl = json_bool(ref, "controller", false);
                emit(c, 1, "owner_kind", json_str(ref, "kind"), "owner_name", json_str(ref, "name"),
                     "owner_is_controller", ctl ? "true" : "false", NULL);
        }
}

/* --- Pod --- */

static void pod_info(Ctx *c, const cJSON *p)
{
        const cJSON *ctl = controller_of(p);

        emit(c, 1, "host_ip", json_str(p, "status.hostIP"), "pod_ip", json_str(p, "status.podIP"), "node",
             json_str(p, "spec.nodeName"), "created_by_kind", ctl ? json_str(ctl, "kind") : "",
             "created_by_name", ctl ? json_str(ctl, "name") : "", "priority_class",
             json_str(p, "spec.priorityClassName"), "host_network",
             json_bool(p, "spec.hostNetwork", false) ? "true" : "false", NULL);
}

static void pod_phase(Ctx *c, const cJSON *p)
{
        static const char *const names[] = {"Pending", "Succeeded", "Failed", "Unknown", "Running"};

        phases(c, p, names, ELEMENTSOF(names));
}

static void pod_ready(Ctx *c, const cJSON *p)
{
        conditions(c, p, "Ready");
}

static void pod_container_info(Ctx *c, const cJSON *p)
{
        const cJSON *spec, *cs;

        cJSON_ArrayForEach (spec, json_path(p, "spec.containers")) {
                cJSON_ArrayForEach (cs, json_path(p, "status.containerStatuses")) {
                        if (!streq_ptr(json_str(cs, "name"), json_str(spec, "name")))
                                continue;
                        emit(c, 1, "container", json_str(cs, "name"), "image_spec", json_str(spec, "image"),
                             "image", json_str(cs, "image"), "image_id", json_str(cs, "imageID"),
                             "container_id", json_str(cs, "containerID"), NULL);
                }
        }
}

/* The per-container families: the family's path says what of each containerStatuses entry
 * counts: a number, a state that is present, or a state's reason. */
static void pod_containers(Ctx *c, const cJSON *p)
{
        const char *path = c->family->path;
        const cJSON *cs;

        cJSON_ArrayForEach (cs, json_path(p, "status.containerStatuses")) {
                const char *name = json_str(cs, "name");
                double v = 0;

                if (endswith(path, ".reason")) {
                        _cleanup_free_ char *state = strndup(path, strlen(path) - strlen(".reason"));
                        if (state && present(cs, state))
                                emit(c, 1, "container", name, "reason", json_str(cs, path), NULL);
                } else if (streq(path, "restartCount") || streq(path, "ready")) {
                        const cJSON *item = json_path(cs, path);
                        v = cJSON_IsBool(item)     ? cJSON_IsTrue(item)
                            : cJSON_IsNumber(item) ? item->valuedouble
                                                   : 0;
                        emit(c, v, "container", name, NULL);
                } else
                        emit(c, present(cs, path), "container", name, NULL);
        }
}

#define CONTAINER_FAMILY(n, t, h, p)                                                                        \
        {                                                                                                   \
                "kube_pod_container_" n, t, h, pod_containers, p                                            \
        }

static const Family pod_families[] = {
    {"kube_pod_info", "gauge", "Information about pod.", pod_info, NULL},
    {"kube_pod_created", "gauge", "Unix creation timestamp", gen_stamp, "metadata.creationTimestamp"},
    {"kube_pod_start_time", "gauge", "Start time in unix timestamp for a pod.", gen_stamp,
     "status.startTime"},
    {"kube_pod_owner", "gauge", "Information about the Pod's owner.", owners, NULL},
    {"kube_pod_status_phase", "gauge", "The pods current phase.", pod_phase, NULL},
    {"kube_pod_status_ready", "gauge", "Describes whether the pod is ready to serve requests.", pod_ready,
     NULL},
    {"kube_pod_container_info", "gauge", "Information about a container in a pod.", pod_container_info,
     NULL},
    CONTAINER_FAMILY("status_ready", "gauge", "Describes whether the containers readiness check succeeded.",
                     "ready"),
    CONTAINER_FAMILY("status_restarts_total", "counter", "The number of container restarts per container.",
                     "restartCount"),
    CONTAINER_FAMILY("status_running", "gauge",
                     "Describes whether the container is currently in running state.", "state.running"),
    CONTAINER_FAMILY("status_waiting", "gauge",
                     "Describes whether the container is currently in waiting state.", "state.waiting"),
    CONTAINER_FAMILY("status_waiting_reason", "gauge",
                     "Describes the reason the container is currently in waiting state.",
                     "state.waiting.reason"),
    CONTAINER_FAMILY("status_terminated", "gauge",
                     "Describes whether the container is currently in terminated state.",
                     "state.terminated"),
    CONTAINER_FAMILY("status_terminated_reason", "gauge",
                     "Describes the reason the container is currently in terminated state.",
                     "state.terminated.reason"),
    CONTAINER_FAMILY("status_last_terminated_reason", "gauge",
                     "Describes the last reason the container was in terminated state.",
                     "lastState.terminated.reason"),
};

/* --- Job --- */

static void job_failed_count(Ctx *c, const cJSON *j)
{
        static const char *const reasons[] = {"BackoffLimitExceeded", "DeadlineExceeded", "Evicted"};
        double failed = 0;
        bool known = false;
        const cJSON *cond;

        (void)number(j, "status.failed", &failed);
        if (failed == 0) {
                emit(c, 0, NULL);
                return;
        }
        cJSON_ArrayForEach (cond, json_path(j, "status.conditions")) {
                if (!streq_ptr(json_str(cond, "type"), "Failed"))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
                        bool is = streq_ptr(json_str(cond, "reason"), reasons[i]);
                        known = known || is;
                        emit(c, is, "reason", reasons[i], NULL);
                }
        }
        if (!known)
                emit(c, failed, "reason", "", NULL);
}

static void job_complete(Ctx *c, const cJSON *j)
{
        conditions(c, j, "Complete");
}

static void job_failed(Ctx *c, const cJSON *j)
{
        conditions(c, j, "Failed");
}

static const Family job_families[] = {
    {"kube_job_info", "gauge", "Information about job.", gen_one, NULL},
    {"kube_job_created", "gauge", "Unix creation timestamp", gen_stamp, "metadata.creationTimestamp"},
    {"kube_job_spec_parallelism", "gauge",
     "The maximum desired number of pods the job should run at any given time.", gen_number_if_set,
     "spec.parallelism"},
    {"kube_job_spec_completions", "gauge",
     "The desired number of successfully finished pods the job should be run with.", gen_number_if_set,
     "spec.completions"},
    {"kube_job_status_succeeded", "gauge", "The number of pods which reached Phase Succeeded.", gen_number,
     "status.succeeded"},
    {"kube_job_status_failed", "gauge",
     "The number of pods which reached Phase Failed and the reason for failure.", job_failed_count, NULL},
    {"kube_job_status_active", "gauge", "The number of actively running pods.", gen_number, "status.active"},
    {"kube_job_complete", "gauge", "The job has completed its execution.", job_complete, NULL},
    {"kube_job_failed", "gauge", "The job has failed its execution.", job_failed, NULL},
    {"kube_job_status_start_time", "gauge",
     "StartTime represents time when the job was acknowledged by the Job Manager.", gen_stamp,
     "status.startTime"},
    {"kube_job_status_completion_time", "gauge",
     "CompletionTime represents time when the job was completed.", gen_stamp, "status.completionTime"},
    {"kube_job_owner", "gauge", "Information about the Job's owner.", owners, NULL},
};

/* --- CronJob --- */

static void cronjob_info(Ctx *c, const cJSON *cj)
{
        emit(c, 1, "schedule", json_str(cj, "spec.schedule"), "concurrency_policy",
             json_str(cj, "spec.concurrencyPolicy"), "timezone", json_str(cj, "spec.timeZone") ?: "local",
             NULL);
}

static void cronjob_active(Ctx *c, const cJSON *cj)
{
        emit(c, cJSON_GetArraySize(json_path(cj, "status.active")), NULL);
}

static void cronjob_suspend(Ctx *c, const cJSON *cj)
{
        const cJSON *s = json_path(cj, "spec.suspend");

        if (cJSON_IsBool(s))
                emit(c, cJSON_IsTrue(s), NULL);
}

/* The schedule's next time after lastScheduleTime (else the creation time), in the zone
 * the controller runs it in; none while suspended or when the schedule does not parse. */
static void cronjob_next(Ctx *c, const cJSON *cj)
{
        _cleanup_(cron_spec_freep) CronSpec *spec = NULL;
        _cleanup_tz_ TimeZone *tz = NULL;
        _cleanup_free_ char *err = NULL;
        const char *zone = json_str(cj, "spec.timeZone");
        CronJobSchedule sched = {};
        CronJobTimes t;
        int64_t next;
        int r;

        if (json_bool(cj, "spec.suspend", false) ||
            cron_spec_parse(json_str(cj, "spec.schedule") ?: "", &spec, NULL) < 0)
                return;
        if (spec->location)
                /* "TZ= ..." is UTC to Go */
                r = tz_load(spec->location[0] ? spec->location : "UTC", &tz);
        else {
                r = zone ? cron_spec_check_location(zone, NULL) : 0;
                if (r >= 0)
                        r = tz_load(zone, &tz);
        }
        if (r < 0 || cronjob_times_from_object(cj, &t, &sched.dst_cron, &err) == -ENOMEM)
                return;
        if (!t.has_last_schedule && t.creation == 0)
                return;
        sched.spec = spec;
        sched.tz = tz;
        next = cronjob_schedule_next(&sched, t.has_last_schedule ? t.last_schedule : t.creation);
        if (next > 0)
                emit(c, (double)next, NULL);
}

static const Family cronjob_families[] = {
    {"kube_cronjob_info", "gauge", "Info about cronjob.", cronjob_info, NULL},
    {"kube_cronjob_created", "gauge", "Unix creation timestamp", gen_stamp, "metadata.creationTimestamp"},
    {"kube_cronjob_status_active", "gauge", "Active holds pointers to currently running jobs.",
     cronjob_active, NULL},
    {"kube_cronjob_status_last_schedule_time", "gauge",
     "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
     gen_stamp, "status.lastScheduleTime"},
    {"kube_cronjob_status_last_successful_time", "gauge",
     "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
     gen_stamp, "status.lastSuccessfulTime"},
    {"kube_cronjob_spec_suspend", "gauge",
     "Suspend flag tells the controller to suspend subsequent executions.", cronjob_suspend, NULL},
    {"kube_cronjob_spec_starting_deadline_seconds", "gauge",
     "Deadline in seconds for starting the job if it misses scheduled time for any reason.",
     gen_number_if_set, "spec.startingDeadlineSeconds"},
    {"kube_cronjob_next_schedule_time", "gauge",
     "Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's "
     "creation time if it's never been scheduled. Use this to determine if the job is delayed.",
     cronjob_next, NULL},
};

/* --- StatefulSet and DaemonSet: numbers of the status, 0 when absent --- */

static const Family statefulset_families[] = {
    {"kube_statefulset_created", "gauge", "Unix creation timestamp", gen_stamp,
     "metadata.creationTimestamp"},
    {"kube_statefulset_status_replicas", "gauge", "The number of replicas per StatefulSet.", gen_number,
     "status.replicas"},
    {"kube_statefulset_status_replicas_available", "gauge",
     "The number of available replicas per StatefulSet.", gen_number, "status.availableReplicas"},
    {"kube_statefulset_status_replicas_current", "gauge", "The number of current replicas per StatefulSet.",
     gen_number, "status.currentReplicas"},
    {"kube_statefulset_status_replicas_ready", "gauge", "The number of ready replicas per StatefulSet.",
     gen_number, "status.readyReplicas"},
    {"kube_statefulset_status_replicas_updated", "gauge", "The number of updated replicas per StatefulSet.",
     gen_number, "status.updatedReplicas"},
    {"kube_statefulset_status_observed_generation", "gauge",
     "The generation observed by the StatefulSet controller.", gen_number, "status.observedGeneration"},
    {"kube_statefulset_replicas", "gauge", "Number of desired pods for a StatefulSet.", gen_number_if_set,
     "spec.replicas"},
    {"kube_statefulset_metadata_generation", "gauge",
     "Sequence number representing a specific generation of the desired state for the StatefulSet.",
     gen_number, "metadata.generation"},
};

static const Family daemonset_families[] = {
    {"kube_daemonset_created", "gauge", "Unix creation timestamp", gen_stamp, "metadata.creationTimestamp"},
    {"kube_daemonset_status_current_number_scheduled", "gauge",
     "The number of nodes running at least one daemon pod and are supposed to.", gen_number,
     "status.currentNumberScheduled"},
    {"kube_daemonset_status_desired_number_scheduled", "gauge",
     "The number of nodes that should be running the daemon pod.", gen_number,
     "status.desiredNumberScheduled"},
    {"kube_daemonset_status_number_available", "gauge",
     "The number of nodes that should be running the daemon pod and have one or more of the daemon pod "
     "running "
     "and available",
     gen_number, "status.numberAvailable"},
    {"kube_daemonset_status_number_misscheduled", "gauge",
     "The number of nodes running a daemon pod but are not supposed to.", gen_number,
     "status.numberMisscheduled"},
    {"kube_daemonset_status_number_ready", "gauge",
     "The number of nodes that should be running the daemon pod and have one or more of the daemon pod "
     "running "
     "and ready.",
     gen_number, "status.numberReady"},
    {"kube_daemonset_status_number_unavailable", "gauge",
     "The number of nodes that should be running the daemon pod and have none of the daemon pod running and "
     "available",
     gen_number, "status.numberUnavailable"},
    {"kube_daemonset_status_observed_generation", "gauge",
     "The most recent generation observed by the daemon set controller.", gen_number,
     "status.observedGeneration"},
    {"kube_daemonset_status_updated_number_scheduled", "gauge",
     "The total number of nodes that are running updated daemon pod", gen_number,
     "status.updatedNumberScheduled"},
    {"kube_daemonset_metadata_generation", "gauge",
     "Sequence number representing a specific generation of the desired state.", gen_number,
     "metadata.generation"},
};

/* --- PersistentVolumeClaim and PersistentVolume --- */

static void pvc_info(Ctx *c, const cJSON *pvc)
{
        const char *sc = annotation(pvc, STORAGE_CLASS_BETA_ANNOTATION);

        emit(c, 1, "storageclass", sc ?: json_str(pvc, "spec.storageClassName"), "volumename",
             json_str(pvc, "spec.volumeName"), "volumemode", json_str(pvc, "spec.volumeMode"), NULL);
}

static void pvc_phase(Ctx *c, const cJSON *pvc)
{
        static const char *const names[] = {"Lost", "Bound", "Pending"};

        phases(c, pvc, names, ELEMENTSOF(names));
}

static void pvc_request(Ctx *c, const cJSON *pvc)
{
        double v;

        if (bytes(pvc, "spec.resources.requests.storage", &v))
                emit(c, v, NULL);
}

static void access_modes(Ctx *c, const cJSON *o)
{
        const cJSON *m;

        cJSON_ArrayForEach (m, json_path(o, "spec.accessModes")) {
                if (cJSON_IsString(m))
                        emit(c, 1, "access_mode", m->valuestring, NULL);
        }
}

static const Family pvc_families[] = {
    {"kube_persistentvolumeclaim_info", "gauge", "Information about persistent volume claim.", pvc_info,
     NULL},
    {"kube_persistentvolumeclaim_status_phase", "gauge",
     "The phase the persistent volume claim is currently in.", pvc_phase, NULL},
    {"kube_persistentvolumeclaim_resource_requests_storage_bytes", "gauge",
     "The capacity of storage requested by the persistent volume claim.", pvc_request, NULL},
    {"kube_persistentvolumeclaim_access_mode", "gauge",
     "The access mode(s) specified by the persistent volume claim.", access_modes, NULL},
    {"kube_persistentvolumeclaim_created", "gauge", "Unix creation timestamp", gen_stamp,
     "metadata.creationTimestamp"},
};

static void pv_claim_ref(Ctx *c, const cJSON *pv)
{
        if (present(pv, "spec.claimRef"))
                emit(c, 1, "name", json_str(pv, "spec.claimRef.name"), "claim_namespace",
                     json_str(pv, "spec.claimRef.namespace"), NULL);
}

static void pv_phase(Ctx *c, const cJSON *pv)
{
        static const char *const names[] = {"Pending", "Available", "Bound", "Released", "Failed"};

        phases(c, pv, names, ELEMENTSOF(names));
}

/* The volume sources berth has (local and hostPath); the cloud ones stay empty. */
static void pv_info(Ctx *c, const cJSON *pv)
{
        emit(c, 1, "storageclass", json_str(pv, "spec.storageClassName"), "gce_persistent_disk_name", "",
             "ebs_volume_id", "", "azure_disk_name", "", "fc_wwids", "", "fc_lun", "", "fc_target_wwns", "",
             "iscsi_target_portal", "", "iscsi_iqn", "", "iscsi_lun", "", "iscsi_initiator_name", "",
             "nfs_server", json_str(pv, "spec.nfs.server"), "nfs_path", json_str(pv, "spec.nfs.path"),
             "csi_driver", json_str(pv, "spec.csi.driver"), "csi_volume_handle",
             json_str(pv, "spec.csi.volumeHandle"), "local_path", json_str(pv, "spec.local.path"),
             "local_fs", json_str(pv, "spec.local.fsType"), "host_path", json_str(pv, "spec.hostPath.path"),
             "host_path_type", json_str(pv, "spec.hostPath.type"), "reclaim_policy",
             json_str(pv, "spec.persistentVolumeReclaimPolicy"), NULL);
}

static void pv_capacity(Ctx *c, const cJSON *pv)
{
        double v = 0;

        (void)bytes(pv, "spec.capacity.storage", &v);
        emit(c, v, NULL);
}

static const Family pv_families[] = {
    {"kube_persistentvolume_claim_ref", "gauge", "Information about the Persistent Volume Claim Reference.",
     pv_claim_ref, NULL},
    {"kube_persistentvolume_status_phase", "gauge",
     "The phase indicates if a volume is available, bound to a claim, or released by a claim.", pv_phase,
     NULL},
    {"kube_persistentvolume_info", "gauge", "Information about persistentvolume.", pv_info, NULL},
    {"kube_persistentvolume_capacity_bytes", "gauge", "Persistentvolume capacity in bytes.", pv_capacity,
     NULL},
    {"kube_persistentvolume_created", "gauge", "Unix creation timestamp", gen_stamp,
     "metadata.creationTimestamp"},
};

/* --- Node --- */

static void node_info(Ctx *c, const cJSON *n)
{
        const char *internal_ip = "";
        const cJSON *a;

        cJSON_ArrayForEach (a, json_path(n, "status.addresses")) {
                if (streq_ptr(json_str(a, "type"), "InternalIP"))
                        internal_ip = json_str(a, "address");
        }
        emit(c, 1, "kernel_version", json_str(n, "status.nodeInfo.kernelVersion"), "os_image",
             json_str(n, "status.nodeInfo.osImage"), "container_runtime_version",
             json_str(n, "status.nodeInfo.containerRuntimeVersion"), "kubelet_version",
             json_str(n, "status.nodeInfo.kubeletVersion"), "kubeproxy_version",
             json_str(n, "status.nodeInfo.kubeProxyVersion"), "provider_id", json_str(n, "spec.providerID"),
             "pod_cidr", json_str(n, "spec.podCIDR"), "system_uuid",
             json_str(n, "status.nodeInfo.systemUUID"), "internal_ip", internal_ip, NULL);
}

static void node_unschedulable(Ctx *c, const cJSON *n)
{
        emit(c, json_bool(n, "spec.unschedulable", false), NULL);
}

static void node_taints(Ctx *c, const cJSON *n)
{
        const cJSON *t;

        cJSON_ArrayForEach (t, json_path(n, "spec.taints")) {
                emit(c, 1, "key", json_str(t, "key"), "value", json_str(t, "value"), "effect",
                     json_str(t, "effect"), NULL);
        }
}

static void node_conditions(Ctx *c, const cJSON *n)
{
        conditions(c, n, NULL);
}

static const Family node_families[] = {
    {"kube_node_created", "gauge", "Unix creation timestamp", gen_stamp, "metadata.creationTimestamp"},
    {"kube_node_info", "gauge", "Information about a cluster node.", node_info, NULL},
    {"kube_node_spec_taint", "gauge", "The taint of a cluster node.", node_taints, NULL},
    {"kube_node_spec_unschedulable", "gauge", "Whether a node can schedule new pods.", node_unschedulable,
     NULL},
    {"kube_node_status_condition", "gauge", "The condition of a cluster node.", node_conditions, NULL},
};

/* --- the kinds --- */

typedef struct KindFamilies {
        const char *kind;
        const char *ns_label, *name_label; /* ns_label NULL: cluster-scoped */
        bool with_uid;
        const Family *families;
        size_t n_families;
} KindFamilies;

#define KIND(k, nsl, nl, uid, f)                                                                            \
        {                                                                                                   \
                k, nsl, nl, uid, f, ELEMENTSOF(f)                                                           \
        }

static const KindFamilies kinds[] = {
    KIND("Pod", "namespace", "pod", true, pod_families),
    KIND("Job", "namespace", "job_name", false, job_families),
    KIND("CronJob", "namespace", "cronjob", false, cronjob_families),
    KIND("StatefulSet", "namespace", "statefulset", false, statefulset_families),
    KIND("DaemonSet", "namespace", "daemonset", false, daemonset_families),
    KIND("PersistentVolumeClaim", "namespace", "persistentvolumeclaim", false, pvc_families),
    KIND("PersistentVolume", NULL, "persistentvolume", false, pv_families),
    KIND("Node", NULL, "node", false, node_families),
};

static void object_labels(Ctx *c, const KindFamilies *k, const cJSON *o)
{
        c->n = 0;
        if (k->ns_label) {
                c->keys[c->n] = k->ns_label;
                c->values[c->n++] = json_str(o, "metadata.namespace");
        }
        c->keys[c->n] = k->name_label;
        c->values[c->n++] = json_str(o, "metadata.name");
        if (k->with_uid) {
                c->keys[c->n] = "uid";
                c->values[c->n++] = json_str(o, "metadata.uid");
        }
}

/* Every family of the kind, with HELP and TYPE even when there are no objects, as
 * kube-state-metrics writes them. */
static void render_kind(Ctx *c, const KindFamilies *k, const cJSON *list)
{
        const cJSON *o;

        for (size_t i = 0; i < k->n_families; i++) {
                c->family = &k->families[i];
                write_header(c->f, c->family->name, c->family->type, c->family->help);
                cJSON_ArrayForEach (o, list) {
                        object_labels(c, k, o);
                        c->family->gen(c, o);
                }
        }
        c->n = 0;
}

/* --- berth_cron_start_lateness_seconds --- */

typedef struct JobStart {
        const char *job_uid;
        usec_t start;
} JobStart;

static int job_start_compare(const void *a, const void *b)
{
        return strcmp(((const JobStart *)a)->job_uid, ((const JobStart *)b)->job_uid);
}

/* When the pod's first container first started: its current or last run. */
static usec_t pod_first_start(const cJSON *pod)
{
        static const char *const paths[] = {"state.running.startedAt", "state.terminated.startedAt",
                                            "lastState.terminated.startedAt"};
        const char *first = json_str(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "name");
        usec_t best = USEC_INFINITY, t;
        const cJSON *cs;

        cJSON_ArrayForEach (cs, json_path(pod, "status.containerStatuses")) {
                if (!first || !streq_ptr(json_str(cs, "name"), first))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                        const char *s = json_str(cs, paths[i]);
                        if (s && parse_rfc3339(s, &t) >= 0 && t < best)
                                best = t;
                }
        }
        return best;
}

/* The start of every pod owned by a Job, sorted by the Job's uid. */
static int job_starts(const cJSON *pods, JobStart **ret, size_t *ret_n)
{
        _cleanup_free_ JobStart *v = calloc(MAX(cJSON_GetArraySize(pods), 1), sizeof(JobStart));
        const cJSON *pod, *ctl;
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, pods) {
                usec_t t = pod_first_start(pod);

                ctl = controller_of(pod);
                if (t == USEC_INFINITY || !ctl || !streq_ptr(json_str(ctl, "kind"), "Job") ||
                    !json_str(ctl, "uid"))
                        continue;
                v[n++] = (JobStart){.job_uid = json_str(ctl, "uid"), .start = t};
        }
        qsort(v, n, sizeof(JobStart), job_start_compare);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The Job's lateness in seconds, or a negative number when it has not started; the start
 * in *ret_start (may be NULL). */
static double job_lateness(const cJSON *job, const JobStart *starts, size_t n, usec_t *ret_start)
{
        const char *uid = json_str(job, "metadata.uid"), *sched = annotation(job, LATENESS_ANNOTATION);
        JobStart key = {.job_uid = uid};
        const JobStart *s;
        usec_t scheduled, first = USEC_INFINITY;

        if (!uid || !sched || parse_rfc3339(sched, &scheduled) < 0 || n == 0)
                return -1;
        s = bsearch(&key, starts, n, sizeof(JobStart), job_start_compare);
        if (!s)
                return -1;
        while (s > starts && streq(s[-1].job_uid, uid))
                s--;
        for (; s < starts + n && streq(s->job_uid, uid); s++)
                first = MIN(first, s->start);
        if (ret_start)
                *ret_start = first;
        /* a start before its time (a clock step) counts as on time */
        return first <= scheduled ? 0 : (double)(first - scheduled) / USEC_PER_SEC;
}

static bool seen(const Metrics *m, const char *uid)
{
        return m->n_seen > 0 && bsearch(&uid, m->seen, m->n_seen, sizeof(char *), strptr_compare);
}

static void seen_clear(Metrics *m)
{
        for (size_t i = 0; i < m->n_seen; i++)
                free(m->seen[i]);
        m->seen = mfree(m->seen);
        m->n_seen = 0;
}

/* Counts the Jobs not counted before; forgets the uids of Jobs gone from the store (a uid
 * never comes back). */
static int lateness_merge(Metrics *m, const cJSON *jobs, const JobStart *starts, size_t n)
{
        char **now_seen = calloc(MAX(cJSON_GetArraySize(jobs), 1), sizeof(char *));
        size_t n_now = 0;
        const cJSON *job;

        if (!now_seen)
                return -ENOMEM;
        cJSON_ArrayForEach (job, jobs) {
                const char *uid = json_str(job, "metadata.uid");
                usec_t start;
                double l = job_lateness(job, starts, n, &start);

                /* stamps are whole seconds: a start in since's second may be after it */
                if (l < 0 || start + USEC_PER_SEC <= m->since)
                        continue;
                if (!seen(m, uid))
                        histogram_observe(&m->lateness, lateness_bounds, ELEMENTSOF(lateness_bounds), l);
                now_seen[n_now] = strdup(uid);
                if (!now_seen[n_now]) {
                        for (size_t i = 0; i < n_now; i++)
                                free(now_seen[i]);
                        free(now_seen);
                        return -ENOMEM;
                }
                n_now++;
        }
        qsort(now_seen, n_now, sizeof(char *), strptr_compare);
        seen_clear(m);
        m->seen = now_seen;
        m->n_seen = n_now;
        return 0;
}

static int render_lateness(Ctx *c, Metrics *m, const cJSON *pods, const cJSON *jobs)
{
        static const char name[] = "berth_cron_start_lateness_seconds";
        _cleanup_free_ JobStart *starts = NULL;
        Histogram local = {};
        const cJSON *job;
        size_t n = 0;
        int r;

        write_header(
            c->f, name, "histogram",
            "Time from a CronJob's scheduled time to the start of the first container of the Job it "
            "launched (whole seconds as the pod status records them).");
        if (pods && jobs) {
                r = job_starts(pods, &starts, &n);
                if (r < 0)
                        return r;
                if (m) {
                        r = lateness_merge(m, jobs, starts, n);
                        if (r < 0)
                                return r;
                } else
                        cJSON_ArrayForEach (job, jobs) {
                                double l = job_lateness(job, starts, n, NULL);
                                if (l >= 0)
                                        histogram_observe(&local, lateness_bounds,
                                                          ELEMENTSOF(lateness_bounds), l);
                        }
        }
        histogram_write(c->f, name, m ? &m->lateness : &local, lateness_bounds, ELEMENTSOF(lateness_bounds),
                        NULL, NULL, NULL, NULL);
        return 0;
}

/* --- Metrics: CRI calls --- */

int metrics_new(Metrics **ret, usec_t since)
{
        Metrics *m = calloc(1, sizeof(Metrics));

        if (!m)
                return -ENOMEM;
        m->since = since;
        *ret = m;
        return 0;
}

Metrics *metrics_free(Metrics *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_cri; i++)
                free(m->cri[i].method);
        free(m->cri);
        seen_clear(m);
        free(m);
        return NULL;
}

/* grpc-go's names of the codes (codes.Code.String()). */
static const char *grpc_code_name(int code)
{
        static const char *const names[] = {
            "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
            "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
            "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
            "DataLoss", "Unauthenticated",
        };

        return code >= 0 && (size_t)code < ELEMENTSOF(names) ? names[code] : "Unknown";
}

void metrics_cri_observe(Metrics *m, const char *method, usec_t duration, int grpc_status)
{
        int code = grpc_status >= 0 && grpc_status <= 16 ? grpc_status : 2;
        CriSeries *s = NULL, *v;

        if (!m || !method)
                return;
        for (size_t i = 0; i < m->n_cri && !s; i++)
                if (m->cri[i].code == code && streq(m->cri[i].method, method))
                        s = &m->cri[i];
        if (!s) {
                if (m->n_cri >= METRICS_CRI_MAX_SERIES)
                        return;
                v = reallocarray(m->cri, m->n_cri + 1, sizeof(CriSeries));
                if (!v)
                        return;
                m->cri = v;
                s = &m->cri[m->n_cri];
                *s = (CriSeries){.method = strdup(method), .code = code};
                if (!s->method)
                        return;
                m->n_cri++;
        }
        histogram_observe(&s->h, cri_bounds, ELEMENTSOF(cri_bounds), (double)duration / USEC_PER_SEC);
}

static int cri_compare(const void *a, const void *b)
{
        const CriSeries *x = a, *y = b;
        int r = strcmp(x->method, y->method);

        return r != 0 ? r : x->code - y->code;
}

static void render_cri(Ctx *c, Metrics *m)
{
        static const char name[] = "berth_cri_call_duration_seconds";

        write_header(c->f, name, "histogram", "Duration of CRI calls by method and gRPC status code.");
        if (!m || m->n_cri == 0)
                return;
        qsort(m->cri, m->n_cri, sizeof(CriSeries), cri_compare);
        for (size_t i = 0; i < m->n_cri; i++)
                histogram_write(c->f, name, &m->cri[i].h, cri_bounds, ELEMENTSOF(cri_bounds), "method",
                                m->cri[i].method, "grpc_code", grpc_code_name(m->cri[i].code));
}

/* --- the event loop meter --- */

static void close_window(MetricsLoopMeter *m, usec_t now)
{
        m->last = MIN(1.0, (double)m->window_busy / (double)(now - m->window_start));
        m->have_last = true;
        m->window_start = now;
        m->window_busy = 0;
}

/* Runs once per iteration before the loop waits: the loop woke up at sd_event_now() and has
 * worked since. */
static int on_prepare(sd_event_source *s, void *userdata)
{
        MetricsLoopMeter *m = userdata;
        usec_t t = now_usec(CLOCK_MONOTONIC);
        uint64_t woke;

        if (m->last_prepare > 0 && sd_event_now(m->event, CLOCK_MONOTONIC, &woke) == 0 &&
            woke >= m->last_prepare && t >= woke) {
                m->busy += t - woke;
                m->window_busy += t - woke;
                m->iterations++;
        }
        m->last_prepare = t;
        if (m->window_start == 0)
                m->window_start = t;
        else if (t - m->window_start >= m->window)
                close_window(m, t);
        return 0;
}

static int on_never(sd_event_source *s, uint64_t usec, void *userdata)
{
        return 0;
}

int metrics_loop_meter_new(MetricsLoopMeter **ret, sd_event *e, usec_t window)
{
        _cleanup_(metrics_loop_meter_freep) MetricsLoopMeter *m = calloc(1, sizeof(MetricsLoopMeter));
        int r;

        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->window = window > 0 ? window : METRICS_LOOP_WINDOW_USEC;
        /* a timer that never elapses: only its prepare callback matters */
        r = sd_event_add_time(e, &m->source, CLOCK_MONOTONIC, USEC_INFINITY, 0, on_never, m);
        if (r < 0)
                return r;
        r = sd_event_source_set_prepare(m->source, on_prepare);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(m->source, "loop-meter");
        *ret = TAKE_PTR(m);
        return 0;
}

MetricsLoopMeter *metrics_loop_meter_free(MetricsLoopMeter *m)
{
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->source);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

double metrics_loop_meter_utilisation(MetricsLoopMeter *m, usec_t now)
{
        if (m->window_start > 0 && now > m->window_start && now - m->window_start >= m->window)
                close_window(m, now);
        if (m->have_last)
                return m->last;
        if (m->window_start > 0 && now > m->window_start)
                return MIN(1.0, (double)m->window_busy / (double)(now - m->window_start));
        return 0;
}

usec_t metrics_loop_meter_busy(const MetricsLoopMeter *m)
{
        return m->busy;
}

uint64_t metrics_loop_meter_iterations(const MetricsLoopMeter *m)
{
        return m->iterations;
}

static void render_loop(Ctx *c, MetricsLoopMeter *m)
{
        write_header(c->f, "berth_event_loop_utilisation", "gauge",
                     "Share of wall time the event loop spent working over the last window.");
        if (m)
                fprintf(c->f, "berth_event_loop_utilisation %.6f\n",
                        metrics_loop_meter_utilisation(m, now_usec(CLOCK_MONOTONIC)));
        write_header(c->f, "berth_event_loop_busy_seconds_total", "counter",
                     "Time the event loop spent working rather than waiting.");
        if (m)
                fprintf(c->f, "berth_event_loop_busy_seconds_total %.6f\n", (double)m->busy / USEC_PER_SEC);
        write_header(c->f, "berth_event_loop_iterations_total", "counter", "Iterations of the event loop.");
        if (m)
                fprintf(c->f, "berth_event_loop_iterations_total %" PRIu64 "\n", m->iterations);
}

/* --- process metrics, as the Prometheus client libraries name them --- */

static long boot_time(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
        char line[256];
        long bt = -1;

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "btime %ld", &bt) == 1)
                        break;
        return bt;
}

static long open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        long n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n - 1; /* the directory's own */
}

static void render_process(Ctx *c)
{
        _cleanup_free_ char *stat = NULL;
        unsigned long long utime, stime, start, vsize;
        long long rss;
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), bt = boot_time(), fds = open_fds();
        struct rlimit rl;
        char *p;
        bool ok;

        ok = read_full_file("/proc/self/stat", 4096, &stat, NULL) >= 0 && (p = strrchr(stat, ')')) &&
             sscanf(p + 1,
                    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu "
                    "%llu %lld",
                    &utime, &stime, &start, &vsize, &rss) == 5 &&
             ticks > 0;
        write_header(c->f, "process_cpu_seconds_total", "counter",
                     "Total user and system CPU time spent in seconds.");
        if (ok) {
                fputs("process_cpu_seconds_total ", c->f);
                write_value(c->f, (double)(utime + stime) / (double)ticks);
                fputc('\n', c->f);
        }
        write_header(c->f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        if (ok)
                fprintf(c->f, "process_resident_memory_bytes %lld\n", rss * page);
        write_header(c->f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        if (ok)
                fprintf(c->f, "process_virtual_memory_bytes %llu\n", vsize);
        write_header(c->f, "process_start_time_seconds", "gauge",
                     "Start time of the process since unix epoch in seconds.");
        if (ok && bt > 0) {
                fputs("process_start_time_seconds ", c->f);
                write_value(c->f, (double)bt + (double)start / (double)ticks);
                fputc('\n', c->f);
        }
        write_header(c->f, "process_open_fds", "gauge", "Number of open file descriptors.");
        if (fds >= 0)
                fprintf(c->f, "process_open_fds %ld\n", fds);
        write_header(c->f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
                fprintf(c->f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
}

/* --- the whole text --- */

static int render_store(Ctx *c, const MetricsSources *src)
{
        cJSON *lists[ELEMENTSOF(kinds)] = {};
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(kinds) && src->store && r >= 0; i++)
                r = store_list(src->store, kinds[i].kind, NULL, NULL, &lists[i]);
        for (size_t i = 0; i < ELEMENTSOF(kinds) && r >= 0; i++)
                render_kind(c, &kinds[i], lists[i]);
        /* kinds[0] and kinds[1] are Pod and Job */
        if (r >= 0)
                r = render_lateness(c, src->metrics, lists[0], lists[1]);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                cJSON_Delete(lists[i]);
        return r;
}

int metrics_render(const MetricsSources *src, char **ret)
{
        _cleanup_free_ char *probes = NULL;
        char *buf = NULL;
        size_t size = 0;
        Ctx c = {};
        int r;

        if (!src || !ret)
                return -EINVAL;
        if (src->prober) {
                r = prober_metrics_text(src->prober, &probes);
                if (r < 0)
                        return r;
        }
        c.f = open_memstream(&buf, &size);
        if (!c.f)
                return -ENOMEM;
        r = render_store(&c, src);
        if (r >= 0) {
                render_cri(&c, src->metrics);
                render_loop(&c, src->loop);
                render_process(&c);
                if (probes) {
                        fputs(probes, c.f);
                        if (*probes && !endswith(probes, "\n"))
                                fputc('\n', c.f);
                }
                if (ferror(c.f))
                        r = -ENOMEM;
        }
        if (fclose(c.f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}
