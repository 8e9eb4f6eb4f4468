/* batch/v1 CronJob: SetDefaults_CronJob and ValidateCronJobCreate (schedule grammar via
 * cron-spec, timeZone against the system zoneinfo, concurrencyPolicy, history limits, the
 * jobTemplate as a Job spec whose selector is always generated). The schedule grammar has
 * one berth extension, accepted here through cron-spec: "@reboot", once per boot of the
 * machine (a cluster's apiserver would refuse it). */
#include <string.h>
#include <strings.h>

#include "cron-spec.h"
#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"
#include "workloads.h"

/* The controller appends "-<11 digits>" to the name; Job names are DNS-1035 labels (63). */
#define CRONJOB_NAME_MAX 52

static const cJSON *get(const cJSON *obj, const char *field)
{
        const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;

        return v && !cJSON_IsNull(v) ? v : NULL;
}

static void validate_schedule(const cJSON *spec, FieldErrors *e)
{
        const cJSON *sched = get(spec, "schedule");
        _cleanup_cron_spec_ CronSpec *cs = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        if (!validate_type_string(spec, "schedule", "spec", e))
                return;
        if (!sched || !sched->valuestring[0]) {
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.schedule", NULL, NULL);
                return;
        }
        r = cron_spec_parse(sched->valuestring, &cs, &err);
        if (r == -ENOMEM)
                e->oom = true;
        else if (r < 0)
                field_error_add(e, FIELD_ERROR_INVALID, "spec.schedule", sched, "%s",
                                err ? err : "invalid schedule");
        /* On create a TZ in the schedule is always refused (updates of old objects aside). */
        if (strstr(sched->valuestring, "TZ"))
                field_error_add(e, FIELD_ERROR_INVALID, "spec.schedule", sched,
                                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
}

/* IANA naming rules as validateTimeZone applies them, per '/'-separated part. */
static bool tz_part_ok(const char *part, size_t n)
{
        if (n == 0 || n > 14 || part[0] == '-' || (n == 1 && part[0] == '.') ||
            (n == 2 && part[0] == '.' && part[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = part[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_' || c == '+'))
                        return false;
        }
        return true;
}

static void validate_time_zone(const cJSON *spec, FieldErrors *e)
{
        const cJSON *tz = get(spec, "timeZone");
        _cleanup_free_ char *err = NULL;
        const char *s, *p;
        int r;

        if (!tz || !validate_type_string(spec, "timeZone", "spec", e))
                return;
        s = tz->valuestring;
        if (!s[0]) {
                field_error_add(e, FIELD_ERROR_INVALID, "spec.timeZone", tz,
                                "timeZone must be nil or non-empty string");
                return;
        }
        for (p = s;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);

                if (!tz_part_ok(p, n)) {
                        field_error_add(e, FIELD_ERROR_INVALID, "spec.timeZone", tz, "unknown time zone %s",
                                        s);
                        return;
                }
                if (!slash)
                        break;
                p = slash + 1;
        }
        if (strcasecmp(s, "Local") == 0)
                field_error_add(
                    e, FIELD_ERROR_INVALID, "spec.timeZone", tz,
                    "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones");
        r = cron_spec_check_location(s, &err);
        if (r == -ENOMEM)
                e->oom = true;
        else if (r < 0)
                field_error_add(e, FIELD_ERROR_INVALID, "spec.timeZone", tz, "%s", err);
}

static void validate_job_template(const cJSON *spec, FieldErrors *e)
{
        static const char *const nil_false[] = {"nil", "false", NULL};
        const cJSON *jt = get(spec, "jobTemplate"), *jspec = get(jt, "spec"), *ms;

        if (!jt) {
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.jobTemplate", NULL, NULL);
                return;
        }
        job_spec_validate(jspec, "spec.jobTemplate.spec", e);
        if (get(jspec, "selector"))
                field_error_add(e, FIELD_ERROR_INVALID, "spec.jobTemplate.spec.selector",
                                get(jspec, "selector"), "`selector` will be auto-generated");
        ms = get(jspec, "manualSelector");
        if (cJSON_IsTrue(ms))
                field_error_not_supported(e, "spec.jobTemplate.spec.manualSelector", ms, nil_false);
}

void cronjob_validate(const cJSON *obj, FieldErrors *e)
{
        static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
        const cJSON *spec = get(obj, "spec"), *name = get(get(obj, "metadata"), "name");

        if (!cJSON_IsObject(spec)) {
                field_error_add(e, spec ? FIELD_ERROR_INVALID : FIELD_ERROR_REQUIRED, "spec", spec,
                                spec ? "must be an object" : NULL);
                return;
        }
        validate_schedule(spec, e);
        validate_nonnegative(spec, "startingDeadlineSeconds", "spec", e);
        validate_time_zone(spec, e);
        validate_enum(spec, "concurrencyPolicy", "spec", policies, true, e);
        validate_type_bool(spec, "suspend", "spec", e);
        validate_job_template(spec, e);
        validate_nonnegative(spec, "successfulJobsHistoryLimit", "spec", e);
        validate_nonnegative(spec, "failedJobsHistoryLimit", "spec", e);
        if (cJSON_IsString(name) && strlen(name->valuestring) > CRONJOB_NAME_MAX)
                field_error_add(e, FIELD_ERROR_INVALID, "metadata.name", name,
                                "must be no more than %d characters", CRONJOB_NAME_MAX);
}

int cronjob_set_defaults(cJSON *obj)
{
        cJSON *spec, *jt;
        bool oom;
        int r;

        spec = workload_default_object(obj, "spec", &oom);
        if (!spec)
                return oom ? -ENOMEM : 0;
        r = workload_default_string(spec, "concurrencyPolicy", "Allow");
        if (r >= 0)
                r = workload_default_bool(spec, "suspend", false);
        if (r >= 0)
                r = workload_default_int(spec, "successfulJobsHistoryLimit", 3);
        if (r >= 0)
                r = workload_default_int(spec, "failedJobsHistoryLimit", 1);
        if (r < 0)
                return r;
        /* Only the nested defaults of a JobSpec apply in a template, not SetDefaults_Job. */
        jt = cJSON_GetObjectItemCaseSensitive(spec, "jobTemplate");
        return job_spec_set_template_defaults(cJSON_GetObjectItemCaseSensitive(jt, "spec"));
}
