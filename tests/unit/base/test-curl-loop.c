/* The curl/sd-event glue against a small HTTP server in a thread on 127.0.0.1: concurrent
 * transfers, cancellation, and freeing the loop with transfers in flight. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "curl-loop.h"
#include "util.h"

/* Answers every request with its path as the body, except /hang, which never answers. One
 * thread per connection, so that a hanging request does not hold up the others. */
typedef struct Server {
        int fd;
        int port;
        int stop[2];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_t conns[64];
        size_t n_conns;
        atomic_int n_requests;
} Server;

typedef struct Conn {
        Server *server;
        int fd;
} Conn;

/* Waits for fd to be readable; false when the server stops or after timeout_ms. */
static bool wait_readable(Server *s, int fd, int timeout_ms)
{
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};

        return poll(p, 2, timeout_ms) > 0 && !(p[1].revents & POLLIN) && p[0].revents;
}

static void *serve_conn(void *userdata)
{
        Conn *c = userdata;
        char req[4096], path[256] = "", resp[512];
        size_t n = 0;
        ssize_t k;

        while (n < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
                if (!wait_readable(c->server, c->fd, 5000))
                        goto out;
                k = read(c->fd, req + n, sizeof(req) - 1 - n);
                if (k <= 0)
                        goto out;
                n += (size_t)k;
                req[n] = 0;
        }
        atomic_fetch_add(&c->server->n_requests, 1);
        (void)sscanf(req, "GET %255s", path);
        if (!streq(path, "/hang")) {
                int len = snprintf(resp, sizeof(resp),
                                   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                   strlen(path), path);
                if (write(c->fd, resp, (size_t)len) != len)
                        goto out;
        }
        /* until the client goes (or the server stops) */
        while (wait_readable(c->server, c->fd, 5000) && read(c->fd, req, sizeof(req)) > 0)
                ;
out:
        close(c->fd);
        free(c);
        return NULL;
}

static void *serve(void *userdata)
{
        Server *s = userdata;

        while (wait_readable(s, s->fd, 10000)) {
                Conn *c = calloc(1, sizeof(*c));

                if (!c)
                        abort();
                c->server = s;
                c->fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c->fd < 0) {
                        free(c);
                        continue;
                }
                pthread_mutex_lock(&s->lock);
                if (s->n_conns >= ELEMENTSOF(s->conns) ||
                    pthread_create(&s->conns[s->n_conns++], NULL, serve_conn, c) != 0)
                        abort();
                pthread_mutex_unlock(&s->lock);
        }
        return NULL;
}

static void server_start(Server *s)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);

        *s = (Server){};
        pthread_mutex_init(&s->lock, NULL);
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(s->fd, 0);
        cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
        cr_assert_eq(listen(s->fd, 64), 0);
        cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
        s->port = ntohs(a.sin_port);
        cr_assert_eq(pipe2(s->stop, O_CLOEXEC), 0);
        cr_assert_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(Server *s)
{
        cr_assert_eq(write(s->stop[1], "x", 1), 1);
        pthread_join(s->thread, NULL);
        for (size_t i = 0; i < s->n_conns; i++)
                pthread_join(s->conns[i], NULL);
        close(s->fd);
        close(s->stop[0]);
        close(s->stop[1]);
        pthread_mutex_destroy(&s->lock);
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

static CURL *transfer(const Server *s, const char *path, Result *r)
{
        CURL *easy = curl_easy_init();
        char url[128];

        cr_assert_not_null(easy);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_PROXY, ""), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(easy, CURLOPT_WRITEDATA, r), CURLE_OK);
        return easy;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        *(bool *)userdata = true;
        return 0;
}

/* Runs the loop as the agent does, waiting without a timeout of its own, so that a timer
 * coalesced late shows; a guard timer bounds the wait. */
static void run_until(sd_event *e, bool (*cond)(void *), void *userdata, usec_t max)
{
        sd_event_source *guard = NULL;
        bool expired = false;

        cr_assert_geq(sd_event_add_time_relative(e, &guard, CLOCK_MONOTONIC, max, 1, on_deadline, &expired),
                      0);
        while (!(cond && cond(userdata)) && !expired)
                cr_assert_geq(sd_event_run(e, UINT64_MAX), 0);
        sd_event_source_disable_unref(guard);
}

static void run_for(sd_event *e, usec_t duration)
{
        run_until(e, NULL, NULL, duration);
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
        Server s;

        server_start(&s);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                cr_assert_eq(curl_loop_add(l, transfer(&s, paths[i], &r[i]), on_done, &r[i]), 0);
        cr_assert_eq(curl_loop_in_flight(l), ELEMENTSOF(paths));
        /* never from inside curl_loop_add */
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                cr_assert_not(r[i].called);

        run_until(e, all_called, &(Results){r, ELEMENTSOF(r)}, 10 * USEC_PER_SEC);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                cr_assert(r[i].called, "%s did not finish", paths[i]);
                cr_assert_eq(r[i].code, CURLE_OK, "%s: %s", paths[i], curl_easy_strerror(r[i].code));
                cr_assert_eq(r[i].status, 200);
                cr_assert_str_eq(r[i].body, paths[i]);
        }
        cr_assert_eq(curl_loop_in_flight(l), 0);
        cr_assert_eq(atomic_load(&s.n_requests), (int)ELEMENTSOF(paths));

        curl_loop_free(l);
        sd_event_unref(e);
        server_stop(&s);
}

Test(curl_loop, reports_a_connection_error_through_the_callback)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        Result r = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        Server closed = {};
        int fd;

        /* a port nobody listens on: bound, then closed */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        closed.port = ntohs(a.sin_port);
        close(fd);

        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        cr_assert_eq(curl_loop_add(l, transfer(&closed, "/", &r), on_done, &r), 0);
        run_until(e, all_called, &(Results){&r, 1}, 10 * USEC_PER_SEC);
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
        Server s;
        usec_t start;

        server_start(&s);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        /* warm up curl's one-time initialisation */
        cr_assert_eq(curl_loop_add(l, transfer(&s, "/warm", &r), on_done, &r), 0);
        run_until(e, all_called, &(Results){&r, 1}, 10 * USEC_PER_SEC);
        cr_assert(r.called);

        /* curl asks for calls "now" (0 ms) and in a few ms: with sd-event's default timer
         * accuracy of 250 ms, each transfer would wait for a coalesced wake-up */
        start = now_usec(CLOCK_MONOTONIC);
        for (int i = 0; i < 8; i++) {
                r = (Result){};
                cr_assert_eq(curl_loop_add(l, transfer(&s, "/fast", &r), on_done, &r), 0);
                run_until(e, all_called, &(Results){&r, 1}, 10 * USEC_PER_SEC);
                cr_assert(r.called);
                cr_assert_eq(r.code, CURLE_OK);
        }
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - start, 400 * USEC_PER_MSEC, "8 transfers took %llu us",
                     (unsigned long long)(now_usec(CLOCK_MONOTONIC) - start));
        curl_loop_free(l);
        sd_event_unref(e);
        server_stop(&s);
}

Test(curl_loop, cancelled_transfer_never_calls_back)
{
        Result hang = {}, ok = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        CURL *h;
        Server s;

        server_start(&s);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        h = transfer(&s, "/hang", &hang);
        cr_assert_eq(curl_loop_add(l, h, on_done, &hang), 0);
        cr_assert_eq(curl_loop_add(l, transfer(&s, "/ok", &ok), on_done, &ok), 0);
        /* let the hanging request reach the server, then cancel it mid-flight */
        run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_eq(atomic_load(&s.n_requests), 2);
        cr_assert_not(hang.called);
        curl_loop_cancel(l, h);
        cr_assert_eq(curl_loop_in_flight(l), 0);
        run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_not(hang.called);
        cr_assert(ok.called);
        cr_assert_str_eq(ok.body, "/ok");

        /* NULLs are no-ops */
        curl_loop_cancel(l, NULL);
        curl_loop_cancel(NULL, NULL);
        cr_assert_null(curl_loop_free(NULL));
        curl_loop_free(l);
        sd_event_unref(e);
        server_stop(&s);
}

typedef struct Chain {
        CurlLoop *loop;
        const Server *server;
        Result first, second;
} Chain;

static void on_first_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata)
{
        Chain *c = userdata;

        on_done(l, easy, result, &c->first);
        /* a cancel of the finishing transfer from its own callback changes nothing */
        curl_loop_cancel(l, easy);
        cr_assert_eq(curl_loop_add(l, transfer(c->server, "/second", &c->second), on_done, &c->second), 0);
}

static bool chain_done(void *userdata)
{
        return ((Chain *)userdata)->second.called;
}

Test(curl_loop, starts_a_transfer_from_a_callback)
{
        sd_event *e = NULL;
        Server s;
        Chain c = {};

        server_start(&s);
        c.server = &s;
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&c.loop, e), 0);
        cr_assert_eq(curl_loop_add(c.loop, transfer(&s, "/first", &c.first), on_first_done, &c), 0);
        run_until(e, chain_done, &c, 10 * USEC_PER_SEC);
        cr_assert(c.first.called);
        cr_assert_str_eq(c.first.body, "/first");
        cr_assert(c.second.called);
        cr_assert_eq(c.second.code, CURLE_OK);
        cr_assert_str_eq(c.second.body, "/second");
        run_until(e, in_flight_is_zero, c.loop, USEC_PER_SEC);
        cr_assert_eq(curl_loop_in_flight(c.loop), 0);
        curl_loop_free(c.loop);
        sd_event_unref(e);
        server_stop(&s);
}

Test(curl_loop, frees_with_transfers_in_flight_without_calling_back)
{
        Result r[3] = {};
        sd_event *e = NULL;
        CurlLoop *l = NULL;
        Server s;
        int n;

        server_start(&s);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(curl_loop_new(&l, e), 0);
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                cr_assert_eq(curl_loop_add(l, transfer(&s, "/hang", &r[i]), on_done, &r[i]), 0);
        run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_eq(atomic_load(&s.n_requests), 3, "the requests are in flight");
        curl_loop_free(l);

        /* no socket or timer source of the freed loop may be left to fire */
        for (int i = 0; i < 10; i++) {
                n = sd_event_run(e, 10 * USEC_PER_MSEC);
                cr_assert_eq(n, 0, "a source of the freed loop was dispatched");
        }
        for (size_t i = 0; i < ELEMENTSOF(r); i++)
                cr_assert_not(r[i].called);
        sd_event_unref(e);
        server_stop(&s);
}
