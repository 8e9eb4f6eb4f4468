/* One node of a coordinator test, and its requests' outcomes: see claim-node.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "claim-node.h"
#include "event-run.h"

static void on_state(Coordinator *co, CoordinatorState state, void *userdata)
{
        ClaimNode *n = userdata;

        cr_assert_lt(n->n_states, CLAIM_NODE_MAX_STATES);
        cr_assert_eq(coordinator_state(co), state);
        cr_assert(n->n_states == 0 || n->states[n->n_states - 1] != state, "on_state without a change");
        n->states[n->n_states] = state;
        n->state_at[n->n_states++] = now_usec(CLOCK_MONOTONIC);
}

static void on_change(Coordinator *co, void *userdata)
{
        ((ClaimNode *)userdata)->changes++;
}

void claim_node_start(ClaimNode *n, sd_event *event, const CoordinatorOptions *o, bool record_states)
{
        CoordinatorCallbacks cb = {
            .on_state = record_states ? on_state : NULL, .on_change = on_change, .userdata = n};
        _cleanup_free_ char *error = NULL;

        n->co = coordinator_free(n->co);
        n->curl = curl_loop_free(n->curl);
        *n = (ClaimNode){.name = o->node_name, .event = event};
        cr_assert_eq(curl_loop_new(&n->curl, event), 0);
        cr_assert_eq(coordinator_new(&n->co, event, n->curl, o, &cb, &error), 0, "%s", error ?: "");
}

void claim_node_done(ClaimNode *n)
{
        n->co = coordinator_free(n->co);
        if (n->curl)
                cr_assert_eq(curl_loop_in_flight(n->curl), 0, "a call outlived its coordinator");
        n->curl = curl_loop_free(n->curl);
        *n = (ClaimNode){};
}

bool claim_node_is_ready(void *userdata)
{
        return coordinator_state(((ClaimNode *)userdata)->co) == COORDINATOR_READY;
}

void claim_node_on_done(Coordinator *co, const CoordinatorClaim *c, void *userdata)
{
        ClaimResult *r = userdata;

        r->called = true;
        r->calls++;
        r->error = c->error;
        r->won = c->won;
        r->token = c->token;
        r->has_holder = c->holder != NULL;
        snprintf(r->holder, sizeof(r->holder), "%s", c->holder ?: "");
}

/* k: what the function that started the request returned. */
static ClaimResult wait_result(ClaimNode *n, int k, ClaimResult *r)
{
        cr_assert_eq(k, 0, "starting the request failed: %s", strerror(-k));
        cr_assert_not(r->called, "done ran inside the function that started it");
        cr_assert(event_run_until_set(n->event, &r->called, CLAIM_NODE_WAIT_USEC), "no answer");
        cr_assert_eq(r->calls, 1);
        return *r;
}

ClaimResult claim_node_cron(ClaimNode *n, const char *cronjob, usec_t scheduled)
{
        ClaimResult r = {};

        return wait_result(
            n, coordinator_claim_cron(n->co, "default", cronjob, scheduled, claim_node_on_done, &r, NULL),
            &r);
}

ClaimResult claim_node_ordinal(ClaimNode *n, const char *set, unsigned ordinal, bool sticky)
{
        ClaimResult r = {};

        return wait_result(
            n,
            coordinator_claim_ordinal(n->co, "default", set, ordinal, sticky, claim_node_on_done, &r, NULL),
            &r);
}

ClaimResult claim_node_release_ordinal(ClaimNode *n, const char *set, unsigned ordinal, bool keep_sticky)
{
        ClaimResult r = {};

        return wait_result(n,
                           coordinator_release_ordinal(n->co, "default", set, ordinal, keep_sticky,
                                                       claim_node_on_done, &r, NULL),
                           &r);
}

ClaimResult claim_node_release_sticky(ClaimNode *n, const char *set, unsigned ordinal)
{
        ClaimResult r = {};

        return wait_result(
            n, coordinator_release_sticky(n->co, "default", set, ordinal, claim_node_on_done, &r, NULL), &r);
}

ClaimResult claim_node_slot(ClaimNode *n, const char *daemonset, unsigned max)
{
        ClaimResult r = {};

        return wait_result(
            n, coordinator_claim_slot(n->co, "default", daemonset, max, claim_node_on_done, &r, NULL), &r);
}

ClaimResult claim_node_release_slot(ClaimNode *n, const char *daemonset)
{
        ClaimResult r = {};

        return wait_result(
            n, coordinator_release_slot(n->co, "default", daemonset, claim_node_on_done, &r, NULL), &r);
}

void claim_node_expect_won(const ClaimResult *r, const char *node)
{
        cr_assert_eq(r->error, 0, "the claim failed: %s", strerror(-r->error));
        cr_assert(r->won, "lost to %s", r->holder);
        cr_assert_str_eq(r->holder, node);
        cr_assert_gt(r->token, 0);
}

void claim_node_expect_lost(const ClaimResult *r, const char *holder)
{
        cr_assert_eq(r->error, 0, "the claim failed: %s", strerror(-r->error));
        cr_assert_not(r->won);
        cr_assert_str_eq(r->holder, holder);
}

void claim_node_expect_released(const ClaimResult *r, const char *holder)
{
        cr_assert_eq(r->error, 0, "the release failed: %s", strerror(-r->error));
        cr_assert_not(r->won);
        if (holder)
                cr_assert_str_eq(r->holder, holder);
        else
                cr_assert_not(r->has_holder, "holder %s", r->holder);
}
