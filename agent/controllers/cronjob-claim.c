/* Fleet CronJobs in cluster mode: before a launch, the run of that minute is claimed through
 * the coordinator (a create-only key per CronJob and minute), so that exactly one node of the
 * fleet launches it; the others skip it. The answer comes asynchronously: the CronJob waits
 * (PENDING) and is queued again with it. A CronJob annotated berth.dev/cron-scope: node runs
 * on every node instead. Without an answer (etcd unreachable, the lease being lost) the run is
 * not launched: the claim is asked again a second later, until the run's deadline passes —
 * skipping a launch is better than running it twice. */
#include <string.h>

#include "cronjob-internal.h"
#include "json-util.h"
#include "log.h"

#define CLAIM_KEEP_USEC (2 * 3600 * USEC_PER_SEC)

struct CronClaim {
        CronJobController *c;
        char *ns, *name;
        int64_t scheduled;
        CronClaimState state;
        char *holder;
        bool reported;
        usec_t asked_at;
        CoordinatorRequest *req;
};

static void claim_free(CronClaim *k)
{
        if (!k)
                return;
        coordinator_request_cancel(k->req);
        free(k->ns);
        free(k->name);
        free(k->holder);
        free(k);
}

void cronjob_claims_free(CronJobController *c)
{
        for (size_t i = 0; i < c->n_claims; i++)
                claim_free(c->claims[i]);
        c->claims = mfree(c->claims);
        c->n_claims = 0;
}

void cronjob_controller_set_coordinator(CronJobController *c, Coordinator *co)
{
        c->coordinator = co;
}

bool cronjob_is_per_node(const cJSON *cj)
{
        /* the key has dots: not a path for json_str() */
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(cj, "metadata.annotations"),
                                                          CRONJOB_SCOPE_ANNOTATION);

        return streq_ptr(cJSON_GetStringValue(v), "node");
}

static CronClaim *claim_find(CronJobController *c, const char *ns, const char *name, int64_t scheduled)
{
        for (size_t i = 0; i < c->n_claims; i++) {
                CronClaim *k = c->claims[i];
                if (k->scheduled == scheduled && streq(k->ns, ns) && streq(k->name, name))
                        return k;
        }
        return NULL;
}

/* Answers about runs long past are of no use any more. */
static void claims_prune(CronJobController *c, usec_t now)
{
        size_t k = 0;

        for (size_t i = 0; i < c->n_claims; i++) {
                CronClaim *x = c->claims[i];
                if (x->state != CRON_CLAIM_PENDING &&
                    (usec_t)x->scheduled * USEC_PER_SEC + CLAIM_KEEP_USEC < now)
                        claim_free(x);
                else
                        c->claims[k++] = x;
        }
        c->n_claims = k;
}

static void on_claimed(Coordinator *co, const CoordinatorClaim *r, void *userdata)
{
        CronClaim *k = userdata;

        (void)co;
        k->req = NULL;
        if (r->error < 0) {
                log_warning_errno(
                    r->error, "CronJob %s/%s: the run of %lld could not be claimed: %m; not launched yet.",
                    k->ns, k->name, (long long)k->scheduled);
                k->state = CRON_CLAIM_NONE;
        } else {
                k->state = r->won ? CRON_CLAIM_WON : CRON_CLAIM_LOST;
                free(k->holder);
                k->holder = r->holder ? strdup(r->holder) : NULL;
        }
        workqueue_add(k->c->queue, k->ns, k->name);
}

CronClaimState cronjob_claim(CronJobController *c, const cJSON *cj, const char *ns, const char *name,
                             int64_t scheduled, const char **ret_holder)
{
        CronClaim *k, **v;
        usec_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        *ret_holder = NULL;
        if (!c->coordinator || coordinator_type(c->coordinator) == COORDINATOR_LOCAL ||
            cronjob_is_per_node(cj))
                return CRON_CLAIM_WON;
        claims_prune(c, cronjob_now(c));
        k = claim_find(c, ns, name, scheduled);
        if (k && k->state != CRON_CLAIM_NONE) {
                *ret_holder = k->holder;
                return k->state;
        }
        if (k && now < k->asked_at + USEC_PER_SEC)
                return CRON_CLAIM_NONE; /* asked a moment ago without an answer: not yet again */
        if (!k) {
                v = reallocarray(c->claims, c->n_claims + 1, sizeof(*v));
                if (!v)
                        return CRON_CLAIM_NONE;
                c->claims = v;
                k = calloc(1, sizeof(*k));
                if (!k || !(k->ns = strdup(ns)) || !(k->name = strdup(name))) {
                        claim_free(k);
                        return CRON_CLAIM_NONE;
                }
                k->c = c;
                k->scheduled = scheduled;
                c->claims[c->n_claims++] = k;
        }
        k->asked_at = now;
        r = coordinator_claim_cron(c->coordinator, ns, name, (usec_t)scheduled * USEC_PER_SEC, on_claimed, k,
                                   &k->req);
        if (r < 0) {
                log_debug_errno(r, "CronJob %s/%s: cannot claim the run of %lld now: %m", ns, name,
                                (long long)scheduled);
                return CRON_CLAIM_NONE;
        }
        k->state = CRON_CLAIM_PENDING;
        return CRON_CLAIM_PENDING;
}

bool cronjob_claim_report_once(CronJobController *c, const char *ns, const char *name, int64_t scheduled)
{
        CronClaim *k = claim_find(c, ns, name, scheduled);

        if (!k || k->reported)
                return false;
        k->reported = true;
        return true;
}
