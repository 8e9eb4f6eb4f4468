#include <criterion/criterion.h>
#include <string.h>

#include "workqueue.h"

static char seen[8][64];
static size_t n_seen;

static int handle(void *userdata, const char *ns, const char *name)
{
        if (n_seen < 8)
                snprintf(seen[n_seen++], sizeof(seen[0]), "%s/%s", ns, name);
        return 0;
}

Test(workqueue, handles_a_key_once_however_often_it_was_added)
{
        sd_event *e = NULL;
        WorkQueue *q = NULL;

        n_seen = 0;
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(workqueue_new(&q, e, "test", handle, NULL), 0);
        workqueue_add(q, "default", "a");
        workqueue_add(q, "default", "b");
        workqueue_add(q, "default", "a");
        cr_assert_eq(workqueue_length(q), 2);
        cr_assert_geq(sd_event_run(e, 0), 0);
        cr_assert_eq(n_seen, 2);
        cr_assert_str_eq(seen[0], "default/a");
        cr_assert_str_eq(seen[1], "default/b");
        workqueue_free(q);
        sd_event_unref(e);
}

Test(workqueue, adds_after_a_delay_and_cancels_pending_timers_when_freed)
{
        sd_event *e = NULL;
        WorkQueue *q = NULL;
        usec_t start = now_usec(CLOCK_MONOTONIC);

        n_seen = 0;
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(workqueue_new(&q, e, "test", handle, NULL), 0);
        workqueue_add_after(q, "ns", "later", 50 * USEC_PER_MSEC);
        while (n_seen == 0 && now_usec(CLOCK_MONOTONIC) - start < 5 * USEC_PER_SEC)
                cr_assert_geq(sd_event_run(e, 100 * USEC_PER_MSEC), 0);
        cr_assert_str_eq(seen[0], "ns/later");
        cr_assert_geq(now_usec(CLOCK_MONOTONIC) - start, 50 * USEC_PER_MSEC);

        /* a timer still pending when the queue goes must not fire into freed memory */
        workqueue_add_after(q, "ns", "never", 20 * USEC_PER_MSEC);
        workqueue_free(q);
        start = now_usec(CLOCK_MONOTONIC);
        while (now_usec(CLOCK_MONOTONIC) - start < 100 * USEC_PER_MSEC)
                cr_assert_geq(sd_event_run(e, 10 * USEC_PER_MSEC), 0);
        cr_assert_eq(n_seen, 1);
        sd_event_unref(e);
}
