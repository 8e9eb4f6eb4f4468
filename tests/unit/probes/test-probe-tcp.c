/* tcpSocket probes on a real sd-event loop against listening sockets on 127.0.0.1: success,
 * refusal and timeout with Go's messages, cancellation without callback or leaked fd, and no
 * TIME_WAIT left behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "event-run.h"
#include "loopback.h"
#include "probe-run.h"
#include "probe.h"

/* Runs a probe of host:port to its end; its done cancels the finished call, a no-op. */
static void probe(sd_event *e, ProbeRun *r, const char *host, int port, usec_t timeout)
{
        ProbeHandler h = {.action = PROBE_ACTION_TCP_SOCKET, .host = (char *)host, .port = port};

        r->starting = true;
        r->cancel_in_done = true;
        cr_assert_eq(probe_tcp_start(e, &h, timeout, probe_run_on_done, r, &r->call), 0);
        probe_run_wait(r, e, 10 * USEC_PER_SEC);
}

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        cr_assert_not_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

Test(probe_tcp, succeeds_on_an_open_port_and_leaves_no_time_wait)
{
        sd_event *e = NULL;
        ProbeRun r = {};
        char buf[16];
        int port, fd = loopback_listen(0, 8, &port), conn;

        cr_assert_eq(sd_event_new(&e), 0);
        probe(e, &r, "127.0.0.1", port, USEC_PER_SEC);
        cr_assert_eq(r.result, PROBE_SUCCESS);
        cr_assert_null(r.message);

        /* the server side as an application would run it: accept, read to the end, close.
         * A probe closing with FIN would now sit in TIME_WAIT; with RST there is none. */
        conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        cr_assert_geq(conn, 0);
        cr_assert_eq(poll(&(struct pollfd){.fd = conn, .events = POLLIN}, 1, 5000), 1);
        (void)read(conn, buf, sizeof(buf));
        close(conn);
        close(fd);
        cr_assert_eq(loopback_count_time_wait(port), 0, "the probe's socket was left in TIME_WAIT");
        sd_event_unref(e);
}

Test(probe_tcp, fails_with_connection_refused_on_a_closed_port)
{
        sd_event *e = NULL;
        ProbeRun r = {};
        char want[128];
        int port = loopback_closed_port();

        cr_assert_eq(sd_event_new(&e), 0);
        probe(e, &r, "127.0.0.1", port, USEC_PER_SEC);
        cr_assert_eq(r.result, PROBE_FAILURE);
        snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
        cr_assert_str_eq(r.message, want);
        free(r.message);
        sd_event_unref(e);
}

Test(probe_tcp, fails_after_timeout_when_the_connection_is_never_accepted)
{
        sd_event *e = NULL;
        ProbeRun r = {};
        char want[128];
        usec_t start, took;
        int port, filler, fd = loopback_full_listener(&filler, &port);

        cr_assert_eq(sd_event_new(&e), 0);
        start = now_usec(CLOCK_MONOTONIC);
        probe(e, &r, "127.0.0.1", port, 300 * USEC_PER_MSEC);
        took = r.finished - start;
        cr_assert_eq(r.result, PROBE_FAILURE, "%s", r.message);
        snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: i/o timeout", port);
        cr_assert_str_eq(r.message, want);
        cr_assert_geq(took, 300 * USEC_PER_MSEC, "gave up after %llu us", (unsigned long long)took);
        cr_assert_lt(took, 800 * USEC_PER_MSEC, "gave up after %llu us", (unsigned long long)took);
        free(r.message);
        close(filler);
        close(fd);
        sd_event_unref(e);
}

Test(probe_tcp, brackets_an_ipv6_address)
{
        sd_event *e = NULL;
        ProbeRun r = {};
        char want[128];
        int port = loopback_closed_port();

        cr_assert_eq(sd_event_new(&e), 0);
        probe(e, &r, "::1", port, USEC_PER_SEC);
        cr_assert_eq(r.result, PROBE_FAILURE);
        /* refused where the host has IPv6, another connect error where it has not */
        snprintf(want, sizeof(want), "dial tcp [::1]:%d: connect: ", port);
        cr_assert(startswith(r.message, want), "%s", r.message);
        free(r.message);
        sd_event_unref(e);
}

Test(probe_tcp, fails_on_a_host_name_it_does_not_resolve)
{
        sd_event *e = NULL;
        ProbeRun r = {};

        cr_assert_eq(sd_event_new(&e), 0);
        probe(e, &r, "db.example.test", 5432, USEC_PER_SEC);
        cr_assert_eq(r.result, PROBE_FAILURE);
        cr_assert(startswith(r.message, "dial tcp: lookup db.example.test: "), "%s", r.message);
        free(r.message);
        sd_event_unref(e);
}

Test(probe_tcp, resolves_localhost)
{
        sd_event *e = NULL;
        ProbeRun r = {};
        int port, fd = loopback_listen(0, 8, &port);

        cr_assert_eq(sd_event_new(&e), 0);
        probe(e, &r, "localhost", port, USEC_PER_SEC);
        cr_assert_eq(r.result, PROBE_SUCCESS, "%s", r.message);
        close(fd);
        sd_event_unref(e);
}

Test(probe_tcp, errors_with_the_port_error_from_the_loop)
{
        ProbeHandler h = {
            .action = PROBE_ACTION_TCP_SOCKET,
            .host = (char *)"127.0.0.1",
            .port_error = (char *)"port \"db\" not found in container",
        };
        sd_event *e = NULL;
        ProbeRun r = {};

        cr_assert_eq(sd_event_new(&e), 0);
        r.starting = true;
        r.cancel_in_done = true;
        cr_assert_eq(probe_tcp_start(e, &h, USEC_PER_SEC, probe_run_on_done, &r, &r.call), 0);
        probe_run_wait(&r, e, 5 * USEC_PER_SEC);
        cr_assert_eq(r.result, PROBE_ERROR);
        cr_assert_str_eq(r.message, "port \"db\" not found in container");
        free(r.message);
        sd_event_unref(e);
}

Test(probe_tcp, cancelled_in_flight_never_calls_back_nor_leaks)
{
        ProbeHandler h = {.action = PROBE_ACTION_TCP_SOCKET, .host = (char *)"127.0.0.1"};
        sd_event *e = NULL;
        ProbeRun r = {};
        int port, filler, fd = loopback_full_listener(&filler, &port), fds;

        cr_assert_eq(sd_event_new(&e), 0);
        h.port = port;
        /* sd-event opens its clock's timerfd with the first timer: count after that */
        event_run_for(e, USEC_PER_MSEC);
        fds = count_fds();
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, probe_run_on_done, &r, &r.call), 0);
        event_run_for(e, 100 * USEC_PER_MSEC);
        probe_call_cancel(r.call);
        event_run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_eq(r.calls, 0);
        cr_assert_eq(count_fds(), fds, "the probe's socket was not closed");

        /* and before the loop ran: a deferred result is dropped too */
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, probe_run_on_done, &r, &r.call), 0);
        probe_call_cancel(r.call);
        h.port = loopback_closed_port();
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, probe_run_on_done, &r, &r.call), 0);
        probe_call_cancel(r.call);
        h.port_error = (char *)"no such port";
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, probe_run_on_done, &r, &r.call), 0);
        probe_call_cancel(r.call);
        event_run_for(e, 200 * USEC_PER_MSEC);
        cr_assert_eq(r.calls, 0);
        cr_assert_eq(count_fds(), fds);
        close(filler);
        close(fd);
        sd_event_unref(e);
}
