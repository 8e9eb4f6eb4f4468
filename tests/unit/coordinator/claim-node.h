/* One node of a coordinator test, in the test's process and on its sd-event loop: a curl loop
 * and a coordinator alone (no store, no fleet: fleet-node.h has those), counting the changes
 * of others' claims and, when asked, recording its states; and the coordinator's requests run
 * until their answer has come (at most CLAIM_NODE_WAIT_USEC), copied out into a ClaimResult.
 *
 * Use (a node array of the test's, zeroed; claim_node_done() on each in the suite's .fini):
 *
 *     static ClaimNode nodes[2];
 *
 *     claim_node_start(&nodes[0], event, &(CoordinatorOptions){...}, false);
 *     cr_assert(event_run_until(event, claim_node_is_ready, &nodes[0], WAIT_MAX_USEC));
 *     r = claim_node_ordinal(&nodes[0], "web", 0, false);
 *     claim_node_expect_won(&r, "a");
 *
 * Every function fails the test on an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "coordinator.h"
#include "curl-loop.h"
#include "util.h"

#define CLAIM_NODE_WAIT_USEC (10 * USEC_PER_SEC)
#define CLAIM_NODE_MAX_STATES 16

/* The fields are the test's to read (and co's to free, to make the node go away). */
typedef struct ClaimNode {
        const char *name;
        sd_event *event;
        CurlLoop *curl;
        Coordinator *co;
        int changes; /* on_change calls */
        /* the on_state calls, when started with record_states */
        CoordinatorState states[CLAIM_NODE_MAX_STATES];
        usec_t state_at[CLAIM_NODE_MAX_STATES]; /* CLOCK_MONOTONIC */
        size_t n_states;
} ClaimNode;

/* Frees what n had, then makes its curl loop and a coordinator of o (named o->node_name,
 * borrowed for the node's life) with n as the callbacks' userdata. record_states: every
 * on_state is checked (a change, the coordinator's state) and recorded, at most
 * CLAIM_NODE_MAX_STATES of them. Does not wait: an etcd coordinator is CONNECTING. */
void claim_node_start(ClaimNode *n, sd_event *event, const CoordinatorOptions *o, bool record_states);
/* Frees the coordinator and the curl loop, checking that no call outlived the coordinator, and
 * zeroes n. Accepts a node never started. */
void claim_node_done(ClaimNode *n);
/* For event_run_until() (userdata: the ClaimNode): the coordinator is READY. */
bool claim_node_is_ready(void *userdata);

/* One request's outcome, copied out of done. */
typedef struct ClaimResult {
        bool called;
        int calls;
        int error;
        bool won;
        char holder[64]; /* "" when nobody */
        bool has_holder;
        int64_t token;
} ClaimResult;

/* A done of the coordinator's requests; userdata: the ClaimResult. */
void claim_node_on_done(Coordinator *co, const CoordinatorClaim *c, void *userdata);

/* Each starts its request in namespace "default", checks that it started and did not answer at
 * once, and runs n's loop until it answered, once. */
ClaimResult claim_node_cron(ClaimNode *n, const char *cronjob, usec_t scheduled);
ClaimResult claim_node_ordinal(ClaimNode *n, const char *set, unsigned ordinal, bool sticky);
ClaimResult claim_node_release_ordinal(ClaimNode *n, const char *set, unsigned ordinal, bool keep_sticky);
ClaimResult claim_node_release_sticky(ClaimNode *n, const char *set, unsigned ordinal);
ClaimResult claim_node_slot(ClaimNode *n, const char *daemonset, unsigned max);
ClaimResult claim_node_release_slot(ClaimNode *n, const char *daemonset);

/* The request was decided: won, held by node. */
void claim_node_expect_won(const ClaimResult *r, const char *node);
/* The request was decided: not won, held by holder. */
void claim_node_expect_lost(const ClaimResult *r, const char *holder);
/* The release was done: held by holder after it (NULL: nobody). */
void claim_node_expect_released(const ClaimResult *r, const char *holder);
