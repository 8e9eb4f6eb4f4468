/* The CronJob controller: launches a Job per schedule time of each CronJob with Kubernetes'
 * semantics (SEMANTICS.md §2: missed times, startingDeadlineSeconds, concurrencyPolicy,
 * suspend, history limits, status), exactly once: the Job and the CronJob status that
 * records it are committed in one store transaction under a deterministic Job name.
 * Wall-clock timers per CronJob, and a clock-change watch that re-examines every CronJob.
 *
 * A CronJob whose schedule is "@reboot" (berth's extension, see cron-spec.h) gets no timer:
 * it launches one Job per boot of the machine, told apart by the kernel's boot id (the Job
 * is named "<cronjob>-<the first ten letters and digits of the boot id>"). The boot
 * it ran in is recorded in the store's kv table in the launch's transaction, so neither an
 * agent restart nor a crash within one boot runs it again; a new boot id runs it once more.
 * A CronJob created or resumed during a boot that it has not run in runs at once.
 *
 * Test hook: when the environment variable BERTH_FAULT equals "cronjob-after-commit" at
 * cronjob_controller_new() time, the process kills itself with SIGKILL right after a launch
 * transaction commits (for crash-consistency tests). When BERTH_BOOT_ID_FILE is set at that
 * time, the boot id is read from that file instead of the kernel's (to fake a reboot). */
#pragma once

#include <systemd/sd-event.h>

#include "store.h"

typedef struct CronJobController CronJobController;

int cronjob_controller_new(CronJobController **ret, sd_event *e, Store *store);
CronJobController *cronjob_controller_free(CronJobController *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CronJobController *, cronjob_controller_free);

/* CronJob and Job changes (the manager wires every store change here; others are ignored). */
void cronjob_controller_on_store_change(CronJobController *c, StoreChange change, const cJSON *obj);
/* Cluster mode: fleet CronJobs launch on the node that claims each run through co (borrowed;
 * NULL or local: every run launches here). */
struct Coordinator;
void cronjob_controller_set_coordinator(CronJobController *c, struct Coordinator *co);
/* Queues every stored CronJob. Returns 0 or a negative errno from the store. */
int cronjob_controller_resync(CronJobController *c);
