/* The curl/sd-event glue against a small HTTP server in a thread on 127.0.0.1: concurrent
 * transfers, cancellation, and freeing the loop with transfers in flight. */
#include <criterion/criterion.h>
#include <string.h>

#include "curl-loop.h"
#include "event-run.h"
#include "loopback.h"
#include "util.h"

/* Answers every request with its path as the body, except /hang, which never answers but
 * holds the connection open until the client goes. */
static bool answer(LoopbackHttpConn *c, const char *path)
{
        char resp[512];
        int len;

        if (streq(path, "/hang"))
                return true;
        len = snprintf(resp, sizeof(resp),
                       "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(path),
                       path);
        return loopback_send_all(c->fd, resp, (size_t)len);
}

typedef struct Result {
        bool called;
        CURLcode code;
        long status;
        char body[256];
        size_t body_size;
} Result;

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
        Result *r = userdata;
        size_t len = MIN(size * n, sizeof(r->body) - 1 - r->body_size);

        memcpy(r->body + r->body_size, data, len);
        r->body_size += len;
        return size * n;
}

static void on_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata)
{
        Result *r = userdata;

        cr_assert_not(r->called, "a transfer's callback ran twice");
        r->called = true;
        r->code = result;
        (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
}

static CURL *transfer(int port, const char *path, Result *r)
{
        CURL *easy = curl_easy_init();
        char url[128];

        cr_assert_not_null(easy);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_PROXY, ""), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_WRITEDATA, r), CURLE_OK);
        return easy;
}

typedef struct Results {
        Result *r;
        size_t n;
} Results;

static bool all_called(void *userdata)
{
        Results *rs = userdata;

        for (size_t i = 0; i < rs->n; i++)
                if (!rs->r[i].called)
                        return false;
        return true;
}

static bool in_flight_is_zero(void *userdata)
{
        return curl_loop_in_flight(userdata) == 0;
}

Test(curl_loop, runs_concurrent_transfers_each_to_its_own_callback)
{
        static const char *const paths[] = {"/a", "/bb", "/ccc", "/dddd", "/eeeee"};
        Result r[ELEMENTSOF(paths)] = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        LoopbackHttp s;

        loopback_http_start(&s, answer);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                cr_assert_eq(curl_loop_add(l, transfer(s.port, paths[i], &r[i]), on_done, &r[i]), 0);
        cr_assert_eq(curl_loop_in_flight(l), ELEMENTSOF(paths));
        /* never from inside curl_loop_add */
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                cr_assert_not(r[i].called);

        event_run_until(e, all_called, &(Results){r, ELEMENTSOF(r)}, 10 * USEC_PER_SEC);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                cr_assert(r[i].called, "%s did not finish", paths[i]);
                cr_assert_eq(r[i].code, CURLE_OK, "%s: %s", paths[i], curl_easy_strerror(r[i].code));
                cr_assert_eq(r[i].status, 200);
                cr_assert_str_eq(r[i].body, paths[i]);
        }
        cr_assert_eq(curl_loop_in_flight(l), 0);
        cr_assert_eq(loopback_http_n_requests(&s), ELEMENTSOF(paths));

        curl_loop_free(l);
        sd_event_unref(e);
        loopback_http_free(&s);
}

Test(curl_loop, reports_a_connection_error_through_the_callback)
{
        Result r = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;

        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        cr_assert_eq(curl_loop_add(l, transfer(loopback_closed_port(), "/", &r), on_done, &r), 0);
        event_run_until(e, all_called, &(Results){&r, 1}, 10 * USEC_PER_SEC);
        cr_assert(r.called);
        cr_assert_eq(r.code, CURLE_COULDNT_CONNECT);
        cr_assert_eq(curl_loop_in_flight(l), 0);
        curl_loop_free(l);
        sd_event_unref(e);
}

Test(curl_loop, finishes_loopback_transfers_without_timer_slack)
{
        Result r = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        LoopbackHttp s;
        usec_t start;

        loopback_http_start(&s, answer);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        /* warm up curl's one-time initialisation */
        cr_assert_eq(curl_loop_add(l, transfer(s.port, "/warm", &r), on_done, &r), 0);
        event_run_until(e, all_called, &(Results){&r, 1}, 10 * USEC_PER_SEC);
        cr_assert(r.called);

        /* curl asks for calls "now" (0 ms) and in a few ms: with sd-event's default timer
         * accuracy of 250 ms, each transfer would wait for a coalesced wake-up */
        start = now_usec(CLOCK_MONOTONIC);
        for (int i = 0; i < 8; i++) {
                r = (Result){};
                cr_assert_eq(curl_loop_add(l, transfer(s.port, "/fast", &r), on_done, &r), 0);
                event_run_until(e, all_called, &(Results){&r, 1}, 10 * USEC_PER_SEC);
                cr_assert(r.called);
                cr_assert_eq(r.code, CURLE_OK);
        }
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - start, 400 * USEC_PER_MSEC, "8 transfers took %llu us",
                     (unsigned long long)(now_usec(CLOCK_MONOTONIC) - start));
        curl_loop_free(l);
        sd_event_unref(e);
        loopback_http_free(&s);
}

Test(curl_loop, cancelled_transfer_never_calls_back)
{
        Result hang = {}, ok = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        CURL *h;
        LoopbackHttp s;

        loopback_http_start(&s, answer);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        h = transfer(s.port, "/hang", &hang);
        cr_assert_eq(curl_loop_add(l, h, on_done, &hang), 0);
        cr_assert_eq(curl_loop_add(l, transfer(s.port, "/ok", &ok), on_done, &ok), 0);
        /* let the hanging request reach the server, then cancel it mid-flight */
        event_run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_eq(loopback_http_n_requests(&s), 2);
        cr_assert_not(hang.called);
        curl_loop_cancel(l, h);
        cr_assert_eq(curl_loop_in_flight(l), 0);
        event_run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_not(hang.called);
        cr_assert(ok.called);
        cr_assert_str_eq(ok.body, "/ok");

        /* NULLs are no-ops */
        curl_loop_cancel(l, NULL);
        curl_loop_cancel(NULL, NULL);
        cr_assert_null(curl_loop_free(NULL));
        curl_loop_free(l);
        sd_event_unref(e);
        loopback_http_free(&s);
}

typedef struct Chain {
        CurlLoop *loop;
        int port;
        Result first, second;
} Chain;

static void on_first_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata)
{
        Chain *c = userdata;

        on_done(l, easy, result, &c->first);
        /* a cancel of the finishing transfer from its own callback changes nothing */
        curl_loop_cancel(l, easy);
        cr_assert_eq(curl_loop_add(l, transfer(c->port, "/second", &c->second), on_done, &c->second), 0);
}

static bool chain_done(void *userdata)
{
        return ((Chain *)userdata)->second.called;
}

Test(curl_loop, starts_a_transfer_from_a_callback)
{
        sd_event *e = NULL;
        LoopbackHttp s;
        Chain c = {};

        loopback_http_start(&s, answer);
        c.port = s.port;
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&c.loop, e), 0);
        cr_assert_eq(curl_loop_add(c.loop, transfer(s.port, "/first", &c.first), on_first_done, &c), 0);
        event_run_until(e, chain_done, &c, 10 * USEC_PER_SEC);
        cr_assert(c.first.called);
        cr_assert_str_eq(c.first.body, "/first");
        cr_assert(c.second.called);
        cr_assert_eq(c.second.code, CURLE_OK);
        cr_assert_str_eq(c.second.body, "/second");
        event_run_until(e, in_flight_is_zero, c.loop, USEC_PER_SEC);
        cr_assert_eq(curl_loop_in_flight(c.loop), 0);
        curl_loop_free(c.loop);
        sd_event_unref(e);
        loopback_http_free(&s);
}

Test(curl_loop, frees_with_transfers_in_flight_without_calling_back)
{
        Result r[3] = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        LoopbackHttp s;
        int n;

        loopback_http_start(&s, answer);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                cr_assert_eq(curl_loop_add(l, transfer(s.port, "/hang", &r[i]), on_done, &r[i]), 0);
        event_run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_eq(loopback_http_n_requests(&s), 3, "the requests are in flight");
        curl_loop_free(l);

        /* no socket or timer source of the freed loop may be left to fire */
        for (int i = 0; i < 10; i++) {
                n = sd_event_run(e, 10 * USEC_PER_MSEC);
                cr_assert_eq(n, 0, "a source of the freed loop was dispatched");
        }
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                cr_assert_not(r[i].called);
        sd_event_unref(e);
        loopback_http_free(&s);
}
