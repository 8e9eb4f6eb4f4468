/* Internal layout of the Job controller, shared by job-controller.c (queue and wiring),
 * job-sync.c (syncJob), job-pods.c (pods from the template, deletion), job-status.c (pure
 * status and condition arithmetic) and job-policy.c (podFailurePolicy, back-off). */
#pragma once

#include <cjson/cJSON.h>

#include "job-controller.h"
#include "util.h"
#include "workqueue.h"

#define JOB_LABEL_JOB_NAME "batch.kubernetes.io/job-name"
#define JOB_LABEL_LEGACY_JOB_NAME "job-name"
#define JOB_LABEL_CONTROLLER_UID "batch.kubernetes.io/controller-uid"
#define JOB_LABEL_LEGACY_CONTROLLER_UID "controller-uid"
#define JOB_TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define JOB_COMPLETION_INDEX_KEY "batch.kubernetes.io/job-completion-index"
#define JOB_INDEX_FAILURE_COUNT_KEY "batch.kubernetes.io/job-index-failure-count"
#define JOB_INDEX_IGNORED_FAILURE_COUNT_KEY "batch.kubernetes.io/job-index-ignored-failure-count"
#define JOB_COMPLETION_INDEX_ENV "JOB_COMPLETION_INDEX"

/* DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff */
#define JOB_POD_FAILURE_BACKOFF_USEC (10 * USEC_PER_SEC)
#define JOB_POD_FAILURE_MAX_BACKOFF_USEC (600 * USEC_PER_SEC)
/* MaxPodCreateDeletePerSync */
#define JOB_MAX_POD_CREATE_DELETE_PER_SYNC 500
/* names.MaxGeneratedNameLength */
#define JOB_MAX_GENERATED_NAME_LENGTH 58

struct JobController {
        sd_event *event;
        Store *store;
        char *node_name;
        WorkQueue *queue;
};

/* spec with SetDefaults_Job applied on read; borrowed pointers into the Job. */
typedef struct JobParams {
        int64_t parallelism;
        int64_t completions; /* -1: nil (work-queue Job) */
        int64_t backoff_limit;
        int64_t active_deadline_sec;     /* -1: none */
        int64_t ttl_sec;                 /* -1: none */
        int64_t backoff_limit_per_index; /* -1: none */
        int64_t max_failed_indexes;      /* -1: none */
        bool indexed;
        bool suspend;
        bool only_replace_failed; /* podReplacementPolicy Failed */
        const char *completion_mode;
        const char *restart_policy;
        const cJSON *pod_failure_policy;
        const cJSON *success_policy;
} JobParams;

void job_params_from_spec(const cJSON *job, JobParams *ret);

/* job-status.c: pure arithmetic over JSON, no store access */
const cJSON *job_condition_find(const cJSON *status, const char *type);
bool job_condition_is_true(const cJSON *status, const char *type);
bool job_is_finished(const cJSON *status);
/* ensureJobConditionStatus: adds or updates condition type to cstatus; a missing condition
 * is not added for "False". Returns 1 when changed, 0 when not, -ENOMEM. */
int job_condition_ensure(cJSON *status, const char *type, const char *cstatus, const char *reason,
                         const char *message, usec_t now);
int64_t job_want_active(const JobParams *p, int64_t succeeded, int64_t active);
/* The pod's finish time (SEMANTICS 3.4): latest container finishedAt, else Ready=False
 * lastTransitionTime, else deletionTimestamp - grace, else creationTimestamp. */
usec_t job_pod_finish_time(const cJSON *pod);
/* getRemainingTimeForFailuresCount: 10 s * 2^(n-1) capped at 10 min, minus the time since
 * last_failure, floored at 0. */
usec_t job_backoff_remaining(unsigned failures, usec_t last_failure, usec_t now);
/* Indexes as "0-2,4,6-7" from a sorted set of n flags; NULL on OOM. "" when none. */
char *job_indexes_format(const bool *set, size_t n);
/* Parses an interval string into set[0..n) (indexes >= n are dropped). -EINVAL on garbage. */
int job_indexes_parse(const char *s, bool *set, size_t n);
size_t job_indexes_count(const bool *set, size_t n);

/* job-policy.c: podFailurePolicy (pod_failure_policy.go) */
typedef enum JobFailureAction {
        JOB_FAILURE_NO_MATCH,
        JOB_FAILURE_FAIL_JOB,
        JOB_FAILURE_FAIL_INDEX,
        JOB_FAILURE_IGNORE,
        JOB_FAILURE_COUNT,
} JobFailureAction;
/* Matches a failed pod against the rules; *ret_message (malloc'd, optional) gets the
 * FailJob message. Returns the action or a negative errno. */
int job_policy_match(const cJSON *policy, const cJSON *pod, char **ret_message);

/* job-pods.c */
/* Builds the pod for the Job (index < 0: NonIndexed); failure_count is the per-index
 * failure-count annotation value (-1: none). */
int job_pods_build(const cJSON *job, int64_t index, int64_t failure_count, int64_t ignored_count,
                   cJSON **ret);
bool job_pod_has_finalizer(const cJSON *pod);
int job_pod_remove_finalizer(cJSON *pod);
int64_t job_pod_index(const cJSON *pod); /* -1 when none or invalid */
bool job_pod_is_ready(const cJSON *pod);
/* The pods controlled by the Job with uid (controller ownerReference), as a JSON array. */
int job_pods_list(Store *s, const char *ns, const char *uid, cJSON **ret);

int job_sync(JobController *c, const char *ns, const char *name);
