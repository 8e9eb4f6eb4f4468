/* The CronJob controller's layout, shared by its loop side (cronjob-controller.c) and its
 * reconcile (cronjob-sync.c), and the hooks its unit tests use. */
#pragma once

#include "coordinator.h"
#include "cronjob-controller.h"
#include "workqueue.h"

#define CRONJOB_FAULT_ENV "BERTH_FAULT"
#define CRONJOB_FAULT_AFTER_COMMIT "cronjob-after-commit"
/* Where the id of the machine's current boot is read for "@reboot" CronJobs; the
 * environment variable names another file instead (integration tests fake a reboot). */
#define CRONJOB_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define CRONJOB_BOOT_ID_ENV "BERTH_BOOT_ID_FILE"
/* The store's kv key recording the boot an "@reboot" CronJob last ran in: this prefix and
 * the CronJob's uid; the value {"bootID": ..., "job": ...} is written in the launch's
 * transaction. */
#define CRONJOB_REBOOT_KV_PREFIX "cronjob-reboot/"
/* An "@reboot" launch's Job is "<cronjob>-<up to this many letters and digits of the boot
 * id>", as long as a scheduled launch's "-<unix minutes>". */
#define CRONJOB_REBOOT_SUFFIX_MAX 10
/* A failed sync is retried after this long (a fixed-rate stand-in for the rate limiter). */
#define CRONJOB_RETRY_USEC (10 * USEC_PER_SEC)

/* The wall-clock time a CronJob's requeue timer is armed for, so that repeated syncs do not
 * pile up timers for the same instant. */
typedef struct CronJobArmed {
        char *key; /* "<namespace>/<name>" */
        usec_t at;
        usec_t due; /* the scheduled instant this wake-up prepares (kept after it fired) */
        bool woke;  /* its timer fired: the sync under way may launch `due` ahead */
} CronJobArmed;

/* Cluster mode (cronjob-claim.c): which node launches a fleet CronJob's run. */
#define CRONJOB_SCOPE_ANNOTATION "berth.dev/cron-scope" /* "node": every node runs it */
typedef enum CronClaimState {
        CRON_CLAIM_NONE,    /* not decided and not being asked (no answer yet): do not launch */
        CRON_CLAIM_PENDING, /* asked: the CronJob is queued again with the answer */
        CRON_CLAIM_WON,     /* this node launches it */
        CRON_CLAIM_LOST,    /* another node does */
} CronClaimState;
typedef struct CronClaim CronClaim;

struct CronJobController {
        sd_event *event;
        Store *store;
        WorkQueue *queue;
        sd_event_source *clock_source;
        int clock_fd;
        CronJobArmed *armed;
        size_t n_armed;
        bool fault_after_commit;
        usec_t now_override; /* tests: 0 = the real CLOCK_REALTIME */
        char *boot_id_path;
        char *boot_id;            /* read once: it cannot change while the agent runs */
        Coordinator *coordinator; /* NULL or local: every run is this node's */
        CronClaim **claims;
        size_t n_claims;
};

/* Whether this node launches the run of ns/name scheduled at `scheduled` (Unix seconds). WON
 * at once without a coordinator, with the local one, or for a per-node CronJob; *ret_holder is
 * the node that launches it when known (LOST). */
CronClaimState cronjob_claim(CronJobController *c, const cJSON *cj, const char *ns, const char *name,
                             int64_t scheduled, const char **ret_holder);
/* true the first time it is asked about that run (an event per lost run, not per sync) */
bool cronjob_claim_report_once(CronJobController *c, const char *ns, const char *name, int64_t scheduled);
bool cronjob_is_per_node(const cJSON *cj);
void cronjob_claims_free(CronJobController *c);

/* One reconcile of the CronJob ns/name (sync + syncCronJob). */
int cronjob_sync(CronJobController *c, const char *ns, const char *name);
/* Requeue at an absolute CLOCK_REALTIME time (USEC_INFINITY = never), once per instant. */
void cronjob_requeue_at(CronJobController *c, const char *ns, const char *name, usec_t at, usec_t due);
/* The controller's wall clock (now_override in tests). */
usec_t cronjob_now(CronJobController *c);
/* The id of the current boot (borrowed), read from boot_id_path on first use. Returns 0,
 * or a negative errno when it cannot be read (-EINVAL when the file is empty). */
int cronjob_boot_id(CronJobController *c, const char **ret);
/* "cronjob-reboot/<uid>" (malloc'd), or NULL on OOM. */
char *cronjob_reboot_key(const char *uid);

/* Tests: inject the wall clock (0 = real), read the armed requeue time (0 = none). */
void cronjob_controller_set_now(CronJobController *c, usec_t now);
/* Tests: the boot id to use instead of reading boot_id_path (NULL: read it again). Returns
 * 0 or -ENOMEM. */
int cronjob_controller_set_boot_id(CronJobController *c, const char *boot_id);
usec_t cronjob_controller_armed_at(CronJobController *c, const char *ns, const char *name);

/* Jobs sorted for history cleanup: status.startTime ascending, nil last, ties by name. */
int cronjob_compare_jobs_by_start(const cJSON *a, const cJSON *b);

/* How long before a scheduled time its launch is committed and its pod prepared; the command
 * itself is exec'd at the scheduled instant (pod annotation START_AT_ANNOTATION). */
#define CRONJOB_LAUNCH_LEAD_USEC (1 * USEC_PER_SEC)
/* When many CronJobs are due at the same instant, each of them starts preparing this much
 * earlier per other CronJob due then (a launch costs a few milliseconds of the agent's
 * time), so that all are prepared by the instant; capped at CRONJOB_LAUNCH_LEAD_MAX_USEC. */
#define CRONJOB_LAUNCH_LEAD_PER_DUE_USEC (40 * USEC_PER_MSEC)
#define CRONJOB_LAUNCH_LEAD_MAX_USEC (60 * USEC_PER_SEC)
/* The lead for a launch due at `due`, given the other CronJobs armed for the same instant. */
usec_t cronjob_launch_lead(CronJobController *c, const char *ns, const char *name, usec_t due);
/* The instant the CronJob's timer that just woke it was armed for (0 when the sync under
 * way was not started by that timer). */
usec_t cronjob_armed_due(CronJobController *c, const char *ns, const char *name);
#define START_AT_ANNOTATION "berth.dev/start-at"
