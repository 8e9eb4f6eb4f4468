/* The kubelet's crash-loop back-off (client-go flowcontrol.Backoff with the kubelet's fixed
 * 600 s expiry): first restart at once, then 10 s doubling to 300 s; an entry whose
 * container ran for more than 10 minutes since its last restart starts over. */
#include "pod-worker.h"

static bool expired(const BackoffEntry *b, usec_t finished_at)
{
        return finished_at > b->last_update && finished_at - b->last_update > CRASHLOOP_RESET_USEC;
}

bool backoff_should_wait(const BackoffEntry *b, usec_t finished_at, usec_t now, usec_t *ret_wait_until)
{
        if (b->backoff == 0 || expired(b, finished_at))
                return false;
        if (now >= finished_at && now - finished_at >= b->backoff)
                return false;
        *ret_wait_until = finished_at + b->backoff;
        return true;
}

void backoff_next(BackoffEntry *b, usec_t finished_at, usec_t now)
{
        /* Next() is called with the current time, IsInBackOffSince() with finishedAt */
        (void)finished_at;
        if (b->backoff == 0 || expired(b, now))
                b->backoff = CRASHLOOP_INITIAL_BACKOFF_USEC;
        else
                b->backoff = MIN(b->backoff * 2, CRASHLOOP_MAX_BACKOFF_USEC);
        b->last_update = now;
}
