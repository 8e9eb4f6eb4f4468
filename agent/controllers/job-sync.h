/* State of one syncJob, shared by job-sync.c (counting, terminal decisions, commit),
 * job-manage.c (manageJob, suspend, completion) and job-indexed.c (Indexed Jobs). */
#pragma once

#include "job-internal.h"

typedef struct JobSyncEvent {
        const char *type, *reason;
        char *message;
} JobSyncEvent;

typedef struct JobSync {
        JobController *c;
        const char *ns, *name, *uid;
        cJSON *job;    /* as stored */
        cJSON *pods;   /* the pods the Job controls */
        cJSON *status; /* being computed */
        JobParams p;
        usec_t now; /* CLOCK_REALTIME */

        int64_t active, ready, terminating, succeeded, failed;
        bool *succeeded_idx, *failed_idx; /* Indexed: completions flags each */
        char *fail_job_message;           /* podFailurePolicy FailJob match */

        bool terminal, terminal_success;
        const char *terminal_reason, *terminal_message;
        char terminal_buf[64]; /* storage for a formatted terminal_message */

        char **uncount; /* pods whose tracking finalizer the commit removes */
        size_t n_uncount;
        char **deletions; /* pods the commit deletes */
        size_t n_deletions;
        JobSyncEvent *events; /* emitted after the commit */
        size_t n_events;

        usec_t requeue_realtime; /* CLOCK_REALTIME deadline, 0: none */
        usec_t requeue_after;    /* back-off interval, 0: none */
} JobSync;

bool job_pod_is_terminal(const cJSON *pod);
bool job_pod_is_active(const cJSON *pod);
bool job_pod_is_failed(const JobSync *s, const cJSON *pod);
int job_sync_delete_pod(JobSync *s, const cJSON *pod, bool count_failed);
int job_sync_event(JobSync *s, const char *type, const char *reason, const char *msg);
/* Adds the interim condition, and the final one when nothing is terminating. */
int job_sync_finish(JobSync *s, bool success, const char *reason, const char *message);

/* job-manage.c */
int job_manage(JobSync *s);
/* controller.ActivePods as a qsort comparator over const cJSON *: the pods cheapest to lose
 * first (unassigned, Pending, not ready, ready for less time, more restarts, newer). */
int job_pod_removal_order(const void *a, const void *b);

/* job-indexed.c; all no-ops for NonIndexed Jobs */
int job_index_init(JobSync *s);
/* true unless the Job is Indexed and the pod has no index or one >= completions */
bool job_index_pod_valid(const JobSync *s, const cJSON *pod);
/* appendDuplicatedIndexPodsForRemoval: reorders the active pods v[0..n) so that those an
 * Indexed Job deletes whatever its parallelism come first (no valid index; every pod of a
 * repeated index but the one job_pod_removal_order ranks last) and returns their number;
 * the rest follow. Returns 0 for NonIndexed Jobs, -ENOMEM. */
int job_index_removals(const JobSync *s, const cJSON **v, size_t n);
int job_index_count_failure(JobSync *s, const cJSON *pod, bool fail_index);
void job_index_decide_terminal(JobSync *s);
int job_index_write_status(JobSync *s);
/* The lowest n pending indexes into ret[]; returns how many. */
size_t job_index_pending(JobSync *s, int64_t *ret, size_t n);
/* The failure-count annotations for a replacement pod of index (backoffLimitPerIndex). */
void job_index_failure_counts(JobSync *s, int64_t index, int64_t *ret_failures, int64_t *ret_ignored);
