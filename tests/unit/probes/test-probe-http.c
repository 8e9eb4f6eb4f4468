/* httpGet probes against an HTTP server in a thread on 127.0.0.1 (one thread per connection),
 * run on a real sd-event loop: the kubelet's result mapping, messages, headers, redirect rule,
 * timeout, body cap, cancellation, and no TIME_WAIT left behind. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "event-run.h"
#include "loopback.h"
#include "probe-run.h"
#include "probe.h"

#define BIG_BODY_SIZE (64U * 1024U)

static bool respond(LoopbackHttpConn *c, int status, const char *location, const char *body)
{
        char head[512];
        int n =
            snprintf(head, sizeof(head), "HTTP/1.1 %d Whatever\r\nContent-Length: %zu\r\n%s%s%s\r\n", status,
                     strlen(body), location ? "Location: " : "", location ?: "", location ? "\r\n" : "");

        return loopback_send_all(c->fd, head, (size_t)n) && loopback_send_all(c->fd, body, strlen(body));
}

/* What each path does; the probe under test picks its path. */
static bool answer(LoopbackHttpConn *c, const char *path)
{
        char location[128];

        if (streq(path, "/ok") || streq(path, "/headers"))
                return respond(c, 200, NULL, "ok");
        if (streq(path, "/redirect"))
                return respond(c, 302, "/ok", "moving");
        if (streq(path, "/redirect-absolute")) {
                snprintf(location, sizeof(location), "http://127.0.0.1:%d/ok", c->server->port);
                return respond(c, 301, location, "moving");
        }
        if (streq(path, "/loop"))
                return respond(c, 302, "/loop", "again");
        if (streq(path, "/elsewhere")) {
                snprintf(location, sizeof(location), "http://localhost:%d/ok", c->server->port);
                return respond(c, 302, location, "gone elsewhere");
        }
        if (streq(path, "/cached"))
                return respond(c, 304, NULL, "");
        if (streq(path, "/error"))
                return respond(c, 500, NULL, "boom");
        if (streq(path, "/slow")) {
                /* answers after 3 s, unless the client gives up first */
                if (loopback_http_wait_readable(c->server, c->fd, 3000))
                        return false;
                return respond(c, 200, NULL, "late");
        }
        if (streq(path, "/big")) {
                char *body = malloc(BIG_BODY_SIZE + 1);
                bool ok;

                if (!body)
                        abort();
                memset(body, 'x', BIG_BODY_SIZE);
                body[BIG_BODY_SIZE] = 0;
                ok = respond(c, 200, NULL, body);
                free(body);
                return ok;
        }
        if (streq(path, "/slow-body")) {
                /* the headers at once, the body never */
                static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
                return loopback_send_all(c->fd, head, strlen(head));
        }
        if (streq(path, "/reset")) {
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        return false; /* "/close", "/reset" and anything else: hang up without an answer */
}

typedef struct Fixture {
        sd_event *event;
        CurlLoop *loop;
        LoopbackHttp server;
        ProbeRun run;
        char url[128];
} Fixture;

static void fixture_init(Fixture *f)
{
        *f = (Fixture){};
        cr_assert_eq(sd_event_new(&f->event), 0);
        cr_assert_eq(curl_loop_new(&f->loop, f->event), 0);
        loopback_http_start(&f->server, answer);
}

static void fixture_done(Fixture *f)
{
        curl_loop_free(f->loop);
        sd_event_unref(f->event);
        loopback_http_free(&f->server);
        probe_run_clear(&f->run);
}

/* Probes path on the fixture's server and runs the loop until the outcome. */
static void probe(Fixture *f, const char *host, int port, const char *path, ProbeHeader *headers,
                  size_t n_headers, usec_t timeout)
{
        ProbeHandler h = {
            .action = PROBE_ACTION_HTTP_GET,
            .scheme = (char *)"http",
            .host = (char *)host,
            .port = port,
            .path = (char *)path,
            .headers = headers,
            .n_headers = n_headers,
        };

        snprintf(f->url, sizeof(f->url), "http://%s:%d%s", host, port, path);
        f->run.starting = true;
        cr_assert_eq(probe_http_start(f->loop, &h, timeout, probe_run_on_done, &f->run, &f->run.call), 0);
        probe_run_wait(&f->run, f->event, 10 * USEC_PER_SEC);
        cr_assert_eq(curl_loop_in_flight(f->loop), 0);
}

static void probe_path(Fixture *f, const char *path)
{
        probe(f, "127.0.0.1", f->server.port, path, NULL, 0, 5 * USEC_PER_SEC);
}

static const char *request(Fixture *f, size_t i)
{
        const char *r = loopback_http_request(&f->server, i);

        cr_assert_not_null(r, "request %zu did not reach the server", i);
        return r;
}

static size_t n_requests(Fixture *f)
{
        return loopback_http_n_requests(&f->server);
}

static int count(const char *s, const char *needle)
{
        int n = 0;

        for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

Test(probe_http, succeeds_on_200_with_the_body_as_message)
{
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/ok");
        cr_assert_eq(f.run.result, PROBE_SUCCESS);
        cr_assert_str_eq(f.run.message, "ok");
        cr_assert(startswith(request(&f, 0), "GET /ok HTTP/1.1\r\n"));
        fixture_done(&f);
}

Test(probe_http, follows_a_same_host_redirect_to_the_200)
{
        char host[64], referer[128];
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/redirect");
        cr_assert_eq(f.run.result, PROBE_SUCCESS, "%s", f.run.message);
        cr_assert_str_eq(f.run.message, "ok");
        cr_assert_eq(n_requests(&f), 2);
        cr_assert(startswith(request(&f, 1), "GET /ok HTTP/1.1\r\n"));
        /* the redirected request is the kubelet's too: same headers, plus Go's Referer */
        snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", f.server.port);
        snprintf(referer, sizeof(referer), "\r\nReferer: http://127.0.0.1:%d/redirect\r\n", f.server.port);
        cr_assert_not_null(strstr(request(&f, 1), host));
        cr_assert_not_null(strstr(request(&f, 1), "\r\nUser-Agent: " PROBE_USER_AGENT "\r\n"));
        cr_assert_not_null(strstr(request(&f, 1), referer), "%s", request(&f, 1));
        fixture_done(&f);
}

Test(probe_http, fails_after_ten_redirects_with_gos_message)
{
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/loop");
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        /* Go names the Location it refused to follow */
        cr_assert_str_eq(f.run.message, "Get \"/loop\": stopped after 10 redirects");
        /* Go's client sends 10 requests: the 10th redirect is the one refused */
        cr_assert_eq(n_requests(&f), 10);
        fixture_done(&f);
}

Test(probe_http, warns_on_a_redirect_to_another_host_name)
{
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/elsewhere");
        cr_assert_eq(f.run.result, PROBE_WARNING);
        cr_assert_str_eq(f.run.message, "Probe terminated redirects, Response body: gone elsewhere");
        cr_assert_eq(n_requests(&f), 1, "the redirect to localhost must not be followed");
        fixture_done(&f);
}

Test(probe_http, warns_on_a_3xx_that_is_no_redirect)
{
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/cached");
        cr_assert_eq(f.run.result, PROBE_WARNING);
        cr_assert_str_eq(f.run.message, "Probe terminated redirects, Response body: ");
        fixture_done(&f);
}

Test(probe_http, fails_on_500_with_the_kubelets_message)
{
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/error");
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        cr_assert_str_eq(f.run.message, "HTTP probe failed with statuscode: 500");
        fixture_done(&f);
}

Test(probe_http, fails_after_timeout_on_a_slow_answer)
{
        usec_t start, took;
        char want[256];
        Fixture f;

        fixture_init(&f);
        start = now_usec(CLOCK_MONOTONIC);
        probe(&f, "127.0.0.1", f.server.port, "/slow", NULL, 0, 300 * USEC_PER_MSEC);
        took = f.run.finished - start;
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        snprintf(want, sizeof(want),
                 "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                 f.url);
        cr_assert_str_eq(f.run.message, want);
        cr_assert_geq(took, 300 * USEC_PER_MSEC, "gave up after %llu us", (unsigned long long)took);
        cr_assert_lt(took, 800 * USEC_PER_MSEC, "gave up after %llu us", (unsigned long long)took);
        fixture_done(&f);
}

Test(probe_http, errors_when_the_body_does_not_arrive_in_time)
{
        Fixture f;

        fixture_init(&f);
        probe(&f, "127.0.0.1", f.server.port, "/slow-body", NULL, 0, 300 * USEC_PER_MSEC);
        /* the kubelet's body read returns this as an error, not as a failure */
        cr_assert_eq(f.run.result, PROBE_ERROR);
        cr_assert_str_eq(
            f.run.message,
            "context deadline exceeded (Client.Timeout or context cancellation while reading body)");
        fixture_done(&f);
}

Test(probe_http, fails_with_connection_reset_by_peer)
{
        char want[256];
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/reset");
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        snprintf(want, sizeof(want), "Get \"%s\": read tcp 127.0.0.1:", f.url);
        cr_assert(startswith(f.run.message, want), "%s", f.run.message);
        snprintf(want, sizeof(want), "->127.0.0.1:%d: read: connection reset by peer", f.server.port);
        cr_assert(endswith(f.run.message, want), "%s", f.run.message);
        fixture_done(&f);
}

Test(probe_http, fails_with_eof_when_the_server_closes_without_answering)
{
        char want[256];
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/close");
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        snprintf(want, sizeof(want), "Get \"%s\": EOF", f.url);
        cr_assert_str_eq(f.run.message, want);
        fixture_done(&f);
}

Test(probe_http, fails_with_connection_refused_on_a_closed_port)
{
        char want[256];
        int port = loopback_closed_port();
        Fixture f;

        fixture_init(&f);
        probe(&f, "127.0.0.1", port, "/healthz", NULL, 0, 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        snprintf(want, sizeof(want),
                 "Get \"http://127.0.0.1:%d/healthz\": dial tcp 127.0.0.1:%d: connect: connection refused",
                 port, port);
        cr_assert_str_eq(f.run.message, want);
        fixture_done(&f);
}

Test(probe_http, brackets_an_ipv6_host)
{
        char want[256];
        int port = loopback_closed_port();
        Fixture f;

        fixture_init(&f);
        probe(&f, "::1", port, "/", NULL, 0, 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        /* whether or not this host has IPv6, the URL and the dialled address are bracketed */
        snprintf(want, sizeof(want), "Get \"http://[::1]:%d/\": dial tcp [::1]:%d: ", port, port);
        cr_assert(startswith(f.run.message, want), "%s", f.run.message);
        fixture_done(&f);
}

Test(probe_http, sends_the_kubelets_default_headers)
{
        char host[64];
        const char *req;
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/headers");
        cr_assert_eq(f.run.result, PROBE_SUCCESS);
        req = request(&f, 0);
        snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", f.server.port);
        cr_assert_not_null(strstr(req, host), "%s", req);
        cr_assert_not_null(strstr(req, "\r\nUser-Agent: kube-probe/1.33\r\n"), "%s", req);
        cr_assert_not_null(strstr(req, "\r\nAccept: */*\r\n"), "%s", req);
        cr_assert_not_null(strstr(req, "\r\nConnection: close\r\n"), "%s", req);
        cr_assert_null(strcasestr(req, "Accept-Encoding"), "%s", req);
        cr_assert_null(strcasestr(req, "Proxy"), "%s", req);
        fixture_done(&f);
}

Test(probe_http, sends_the_manifests_headers_in_order_with_repeats)
{
        ProbeHeader headers[] = {
            {(char *)"user-agent", (char *)"custom/1"}, {(char *)"Accept", (char *)""},
            {(char *)"x-custom", (char *)"a"},          {(char *)"X-Custom", (char *)"b"},
            {(char *)"Host", (char *)"example.test"},   {(char *)"X-Empty", (char *)""},
        };
        const char *req, *a, *b;
        Fixture f;

        fixture_init(&f);
        probe(&f, "127.0.0.1", f.server.port, "/headers", headers, ELEMENTSOF(headers), 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_SUCCESS, "%s", f.run.message);
        req = request(&f, 0);
        cr_assert_not_null(strstr(req, "\r\nUser-Agent: custom/1\r\n"), "%s", req);
        cr_assert_null(strstr(req, "kube-probe"), "%s", req);
        /* an explicit empty Accept removes the header */
        cr_assert_null(strstr(req, "\r\nAccept:"), "%s", req);
        a = strstr(req, "\r\nX-Custom: a\r\n");
        b = strstr(req, "\r\nX-Custom: b\r\n");
        cr_assert(a && b && a < b, "%s", req);
        /* an empty value is still sent (curl writes "X-Empty:", Go "X-Empty: ") */
        cr_assert(strstr(req, "\r\nX-Empty:\r\n") || strstr(req, "\r\nX-Empty: \r\n"), "%s", req);
        cr_assert_not_null(strstr(req, "\r\nHost: example.test\r\n"), "%s", req);
        cr_assert_eq(count(req, "\r\nHost:"), 1, "%s", req);
        fixture_done(&f);
}

Test(probe_http, keeps_the_host_header_on_relative_redirects_only)
{
        ProbeHeader headers[] = {{(char *)"Host", (char *)"example.test"}};
        char host[64];
        Fixture f;

        fixture_init(&f);
        probe(&f, "127.0.0.1", f.server.port, "/redirect", headers, 1, 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_SUCCESS, "%s", f.run.message);
        cr_assert_eq(n_requests(&f), 2);
        cr_assert_not_null(strstr(request(&f, 1), "\r\nHost: example.test\r\n"), "%s", request(&f, 1));

        /* Go drops a custom Host when the Location is an absolute URL */
        probe_run_clear(&f.run);
        probe(&f, "127.0.0.1", f.server.port, "/redirect-absolute", headers, 1, 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_SUCCESS, "%s", f.run.message);
        cr_assert_eq(n_requests(&f), 4);
        cr_assert_not_null(strstr(request(&f, 2), "\r\nHost: example.test\r\n"), "%s", request(&f, 2));
        snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", f.server.port);
        cr_assert_not_null(strstr(request(&f, 3), host), "%s", request(&f, 3));
        fixture_done(&f);
}

Test(probe_http, refuses_a_header_go_would_not_send)
{
        ProbeHeader headers[] = {{(char *)"x-bad", (char *)"a\r\nInjected: 1"}};
        char want[256];
        Fixture f;

        fixture_init(&f);
        probe(&f, "127.0.0.1", f.server.port, "/headers", headers, 1, 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_FAILURE);
        snprintf(want, sizeof(want), "Get \"%s\": net/http: invalid header field value for \"X-Bad\"",
                 f.url);
        cr_assert_str_eq(f.run.message, want);
        cr_assert_eq(n_requests(&f), 0);
        fixture_done(&f);
}

Test(probe_http, reads_at_most_10_kib_of_a_large_body_and_succeeds)
{
        Fixture f;

        fixture_init(&f);
        probe_path(&f, "/big");
        cr_assert_eq(f.run.result, PROBE_SUCCESS, "%s", f.run.message);
        cr_assert_eq(strlen(f.run.message), PROBE_MAX_OUTPUT);
        cr_assert_eq(strspn(f.run.message, "x"), PROBE_MAX_OUTPUT);
        fixture_done(&f);
}

Test(probe_http, leaves_no_socket_in_time_wait)
{
        int port;
        Fixture f;

        fixture_init(&f);
        port = f.server.port;
        probe_path(&f, "/ok");
        cr_assert_eq(f.run.result, PROBE_SUCCESS);
        probe_run_clear(&f.run);
        /* the body cut short at 10 KiB: the client closes mid-transfer */
        probe_path(&f, "/big");
        cr_assert_eq(f.run.result, PROBE_SUCCESS);
        probe_run_clear(&f.run);
        probe_path(&f, "/redirect");
        cr_assert_eq(f.run.result, PROBE_SUCCESS);
        /* every connection's thread has closed its end */
        loopback_http_stop(&f.server);
        cr_assert_eq(loopback_count_time_wait(port), 0, "a probe socket was left in TIME_WAIT");
        fixture_done(&f);
}

Test(probe_http, errors_with_the_port_error_from_the_loop)
{
        ProbeHandler h = {
            .action = PROBE_ACTION_HTTP_GET,
            .host = (char *)"127.0.0.1",
            .port_error = (char *)"port \"web\" not found in container",
            .path = (char *)"/",
        };
        Fixture f;

        fixture_init(&f);
        f.run.starting = true;
        cr_assert_eq(probe_http_start(f.loop, &h, USEC_PER_SEC, probe_run_on_done, &f.run, &f.run.call), 0);
        probe_run_wait(&f.run, f.event, 5 * USEC_PER_SEC);
        cr_assert_eq(f.run.result, PROBE_ERROR);
        cr_assert_str_eq(f.run.message, "port \"web\" not found in container");
        cr_assert_eq(n_requests(&f), 0);
        fixture_done(&f);
}

Test(probe_http, cancelled_in_flight_never_calls_back)
{
        ProbeHandler h = {
            .action = PROBE_ACTION_HTTP_GET,
            .host = (char *)"127.0.0.1",
            .path = (char *)"/slow",
        };
        Fixture f;

        fixture_init(&f);
        h.port = f.server.port;
        cr_assert_eq(probe_http_start(f.loop, &h, 5 * USEC_PER_SEC, probe_run_on_done, &f.run, &f.run.call),
                     0);
        event_run_for(f.event, 200 * USEC_PER_MSEC);
        cr_assert_eq(n_requests(&f), 1, "the request is in flight");
        probe_call_cancel(f.run.call);
        cr_assert_eq(curl_loop_in_flight(f.loop), 0);
        event_run_for(f.event, 300 * USEC_PER_MSEC);
        cr_assert_eq(f.run.calls, 0);

        /* and before the loop ever ran, and a deferred port error */
        cr_assert_eq(probe_http_start(f.loop, &h, 5 * USEC_PER_SEC, probe_run_on_done, &f.run, &f.run.call),
                     0);
        probe_call_cancel(f.run.call);
        h.port_error = (char *)"no such port";
        cr_assert_eq(probe_http_start(f.loop, &h, 5 * USEC_PER_SEC, probe_run_on_done, &f.run, &f.run.call),
                     0);
        probe_call_cancel(f.run.call);
        event_run_for(f.event, 300 * USEC_PER_MSEC);
        cr_assert_eq(f.run.calls, 0);
        cr_assert_eq(curl_loop_in_flight(f.loop), 0);
        probe_call_cancel(NULL);
        fixture_done(&f);
}

Test(probe_http, cancel_from_inside_done_is_harmless)
{
        Fixture f;

        fixture_init(&f);
        f.run.cancel_in_done = true;
        probe_path(&f, "/ok");
        cr_assert_eq(f.run.result, PROBE_SUCCESS);
        fixture_done(&f);
}
