/* One reconcile of a CronJob, in Kubernetes' order (SEMANTICS.md §2.3): history cleanup,
 * the children's bookkeeping, then at most one launch. A launch commits the Job and the
 * CronJob status that records it (active ref, lastScheduleTime) in one store transaction,
 * so a crash leaves either both or neither; the Job's name is deterministic. An "@reboot"
 * CronJob launches once per boot instead, its boot recorded in the same transaction. */
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "cronjob-internal.h"
#include "cronjob-schedule.h"
#include "json-util.h"
#include "log.h"

#define SCHEDULED_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"

typedef struct SyncState {
        CronJobController *c;
        cJSON *cj;   /* the CronJob; its status is edited in place */
        cJSON *jobs; /* Jobs whose controller reference names this CronJob */
        const char *ns, *name;
        bool update_status;
        usec_t now, requeue_at;
        usec_t lead; /* how far ahead of now a launch may be prepared (0 for Replace) */
        usec_t due;  /* the scheduled instant the next wake-up is for */
        /* a warning to record once the failed launch transaction is rolled back */
        const char *fail_reason;
        char *fail_message;
        /* "@reboot": the kv key and the boot the launch is recorded under, the Job's name */
        const char *reboot_key, *boot_id, *reboot_job;
} SyncState;

static void event(SyncState *s, const char *type, const char *reason, const char *fmt, ...) _printf_(4, 5);
static void event(SyncState *s, const char *type, const char *reason, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = store_eventv(s->c->store, s->cj, type, reason, fmt, ap);
        va_end(ap);
        if (r < 0)
                log_debug_errno(r, "Failed to record event %s: %m", reason);
}

static cJSON *status_of(SyncState *s)
{
        return json_ensure_object(s->cj, "status");
}

static cJSON *active_list(SyncState *s)
{
        cJSON *st = status_of(s), *a = st ? cJSON_GetObjectItemCaseSensitive(st, "active") : NULL;

        if (st && !cJSON_IsArray(a)) {
                a = cJSON_CreateArray();
                if (a && json_set(st, "active", a) < 0)
                        a = NULL;
        }
        return a;
}

static int active_count(SyncState *s)
{
        const cJSON *a = json_path(s->cj, "status.active");

        return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
}

static bool in_active(SyncState *s, const char *field, const char *value)
{
        const cJSON *a = json_path(s->cj, "status.active"), *ref;

        cJSON_ArrayForEach (ref, (cJSON_IsArray(a) ? a : NULL)) {
                const char *v = json_str(ref, field);
                if (v && value && streq(v, value))
                        return true;
        }
        return false;
}

static void delete_from_active(SyncState *s, const char *uid)
{
        cJSON *a = active_list(s);
        int i = 0;

        for (cJSON *ref = a ? a->child : NULL; ref; i++) {
                cJSON *next = ref->next;
                if (streq_ptr(json_str(ref, "uid"), uid)) {
                        cJSON_DeleteItemFromArray(a, i--);
                        s->update_status = true;
                }
                ref = next;
        }
}

static int add_to_active(SyncState *s, const cJSON *job)
{
        cJSON *a = active_list(s), *ref = cJSON_CreateObject();

        if (!a || !ref || json_set_string(ref, "kind", "Job") < 0 ||
            json_set_string(ref, "namespace", json_str(job, "metadata.namespace") ?: s->ns) < 0 ||
            json_set_string(ref, "name", json_str(job, "metadata.name")) < 0 ||
            json_set_string(ref, "uid", json_str(job, "metadata.uid") ?: "") < 0 ||
            json_set_string(ref, "apiVersion", "batch/v1") < 0 ||
            json_set_string(ref, "resourceVersion", json_str(job, "metadata.resourceVersion") ?: "") < 0) {
                cJSON_Delete(ref);
                return -ENOMEM;
        }
        cJSON_AddItemToArray(a, ref);
        s->update_status = true;
        return 0;
}

/* "Complete" or "Failed" when the Job has that condition True, else NULL. */
static const char *job_finished(const cJSON *job)
{
        const cJSON *conds = json_path(job, "status.conditions"), *c;

        cJSON_ArrayForEach (c, (cJSON_IsArray(conds) ? conds : NULL)) {
                const char *type = json_str(c, "type"), *status = json_str(c, "status");
                if (type && status && streq(status, "True") &&
                    (streq(type, "Complete") || streq(type, "Failed")))
                        return type;
        }
        return NULL;
}

static usec_t time_at(const cJSON *obj, const char *path, bool *ret_set)
{
        const char *v = json_str(obj, path);
        usec_t u = 0;

        *ret_set = v && parse_rfc3339(v, &u) >= 0;
        return *ret_set ? u : 0;
}

int cronjob_compare_jobs_by_start(const cJSON *a, const cJSON *b)
{
        bool sa, sb;
        usec_t ta = time_at(a, "status.startTime", &sa), tb = time_at(b, "status.startTime", &sb);

        if (sa != sb)
                return sa ? -1 : 1;
        if (sa && ta != tb)
                return ta < tb ? -1 : 1;
        return strcmp(json_str(a, "metadata.name") ?: "", json_str(b, "metadata.name") ?: "");
}

static int compare_ptrs(const void *a, const void *b)
{
        return cronjob_compare_jobs_by_start(*(const cJSON *const *)a, *(const cJSON *const *)b);
}

/* deleteJob: the Job with its dependents (background), and its active reference. */
static bool delete_job(SyncState *s, const cJSON *job)
{
        const char *name = json_str(job, "metadata.name");
        int r = store_delete_object(s->c->store, "Job", s->ns, name, -1, STORE_PROPAGATE_BACKGROUND, NULL);

        if (r < 0 && r != -ENOENT) {
                event(s, "Warning", "FailedDelete", "Deleted job: %s", strerror(-r));
                return false;
        }
        delete_from_active(s, json_str(job, "metadata.uid"));
        event(s, "Normal", "SuccessfulDelete", "Deleted job %s", name);
        return true;
}

static void remove_oldest(SyncState *s, const char *type, const char *limit_field)
{
        const cJSON *limit = json_path(s->cj, limit_field), *job;
        _cleanup_free_ const cJSON **list = NULL;
        size_t n = 0;

        if (!cJSON_IsNumber(limit))
                return;
        list = calloc((size_t)cJSON_GetArraySize(s->jobs) + 1, sizeof(cJSON *));
        if (!list)
                return (void)log_oom();
        cJSON_ArrayForEach (job, s->jobs) {
                const char *f = job_finished(job);
                if (f && streq(f, type))
                        list[n++] = job;
        }
        if ((double)n <= limit->valuedouble)
                return;
        qsort(list, n, sizeof(cJSON *), compare_ptrs);
        for (size_t i = 0; i < n - (size_t)MAX(limit->valuedouble, 0); i++)
                (void)delete_job(s, list[i]);
}

/* cleanupFinishedJobs (§2.6): before every sync, even a suspended one. */
static void cleanup_finished_jobs(SyncState *s)
{
        if (!json_path(s->cj, "spec.successfulJobsHistoryLimit") &&
            !json_path(s->cj, "spec.failedJobsHistoryLimit"))
                return;
        remove_oldest(s, "Complete", "spec.successfulJobsHistoryLimit");
        remove_oldest(s, "Failed", "spec.failedJobsHistoryLimit");
}

static int note_success(SyncState *s, const cJSON *job)
{
        bool set, last_set;
        usec_t done = time_at(job, "status.completionTime", &set);
        usec_t last = time_at(s->cj, "status.lastSuccessfulTime", &last_set);
        char buf[64];

        if (!set || (last_set && done <= last))
                return 0;
        if (format_rfc3339(done, buf, sizeof(buf)) < 0 ||
            json_set_string(status_of(s), "lastSuccessfulTime", buf) < 0)
                return -ENOMEM;
        s->update_status = true;
        return 0;
}

/* §2.3 steps 1-2: finished Jobs leave the active list, missing ones too. */
static int reconcile_children(SyncState *s)
{
        const cJSON *job, *a;
        int r;

        cJSON_ArrayForEach (job, s->jobs) {
                const char *uid = json_str(job, "metadata.uid"), *fin = job_finished(job);
                bool found = in_active(s, "uid", uid);

                if (!found && !fin)
                        event(s, "Warning", "UnexpectedJob",
                              "Saw a job that the controller did not create or forgot: %s",
                              json_str(job, "metadata.name"));
                else if (found && fin) {
                        delete_from_active(s, uid);
                        event(s, "Normal", "SawCompletedJob", "Saw completed job: %s, condition: %s",
                              json_str(job, "metadata.name"), fin);
                } else if (fin && streq(fin, "Complete")) {
                        r = note_success(s, job);
                        if (r < 0)
                                return r;
                }
        }
        a = json_path(s->cj, "status.active");
        for (int i = cJSON_IsArray(a) ? cJSON_GetArraySize(a) - 1 : -1; i >= 0; i--) {
                const cJSON *ref = cJSON_GetArrayItem(a, i);
                _cleanup_json_ cJSON *got = NULL;
                _cleanup_free_ char *uid = strdup(json_str(ref, "uid") ?: ""), *name = NULL;
                bool child = false;

                if (!ref)
                        continue;
                if (!uid)
                        return -ENOMEM;
                cJSON_ArrayForEach (job, s->jobs)
                        child = child || streq_ptr(json_str(job, "metadata.uid"), uid);
                if (child)
                        continue;
                name = strdup(json_str(ref, "name") ?: "");
                if (!name)
                        return -ENOMEM;
                r = store_get(s->c->store, "Job", json_str(ref, "namespace") ?: s->ns, name, &got);
                if (r == -ENOENT) {
                        event(s, "Normal", "MissingJob", "Active job went missing: %s", name);
                        delete_from_active(s, uid);
                } else if (r < 0)
                        return r;
        }
        return 0;
}

static int copy_object(cJSON *meta, const cJSON *tmpl, const char *field)
{
        const cJSON *v = json_path(tmpl, field);
        cJSON *copy = cJSON_IsObject(v) ? cJSON_Duplicate(v, true) : cJSON_CreateObject();

        if (!copy)
                return -ENOMEM;
        return json_set(meta, field, copy);
}

/* getJobFromTemplate2 (§2.4). */
static int build_job(SyncState *s, int64_t scheduled, const TimeZone *annot_tz, cJSON **ret)
{
        _cleanup_json_ cJSON *job = cJSON_CreateObject();
        const cJSON *tmpl = json_path(s->cj, "spec.jobTemplate"), *spec = json_path(tmpl, "spec");
        cJSON *meta, *owners, *owner, *annotations;
        _cleanup_free_ char *name = NULL;
        char stamp[64];

        if (!job)
                return -ENOMEM;
        if (s->reboot_job)
                name = strdup(s->reboot_job);
        else
                (void)asprintf_safe(&name, "%s-%lld", s->name, (long long)(scheduled / 60));
        if (!name)
                return -ENOMEM;
        if (tz_format_rfc3339(annot_tz, scheduled, stamp, sizeof(stamp)) < 0)
                return -EINVAL;
        meta = json_ensure_object(job, "metadata");
        owners = cJSON_CreateArray();
        owner = cJSON_CreateObject();
        if (!meta || !owners || json_set(meta, "ownerReferences", owners) < 0 || !owner) {
                cJSON_Delete(owner);
                return -ENOMEM;
        }
        cJSON_AddItemToArray(owners, owner);
        if (json_set_string(job, "apiVersion", "batch/v1") < 0 || json_set_string(job, "kind", "Job") < 0 ||
            json_set_string(meta, "name", name) < 0 || json_set_string(meta, "namespace", s->ns) < 0 ||
            copy_object(meta, json_path(tmpl, "metadata"), "labels") < 0 ||
            copy_object(meta, json_path(tmpl, "metadata"), "annotations") < 0 ||
            json_set_string(owner, "apiVersion", json_str(s->cj, "apiVersion") ?: "batch/v1") < 0 ||
            json_set_string(owner, "kind", "CronJob") < 0 || json_set_string(owner, "name", s->name) < 0 ||
            json_set_string(owner, "uid", json_str(s->cj, "metadata.uid") ?: "") < 0 ||
            json_set_bool(owner, "controller", true) < 0 ||
            json_set_bool(owner, "blockOwnerDeletion", true) < 0 ||
            json_set(job, "spec",
                     cJSON_IsObject(spec) ? cJSON_Duplicate(spec, true) : cJSON_CreateObject()) < 0)
                return -ENOMEM;
        annotations = json_ensure_object(meta, "annotations");
        if (!annotations || json_set_string(annotations, SCHEDULED_ANNOTATION, stamp) < 0)
                return -ENOMEM;
        if ((usec_t)scheduled * USEC_PER_SEC > s->now) {
                /* launched ahead: the pods' commands start at the scheduled second */
                cJSON *pod_meta = json_ensure_object(
                    json_ensure_object(json_ensure_object(job, "spec"), "template"), "metadata");
                cJSON *pod_ann = pod_meta ? json_ensure_object(pod_meta, "annotations") : NULL;
                char at[64];
                if (!pod_ann || format_rfc3339((usec_t)scheduled * USEC_PER_SEC, at, sizeof(at)) < 0 ||
                    json_set_string(pod_ann, START_AT_ANNOTATION, at) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(job);
        return 0;
}

static bool controlled_by_us(SyncState *s, const cJSON *job)
{
        const cJSON *refs = json_path(job, "metadata.ownerReferences"), *ref;

        cJSON_ArrayForEach (ref, (cJSON_IsArray(refs) ? refs : NULL))
                if (json_bool(ref, "controller", false))
                        return streq_ptr(json_str(ref, "uid"), json_str(s->cj, "metadata.uid"));
        return false;
}

/* Replace (§2.3 step 11), inside the launch transaction. */
static int replace_active(SyncState *s)
{
        const cJSON *a = json_path(s->cj, "status.active");

        while (cJSON_IsArray(a) && cJSON_GetArraySize(a) > 0) {
                const cJSON *ref = cJSON_GetArrayItem(a, 0);
                _cleanup_json_ cJSON *job = NULL;
                int r = store_get(s->c->store, "Job", json_str(ref, "namespace") ?: s->ns,
                                  json_str(ref, "name") ?: "", &job);

                if (r < 0) {
                        s->fail_reason = "FailedGet";
                        (void)asprintf_safe(&s->fail_message, "Get job: %s", strerror(-r));
                        return r;
                }
                r = store_delete_object(s->c->store, "Job", s->ns, json_str(job, "metadata.name"), -1,
                                        STORE_PROPAGATE_BACKGROUND, NULL);
                if (r < 0 && r != -ENOENT) {
                        s->fail_reason = "FailedDelete";
                        (void)asprintf_safe(&s->fail_message, "Deleted job: %s", strerror(-r));
                        return r;
                }
                delete_from_active(s, json_str(job, "metadata.uid"));
                event(s, "Normal", "SuccessfulDelete", "Deleted job %s", json_str(job, "metadata.name"));
                /* the reference may name a Job whose uid changed: drop it by position */
                if (cJSON_GetArraySize(a) > 0 && cJSON_GetArrayItem(a, 0) == ref)
                        cJSON_DeleteItemFromArray((cJSON *)a, 0);
        }
        return 0;
}

/* -EEXIST: adopt our own Job with that name (§2.3 step 13), leave anybody else's alone. */
static int adopt_existing(SyncState *s, const char *name, bool *ret_adopted)
{
        _cleanup_json_ cJSON *job = NULL;
        int r = store_get(s->c->store, "Job", s->ns, name, &job);

        *ret_adopted = false;
        if (r < 0)
                return r;
        if (!controlled_by_us(s, job) || in_active(s, "uid", json_str(job, "metadata.uid")))
                return 0;
        *ret_adopted = true;
        return add_to_active(s, job);
}

static int set_last_schedule(SyncState *s, int64_t scheduled)
{
        char buf[64];

        if (format_rfc3339((usec_t)scheduled * USEC_PER_SEC, buf, sizeof(buf)) < 0 ||
            json_set_string(status_of(s), "lastScheduleTime", buf) < 0)
                return -ENOMEM;
        s->update_status = true;
        return 0;
}

/* "@reboot": this boot has its launch (in the launch's transaction). */
static int record_boot(SyncState *s, const char *job_name)
{
        _cleanup_json_ cJSON *rec = cJSON_CreateObject();

        if (!rec || json_set_string(rec, "bootID", s->boot_id) < 0 ||
            json_set_string(rec, "job", job_name) < 0)
                return -ENOMEM;
        return store_kv_set(s->c->store, s->reboot_key, rec);
}

static int launch_locked(SyncState *s, int64_t scheduled, const TimeZone *annot_tz, bool replace)
{
        _cleanup_json_ cJSON *job = NULL, *created = NULL;
        bool record = true;
        int r;

        r = build_job(s, scheduled, annot_tz, &job);
        if (r < 0)
                return r;
        if (replace) {
                r = replace_active(s);
                if (r < 0)
                        return r;
        }
        r = store_create(s->c->store, job, &created);
        if (r == -EEXIST) {
                log_info("CronJob %s/%s: job %s already exists", s->ns, s->name,
                         json_str(job, "metadata.name"));
                r = adopt_existing(s, json_str(job, "metadata.name"), &record);
        } else if (r >= 0) {
                event(s, "Normal", "SuccessfulCreate", "Created job %s", json_str(created, "metadata.name"));
                r = add_to_active(s, created);
        }
        if (r >= 0 && record)
                r = set_last_schedule(s, scheduled);
        if (r >= 0 && s->update_status)
                r = store_update_status(s->c->store, "CronJob", s->ns, s->name, json_path(s->cj, "status"));
        if (r >= 0 && record && s->reboot_key)
                r = record_boot(s, json_str(job, "metadata.name"));
        return r;
}

/* Steps 11-14 as one transaction: Replace's deletions, the Job, the status recording it. */
static int launch(SyncState *s, int64_t scheduled, const TimeZone *annot_tz, bool replace)
{
        int r = store_begin(s->c->store);

        if (r < 0)
                return r;
        r = launch_locked(s, scheduled, annot_tz, replace);
        if (r < 0) {
                store_rollback(s->c->store);
                if (s->fail_reason)
                        event(s, "Warning", s->fail_reason, "%s", s->fail_message ?: "");
                else
                        event(s, "Warning", "FailedCreate", "Error creating job: %s", strerror(-r));
                return r;
        }
        r = store_commit(s->c->store);
        if (r < 0)
                return r;
        s->update_status = false; /* written in the transaction */
        if (s->c->fault_after_commit)
                raise(SIGKILL);
        return 0;
}

/* Go's RFC1123Z in UTC: "Thu, 19 May 2016 10:00:00 +0000" (no locale). */
static void format_rfc1123z(int64_t t, char *buf, size_t size)
{
        static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm)) {
                snprintf(buf, size, "%lld", (long long)t);
                return;
        }
        snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The zones: the schedule's (timeZone, a TZ= prefix, else local) and the annotation's
 * (timeZone, else UTC). Step 4 and step 6 of §2.3; returns 1 to go on, 0 to stop. */
static int load_schedule(SyncState *s, CronSpec **ret_spec, TimeZone **ret_tz, TimeZone **ret_annot_tz)
{
        const char *zone = json_str(s->cj, "spec.timeZone"),
                   *schedule = json_str(s->cj, "spec.schedule") ?: "";
        _cleanup_free_ char *err = NULL;
        int r;

        if (zone) {
                r = cron_spec_check_location(zone, &err);
                if (r >= 0)
                        r = tz_load(zone, ret_annot_tz);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        event(s, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": %s", zone,
                              err ?: strerror(-r));
                        return 0;
                }
        } else {
                r = tz_load("UTC", ret_annot_tz);
                if (r < 0)
                        return r;
        }
        if (json_bool(s->cj, "spec.suspend", false))
                return 0;
        if (strstr(schedule, "TZ"))
                event(
                    s, "Warning", "UnsupportedSchedule",
                    "CRON_TZ or TZ used in schedule \"%s\" is not officially supported, see "
                    "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                    schedule);
        r = cron_spec_parse(schedule, ret_spec, &err);
        if (r >= 0) {
                const char *loc = (*ret_spec)->location;
                /* "TZ= ..." is UTC to Go; tz_load("") would be the local zone */
                r = loc ? tz_load(loc[0] ? loc : "UTC", ret_tz) : tz_load(zone, ret_tz);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                event(s, "Warning", "UnparseableSchedule", "unparseable schedule: \"%s\" : %s", schedule,
                      err ?: strerror(-r));
                return 0;
        }
        return 1;
}

static void requeue_later(SyncState *s, const CronJobSchedule *sched, const CronJobTimes *t)
{
        usec_t at = cronjob_schedule_requeue_at(sched, t, s->now + s->lead), due, lead;

        s->due = 0;
        s->requeue_at = at;
        if (at == USEC_INFINITY || s->lead == 0 || at < CRONJOB_NEXT_SCHEDULE_DELTA_USEC)
                return;
        /* wake up ahead of the time, to launch it ahead (see sync_cronjob); the more CronJobs
         * are due at the same instant, the earlier */
        due = at - CRONJOB_NEXT_SCHEDULE_DELTA_USEC;
        lead = cronjob_launch_lead(s->c, s->ns, s->name, due);
        s->due = due;
        s->requeue_at = at < lead ? at : MAX(at - lead, s->now);
}

/* "<cronjob>-<the first ten letters and digits of the boot id>": one name per boot (two
 * boots may fall into one minute), the same again after a crash within the boot. */
static char *reboot_job_name(const char *cronjob, const char *boot_id)
{
        char suffix[CRONJOB_REBOOT_SUFFIX_MAX + 1];
        size_t n = 0;

        for (const char *p = boot_id; *p && n < CRONJOB_REBOOT_SUFFIX_MAX; p++)
                if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))
                        suffix[n++] = *p;
                else if (*p >= 'A' && *p <= 'Z')
                        suffix[n++] = (char)(*p - 'A' + 'a');
        suffix[n] = 0;
        return strjoin(cronjob, "-", n > 0 ? suffix : "boot", NULL);
}

/* "@reboot" (berth's extension): one launch per boot, annotated like a scheduled launch at
 * the current second; no timer, the CronJob is looked at again only when it or one of its
 * Jobs changes, or the agent starts. startingDeadlineSeconds does not apply. */
static int sync_reboot(SyncState *s, const TimeZone *annot_tz)
{
        const char *policy = json_str(s->cj, "spec.concurrencyPolicy") ?: "Allow", *boot_id;
        _cleanup_free_ char *key = cronjob_reboot_key(json_str(s->cj, "metadata.uid")), *job = NULL;
        _cleanup_json_ cJSON *rec = NULL;
        int r;

        if (!key)
                return -ENOMEM;
        r = cronjob_boot_id(s->c, &boot_id);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* skipping a run is better than running it twice */
                event(s, "Warning", "UnknownBoot", "cannot read the boot id from %s: %s", s->c->boot_id_path,
                      strerror(-r));
                return 0;
        }
        r = store_kv_get(s->c->store, key, &rec);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0 && streq_ptr(json_str(rec, "bootID"), boot_id))
                return 0;
        if (streq(policy, "Forbid") && active_count(s) > 0) {
                event(
                    s, "Normal", "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid");
                return 0;
        }
        job = reboot_job_name(s->name, boot_id);
        if (!job)
                return -ENOMEM;
        s->reboot_key = key;
        s->boot_id = boot_id;
        s->reboot_job = job;
        r = launch(s, (int64_t)(s->now / USEC_PER_SEC), annot_tz, streq(policy, "Replace"));
        s->reboot_key = s->boot_id = s->reboot_job = NULL;
        return r;
}

/* Steps 3-14 of §2.3. */
static int sync_cronjob(SyncState *s)
{
        _cleanup_(cron_spec_freep) CronSpec *spec = NULL;
        _cleanup_tz_ TimeZone *tz = NULL, *annot_tz = NULL;
        _cleanup_free_ char *err = NULL, *job_name = NULL;
        const char *policy = json_str(s->cj, "spec.concurrencyPolicy") ?: "Allow";
        CronJobSchedule sched = {};
        CronJobMissed missed;
        CronJobTimes t;
        int64_t scheduled, deadline;
        int r;

        if (json_path(s->cj, "metadata.deletionTimestamp"))
                return 0;
        r = load_schedule(s, &spec, &tz, &annot_tz);
        if (r <= 0)
                return r;
        if (cron_spec_is_reboot(spec))
                return sync_reboot(s, annot_tz);
        r = cronjob_times_from_object(s->cj, &t, &sched.dst_cron, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                event(s, "Warning", "InvalidAnnotation", "%s", err);
        sched.spec = spec;
        sched.tz = tz;
        /* Launch ahead: a time due within the lead is launched now, its pod prepared and its
         * command exec'd at the scheduled instant (berth.dev/start-at), so the start is not
         * late by the launch's own work. Not for Replace, which would stop the previous run
         * before its time. Everything else below (deadline, history) uses the real now. */
        s->lead = streq(policy, "Replace") ? 0 : CRONJOB_LAUNCH_LEAD_USEC;
        if (s->lead > 0) {
                /* woken by the timer armed ahead of a crowded instant: launch that instant */
                usec_t due = cronjob_armed_due(s->c, s->ns, s->name);
                if (due > s->now && due - s->now <= CRONJOB_LAUNCH_LEAD_MAX_USEC)
                        s->lead = MAX(s->lead, due - s->now);
        }
        r = cronjob_schedule_next_time(&sched, &t, s->now + s->lead, &scheduled, &missed);
        if (missed == CRONJOB_MISSED_MANY)
                event(s, "Warning", "TooManyMissedTimes",
                      "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check "
                      "clock skew");
        if (r < 0) {
                event(s, "Warning", "InvalidSchedule", "invalid schedule: %s : %s",
                      json_str(s->cj, "spec.schedule"), CRONJOB_SCHEDULE_ERROR);
                return 0;
        }
        if (scheduled == 0)
                return requeue_later(s, &sched, &t), 0;
        deadline = cronjob_times_deadline(&t);
        if (deadline >= 0 && (usec_t)(scheduled + deadline) * USEC_PER_SEC < s->now) {
                char when[64];
                format_rfc1123z(scheduled, when, sizeof(when));
                event(s, "Warning", "MissSchedule", "Missed scheduled time to start a job: %s", when);
                return requeue_later(s, &sched, &t), 0;
        }
        if (asprintf_safe(&job_name, "%s-%lld", s->name, (long long)(scheduled / 60)) < 0)
                return -ENOMEM;
        if (in_active(s, "name", job_name) || (t.has_last_schedule && t.last_schedule == scheduled))
                return requeue_later(s, &sched, &t), 0;
        if (streq(policy, "Forbid") && active_count(s) > 0) {
                event(
                    s, "Normal", "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid");
                return requeue_later(s, &sched, &t), 0;
        }
        /* cluster mode: one node of the fleet launches each run */
        const char *holder;
        switch (cronjob_claim(s->c, s->cj, s->ns, s->name, scheduled, &holder)) {
        case CRON_CLAIM_PENDING:
                return 0; /* queued again with the answer */
        case CRON_CLAIM_NONE:
                s->requeue_at = s->now + USEC_PER_SEC;
                return 0;
        case CRON_CLAIM_LOST:
                if (cronjob_claim_report_once(s->c, s->ns, s->name, scheduled))
                        event(s, "Normal", "LaunchedElsewhere", "Job %s is launched by node %s", job_name,
                              holder ?: "another node");
                return requeue_later(s, &sched, &t), 0;
        case CRON_CLAIM_WON:
                break;
        }
        r = launch(s, scheduled, annot_tz, streq(policy, "Replace"));
        if (r < 0)
                return r;
        t.last_schedule = scheduled;
        t.has_last_schedule = true;
        return requeue_later(s, &sched, &t), 0;
}

/* The CronJob's Jobs, through the store's owner index. Kubernetes matches the controller
 * reference by name only; berth matches the uid, so the Jobs of a deleted and re-created
 * CronJob of the same name are not taken for its own. */
static int list_children(SyncState *s)
{
        const char *uid = json_str(s->cj, "metadata.uid");

        if (isempty(uid)) {
                s->jobs = cJSON_CreateArray();
                return s->jobs ? 0 : -ENOMEM;
        }
        return store_list_owned(s->c->store, "Job", s->ns, uid, &s->jobs);
}

int cronjob_sync(CronJobController *c, const char *ns, const char *name)
{
        _cleanup_json_ cJSON *cj = NULL, *jobs = NULL;
        _cleanup_free_ char *fail_message = NULL;
        SyncState s = {.c = c, .ns = ns, .name = name, .now = cronjob_now(c), .requeue_at = USEC_INFINITY};
        int r;

        r = store_get(c->store, "CronJob", ns, name, &cj);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        s.cj = cj;
        r = list_children(&s);
        jobs = s.jobs;
        if (r < 0)
                return r;
        cleanup_finished_jobs(&s);
        r = reconcile_children(&s);
        if (r >= 0)
                r = sync_cronjob(&s);
        fail_message = s.fail_message;
        if (r < 0)
                return r;
        if (s.update_status) {
                r = store_update_status(c->store, "CronJob", ns, name, json_path(cj, "status"));
                if (r < 0)
                        return r;
        }
        cronjob_requeue_at(c, ns, name, s.requeue_at, s.due);
        return 0;
}
