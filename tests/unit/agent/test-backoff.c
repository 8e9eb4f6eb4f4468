#include <criterion/criterion.h>

#include "pod-worker.h"

#define S USEC_PER_SEC

Test(backoff, restarts_first_at_once_then_waits_10s_doubling_to_300s)
{
        BackoffEntry b = {0};
        usec_t t = 1000 * S, until = 0;
        const unsigned expect[] = {10, 20, 40, 80, 160, 300, 300};

        /* first failure: restart immediately */
        cr_assert_not(backoff_should_wait(&b, t, t, &until));
        backoff_next(&b, t, t);
        for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
                usec_t finished = t + 1 * S;
                cr_assert(backoff_should_wait(&b, finished, finished, &until));
                cr_assert_eq(until - finished, expect[i] * S, "step %zu waits %llu", i,
                             (unsigned long long)((until - finished) / S));
                t = until;
                cr_assert_not(backoff_should_wait(&b, finished, t, &until));
                backoff_next(&b, finished, t);
        }
}

Test(backoff, resets_after_ten_minutes_of_running)
{
        BackoffEntry b = {.backoff = 160 * S, .last_update = 1000 * S};
        usec_t until;

        /* ran 601 s since the last restart: no wait, and the next delay is 10 s again */
        cr_assert_not(backoff_should_wait(&b, 1601 * S, 1601 * S, &until));
        backoff_next(&b, 1601 * S, 1601 * S);
        cr_assert_eq(b.backoff, 10 * S);
}
