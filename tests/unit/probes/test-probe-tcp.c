/* tcpSocket probes on a real sd-event loop against listening sockets on 127.0.0.1: success,
 * refusal and timeout with Go's messages, cancellation without callback or leaked fd, and no
 * TIME_WAIT left behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

typedef struct Run {
        bool starting; /* inside probe_tcp_start: done must not come now */
        int calls;
        ProbeResult result;
        char *message;
        usec_t finished;
        ProbeCall *call;
} Run;

static void on_done(const ProbeOutcome *o, void *userdata)
{
        Run *r = userdata;

        cr_assert_not(r->starting, "done was called from inside the start call");
        r->calls++;
        r->result = o->result;
        free(r->message);
        r->message = o->message ? strdup(o->message) : NULL;
        r->finished = now_usec(CLOCK_MONOTONIC);
        /* the implementation frees the call after done returns: a cancel here is a no-op */
        probe_call_cancel(r->call);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        *(bool *)userdata = true;
        return 0;
}

/* Runs the loop as the agent does (no timeout of its own) until the run reported or max. */
static void run_loop(sd_event *e, const Run *r, usec_t max)
{
        sd_event_source *guard = NULL;
        bool expired = false;

        cr_assert_geq(sd_event_add_time_relative(e, &guard, CLOCK_MONOTONIC, max, 1, on_deadline, &expired),
                      0);
        while (!(r && r->calls > 0) && !expired)
                cr_assert_geq(sd_event_run(e, UINT64_MAX), 0);
        sd_event_source_disable_unref(guard);
}

static void probe(sd_event *e, Run *r, const char *host, int port, usec_t timeout)
{
        ProbeHandler h = {.action = PROBE_ACTION_TCP_SOCKET, .host = (char *)host, .port = port};

        r->starting = true;
        cr_assert_eq(probe_tcp_start(e, &h, timeout, on_done, r, &r->call), 0);
        r->starting = false;
        cr_assert_eq(r->calls, 0);
        run_loop(e, r, 10 * USEC_PER_SEC);
        cr_assert_eq(r->calls, 1, "done was called %d times", r->calls);
}

/* A listening socket on 127.0.0.1 with an ephemeral port. */
static int listener(int backlog, int *ret_port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        cr_assert_eq(listen(fd, backlog), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static int closed_port(void)
{
        int port, fd = listener(1, &port);

        close(fd);
        return port;
}

/* A listener whose accept queue is full (listen(fd, 0) takes one connection, which this fills):
 * the kernel drops further SYNs, so a connect neither succeeds nor fails. */
static int full_listener(int *ret_filler, int *ret_port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        int fd = listener(0, ret_port);

        a.sin_port = htons((uint16_t)*ret_port);
        *ret_filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(*ret_filler, 0);
        cr_assert_eq(setsockopt(*ret_filler, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        cr_assert_eq(connect(*ret_filler, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
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

/* Sockets in TIME_WAIT (state 06) with port at either end, from /proc/net/tcp{,6}. */
static int count_time_wait(int port)
{
        static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        char line[512];
        int n = 0;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                FILE *f = fopen(files[i], "re");

                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        char local[64], remote[64];
                        unsigned st;
                        const char *lp, *rp;

                        if (sscanf(line, " %*d: %63s %63s %x", local, remote, &st) != 3 || st != 0x06)
                                continue;
                        lp = strrchr(local, ':');
                        rp = strrchr(remote, ':');
                        if ((lp && strtol(lp + 1, NULL, 16) == port) ||
                            (rp && strtol(rp + 1, NULL, 16) == port))
                                n++;
                }
                fclose(f);
        }
        return n;
}

Test(probe_tcp, succeeds_on_an_open_port_and_leaves_no_time_wait)
{
        sd_event *e = NULL;
        Run r = {};
        char buf[16];
        int port, fd = listener(8, &port), conn;

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
        cr_assert_eq(count_time_wait(port), 0, "the probe's socket was left in TIME_WAIT");
        sd_event_unref(e);
}

Test(probe_tcp, fails_with_connection_refused_on_a_closed_port)
{
        sd_event *e = NULL;
        Run r = {};
        char want[128];
        int port = closed_port();

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
        Run r = {};
        char want[128];
        usec_t start, took;
        int port, filler, fd = full_listener(&filler, &port);

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
        Run r = {};
        char want[128];
        int port = closed_port();

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
        Run r = {};

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
        Run r = {};
        int port, fd = listener(8, &port);

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
        Run r = {};

        cr_assert_eq(sd_event_new(&e), 0);
        r.starting = true;
        cr_assert_eq(probe_tcp_start(e, &h, USEC_PER_SEC, on_done, &r, &r.call), 0);
        r.starting = false;
        cr_assert_eq(r.calls, 0);
        run_loop(e, &r, 5 * USEC_PER_SEC);
        cr_assert_eq(r.calls, 1);
        cr_assert_eq(r.result, PROBE_ERROR);
        cr_assert_str_eq(r.message, "port \"db\" not found in container");
        free(r.message);
        sd_event_unref(e);
}

Test(probe_tcp, cancelled_in_flight_never_calls_back_nor_leaks)
{
        ProbeHandler h = {.action = PROBE_ACTION_TCP_SOCKET, .host = (char *)"127.0.0.1"};
        sd_event *e = NULL;
        Run r = {};
        int port, filler, fd = full_listener(&filler, &port), fds;

        cr_assert_eq(sd_event_new(&e), 0);
        h.port = port;
        /* sd-event opens its clock's timerfd with the first timer: count after that */
        run_loop(e, NULL, USEC_PER_MSEC);
        fds = count_fds();
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, on_done, &r, &r.call), 0);
        run_loop(e, NULL, 100 * USEC_PER_MSEC);
        probe_call_cancel(r.call);
        run_loop(e, NULL, 200 * USEC_PER_MSEC);
        cr_assert_eq(r.calls, 0);
        cr_assert_eq(count_fds(), fds, "the probe's socket was not closed");

        /* and before the loop ran: a deferred result is dropped too */
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, on_done, &r, &r.call), 0);
        probe_call_cancel(r.call);
        h.port = closed_port();
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, on_done, &r, &r.call), 0);
        probe_call_cancel(r.call);
        h.port_error = (char *)"no such port";
        cr_assert_eq(probe_tcp_start(e, &h, 5 * USEC_PER_SEC, on_done, &r, &r.call), 0);
        probe_call_cancel(r.call);
        run_loop(e, NULL, 200 * USEC_PER_MSEC);
        cr_assert_eq(r.calls, 0);
        cr_assert_eq(count_fds(), fds);
        close(filler);
        close(fd);
        sd_event_unref(e);
}
