/* libcurl multi on sd-event: curl tells which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back (CURLMOPT_TIMERFUNCTION); each becomes an sd-event source, and
 * finished transfers are collected after every action. */
#include <errno.h>
#include <stdlib.h>

#include "curl-loop.h"
#include "util.h"

typedef struct Transfer Transfer;
struct Transfer {
        CURL *easy;
        curl_loop_done_t done;
        void *userdata;
        bool finishing; /* its callback runs: a cancel from inside it changes nothing */
        Transfer *prev, *next;
};

/* Not to be freed from inside a transfer's callback. */
struct CurlLoop {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        Transfer *transfers; /* every handle added and not yet finished or cancelled */
        size_t n_transfers;
};

static void unlink_transfer(CurlLoop *l, Transfer *t)
{
        if (t->prev)
                t->prev->next = t->next;
        else
                l->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        t->prev = t->next = NULL;
        l->n_transfers--;
}

static void check_done(CurlLoop *l);

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        CurlLoop *l = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        (void)curl_multi_socket_action(l->multi, fd, action, &running);
        check_done(l);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        CurlLoop *l = userdata;
        int running;

        (void)curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(l);
        return 0;
}

/* The per-socket source is curl's socket data (curl_multi_assign). */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        CurlLoop *l = userp;
        sd_event_source *s = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        /* curl may close the fd right after: never keep it in epoll */
                        (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                        sd_event_source_unref(s);
                        curl_multi_assign(l->multi, fd, NULL);
                }
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (s)
                return sd_event_source_set_io_events(s, events) < 0 ? -1 : 0;
        if (sd_event_add_io(l->event, &s, fd, events, on_io, l) < 0)
                return -1;
        (void)sd_event_source_set_description(s, "curl-io");
        if (curl_multi_assign(l->multi, fd, s) != CURLM_OK) {
                sd_event_source_disable_unref(s);
                return -1;
        }
        return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
        CurlLoop *l = userp;
        usec_t now;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(l->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_now(l->event, CLOCK_MONOTONIC, &now) < 0)
                now = now_usec(CLOCK_MONOTONIC);
        if (sd_event_source_set_time(l->timer, now + (usec_t)timeout_ms * USEC_PER_MSEC) < 0 ||
            sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

static void finish(CurlLoop *l, CURL *easy, CURLcode result)
{
        Transfer *t = NULL;

        (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(l->multi, easy);
        if (t) {
                unlink_transfer(l, t);
                t->finishing = true;
                if (t->done)
                        t->done(l, easy, result, t->userdata);
        }
        curl_easy_cleanup(easy);
        free(t);
}

static void check_done(CurlLoop *l)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(l->multi, &left)))
                if (m->msg == CURLMSG_DONE)
                        finish(l, m->easy_handle, m->data.result);
}

int curl_loop_new(CurlLoop **ret, sd_event *e)
{
        CurlLoop *l;
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(e);
        l->multi = curl_multi_init();
        if (!l->multi) {
                curl_loop_free(l);
                return -ENOMEM;
        }
        /* accuracy 0 would mean sd-event's default of 250 ms, by which every "call me now"
         * of curl's (one per transfer start) could be coalesced that late */
        r = sd_event_add_time(e, &l->timer, CLOCK_MONOTONIC, USEC_INFINITY, USEC_PER_MSEC, on_timer, l);
        if (r < 0) {
                curl_loop_free(l);
                return r;
        }
        (void)sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
        (void)sd_event_source_set_description(l->timer, "curl-timer");
        if (curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
            curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
            curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
            curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK) {
                curl_loop_free(l);
                return -EINVAL;
        }
        *ret = l;
        return 0;
}

CurlLoop *curl_loop_free(CurlLoop *l)
{
        if (!l)
                return NULL;
        while (l->transfers)
                curl_loop_cancel(l, l->transfers->easy);
        if (l->multi)
                curl_multi_cleanup(l->multi);
        sd_event_source_disable_unref(l->timer);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}

int curl_loop_add(CurlLoop *l, CURL *easy, curl_loop_done_t done, void *userdata)
{
        Transfer *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        *t = (Transfer){.easy = easy, .done = done, .userdata = userdata};
        if (curl_easy_setopt(easy, CURLOPT_PRIVATE, t) != CURLE_OK) {
                free(t);
                return -EINVAL;
        }
        if (curl_multi_add_handle(l->multi, easy) != CURLM_OK) {
                (void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                free(t);
                return -EINVAL;
        }
        t->next = l->transfers;
        if (t->next)
                t->next->prev = t;
        l->transfers = t;
        l->n_transfers++;
        return 0;
}

void curl_loop_cancel(CurlLoop *l, CURL *easy)
{
        Transfer *t = NULL;

        if (!l || !easy)
                return;
        (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        if (!t || t->finishing)
                return; /* finish() cleans it up when its callback returns */
        curl_multi_remove_handle(l->multi, easy);
        unlink_transfer(l, t);
        curl_easy_cleanup(easy);
        free(t);
}

size_t curl_loop_in_flight(const CurlLoop *l)
{
        return l ? l->n_transfers : 0;
}

sd_event *curl_loop_get_event(const CurlLoop *l)
{
        return l ? l->event : NULL;
}
