/* Tests of probes/probe-grpc.c against an in-process gRPC health server on 127.0.0.1, on the
 * test's own sd-event loop. The server speaks just enough cleartext HTTP/2 for a unary call:
 * it reads the request message from the DATA frames (the service name is in it, so the
 * request headers need no HPACK decoding) and writes its headers as plain HPACK literals.
 * Wire details of the call itself are tested against libnghttp2 in test-grpc.c. */
#include <criterion/criterion.h>
#include <sys/socket.h>

#include "event-run.h"
#include "grpc.h"
#include "health.pb-c.h"
#include "loopback.h"
#include "probe.h"

typedef enum Mode {
        MODE_HEALTH,        /* "" and "ok" SERVING, "bad" NOT_SERVING, see reply_health() */
        MODE_UNIMPLEMENTED, /* no health service: grpc-status 12 */
        MODE_SILENT,        /* reads the call, never answers */
} Mode;

typedef struct Server {
        LoopbackServer base;
        Mode mode;
        unsigned requests;
        char *last_service;
} Server;

typedef struct Conn {
        LoopbackConn base;
        bool preface;
        uint8_t in[16384];
        size_t in_size;
        uint8_t body[1024]; /* the request stream's DATA */
        size_t body_size;
        uint8_t out[16384]; /* not yet written */
        size_t out_size;
} Conn;

enum { FRAME_DATA = 0, FRAME_HEADERS = 1, FRAME_SETTINGS = 4, FRAME_PING = 6 };
enum { FLAG_END_STREAM = 0x1, FLAG_ACK = 0x1, FLAG_END_HEADERS = 0x4, FLAG_PADDED = 0x8 };
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

static void put_frame(Conn *c, uint8_t type, uint8_t flags, uint32_t stream, const void *payload, size_t len)
{
        uint8_t *p = c->out + c->out_size;

        cr_assert_leq(c->out_size + 9 + len, sizeof(c->out));
        p[0] = (uint8_t)(len >> 16);
        p[1] = (uint8_t)(len >> 8);
        p[2] = (uint8_t)len;
        p[3] = type;
        p[4] = flags;
        p[5] = (uint8_t)(stream >> 24);
        p[6] = (uint8_t)(stream >> 16);
        p[7] = (uint8_t)(stream >> 8);
        p[8] = (uint8_t)stream;
        if (len > 0)
                memcpy(p + 9, payload, len);
        c->out_size += 9 + len;
}

/* HPACK "literal header field without indexing" with a new name; lengths below 127, no
 * Huffman coding. */
static size_t hpack_literal(uint8_t *p, const char *name, const char *value)
{
        size_t n = 0, nl = strlen(name), vl = strlen(value);

        p[n++] = 0;
        p[n++] = (uint8_t)nl;
        memcpy(p + n, name, nl);
        n += nl;
        p[n++] = (uint8_t)vl;
        memcpy(p + n, value, vl);
        return n + vl;
}

/* :status 200 and content-type application/grpc, then optionally the status. */
static void put_headers(Conn *c, uint32_t stream, const char *grpc_status, const char *grpc_message,
                        bool end_stream)
{
        static const char content_type[] = "application/grpc";
        uint8_t block[512];
        size_t n = 0;

        block[n++] = 0x88; /* :status 200 is static index 8 */
        /* content-type, static index 31, as a literal: the 4-bit prefix full (15) plus 16 */
        block[n++] = 0x0f;
        block[n++] = 31 - 15;
        block[n++] = sizeof(content_type) - 1;
        memcpy(block + n, content_type, sizeof(content_type) - 1);
        n += sizeof(content_type) - 1;
        if (grpc_status)
                n += hpack_literal(block + n, "grpc-status", grpc_status);
        if (grpc_message)
                n += hpack_literal(block + n, "grpc-message", grpc_message);
        put_frame(c, FRAME_HEADERS, FLAG_END_HEADERS | (end_stream ? FLAG_END_STREAM : 0), stream, block, n);
}

static void put_trailers(Conn *c, uint32_t stream, const char *grpc_status, const char *grpc_message)
{
        uint8_t block[512];
        size_t n = hpack_literal(block, "grpc-status", grpc_status);

        if (grpc_message)
                n += hpack_literal(block + n, "grpc-message", grpc_message);
        put_frame(c, FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, stream, block, n);
}

static void put_message(Conn *c, uint32_t stream, const uint8_t *msg, size_t size)
{
        uint8_t *framed;
        size_t framed_size;

        cr_assert_eq(grpc_frame(msg, size, &framed, &framed_size), 0);
        put_frame(c, FRAME_DATA, 0, stream, framed, framed_size);
        free(framed);
}

/* What a health server answers for a service. */
static void reply_health(Conn *c, uint32_t stream, const char *service)
{
        Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
        static const uint8_t garbage[] = {0xff, 0xff, 0xff};
        uint8_t buf[64];

        if (strcmp(service, "missing") == 0) {
                /* what grpc-go's health server says of a service it does not know */
                put_headers(c, stream, "5", "unknown%20service", true);
                return;
        }
        if (strcmp(service, "garbage") == 0) {
                put_headers(c, stream, NULL, NULL, false);
                put_message(c, stream, garbage, sizeof(garbage));
                put_trailers(c, stream, "0", NULL);
                return;
        }
        if (strcmp(service, "") == 0 || strcmp(service, "ok") == 0)
                resp.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        else if (strcmp(service, "bad") == 0)
                resp.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        else if (strcmp(service, "watch-only") == 0)
                resp.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
        else if (strcmp(service, "future") == 0)
                resp.status = 7; /* a value a newer server might send */
        else
                resp.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__UNKNOWN;
        cr_assert_leq(grpc__health__v1__health_check_response__get_packed_size(&resp), sizeof(buf));
        put_headers(c, stream, NULL, NULL, false);
        put_message(c, stream, buf, grpc__health__v1__health_check_response__pack(&resp, buf));
        put_trailers(c, stream, "0", NULL);
}

static void on_request(Conn *c, uint32_t stream)
{
        Server *s = (Server *)c->base.server;
        Grpc__Health__V1__HealthCheckRequest *req;
        const uint8_t *msg;
        size_t size;

        s->requests++;
        cr_assert_eq(grpc_unframe(c->body, c->body_size, &msg, &size), 0);
        req = grpc__health__v1__health_check_request__unpack(NULL, size, msg);
        cr_assert_not_null(req);
        free(s->last_service);
        s->last_service = strdup(req->service);
        c->body_size = 0;
        switch (s->mode) {
        case MODE_HEALTH:
                reply_health(c, stream, req->service);
                break;
        case MODE_UNIMPLEMENTED:
                put_headers(c, stream, "12", "unknown%20service%20grpc.health.v1.Health", true);
                break;
        case MODE_SILENT:
                break;
        }
        grpc__health__v1__health_check_request__free_unpacked(req, NULL);
}

static void on_frame(Conn *c, uint8_t type, uint8_t flags, uint32_t stream, const uint8_t *p, size_t len)
{
        if (type == FRAME_SETTINGS && !(flags & FLAG_ACK))
                put_frame(c, FRAME_SETTINGS, FLAG_ACK, 0, NULL, 0);
        else if (type == FRAME_PING && !(flags & FLAG_ACK))
                put_frame(c, FRAME_PING, FLAG_ACK, 0, p, len);
        else if (type == FRAME_DATA) {
                size_t pad = 0;

                if ((flags & FLAG_PADDED) && len > 0) {
                        pad = p[0] + 1U;
                        p++;
                }
                cr_assert_geq(len, pad);
                cr_assert_leq(c->body_size + len - pad, sizeof(c->body));
                memcpy(c->body + c->body_size, p, len - pad);
                c->body_size += len - pad;
        }
        /* a request always has a body (its 5-byte prefix at least), so it ends on DATA */
        if (type == FRAME_DATA && (flags & FLAG_END_STREAM))
                on_request(c, stream);
}

/* Consumes the preface and every whole frame in c->in. */
static void parse(Conn *c)
{
        size_t off = 0;

        if (!c->preface) {
                if (c->in_size < strlen(PREFACE))
                        return;
                cr_assert_eq(memcmp(c->in, PREFACE, strlen(PREFACE)), 0);
                c->preface = true;
                off = strlen(PREFACE);
        }
        while (c->in_size - off >= 9) {
                const uint8_t *h = c->in + off;
                size_t len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
                uint32_t stream =
                    ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) & 0x7fffffffU;

                if (c->in_size - off < 9 + len)
                        break;
                on_frame(c, h[3], h[4], stream, h + 9, len);
                off += 9 + len;
        }
        memmove(c->in, c->in + off, c->in_size - off);
        c->in_size -= off;
}

static int flush(Conn *c)
{
        while (c->out_size > 0) {
                ssize_t n = send(c->base.fd, c->out, c->out_size, MSG_NOSIGNAL);

                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                memmove(c->out, c->out + n, c->out_size - (size_t)n);
                c->out_size -= (size_t)n;
        }
        return 0;
}

static void conn_open(LoopbackConn *lc)
{
        put_frame((Conn *)lc, FRAME_SETTINGS, 0, 0, NULL, 0);
}

static int conn_io(LoopbackConn *lc)
{
        Conn *c = (Conn *)lc;

        for (;;) {
                ssize_t n = read(lc->fd, c->in + c->in_size, sizeof(c->in) - c->in_size);

                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0)
                        return -EPIPE;
                c->in_size += (size_t)n;
                parse(c);
                cr_assert_lt(c->in_size, sizeof(c->in));
        }
        return flush(c);
}

static bool conn_want_write(LoopbackConn *lc)
{
        return ((Conn *)lc)->out_size > 0;
}

static const LoopbackServerOps h2_ops = {
    .conn_size = sizeof(Conn),
    .on_open = conn_open,
    .on_io = conn_io,
    .want_write = conn_want_write,
};

static void server_done(Server *s)
{
        loopback_server_done(&s->base);
        free(s->last_service);
}

typedef struct Done {
        bool called;
        unsigned calls;
        ProbeResult result;
        char message[512];
        bool has_message;
        usec_t at;
} Done;

static void on_done(const ProbeOutcome *o, void *userdata)
{
        Done *d = userdata;

        d->called = true;
        d->calls++;
        d->result = o->result;
        d->has_message = o->message != NULL;
        snprintf(d->message, sizeof(d->message), "%s", o->message ?: "");
        d->at = now_usec(CLOCK_MONOTONIC);
}

static sd_event *event;
static CurlLoop *loop;
static Server server;

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(curl_loop_new(&loop, event), 0);
        server = (Server){};
        loopback_server_init(&server.base, event, &h2_ops);
}

static void teardown(void)
{
        curl_loop_free(loop);
        server_done(&server);
        sd_event_unref(event);
}

/* Runs a grpc probe of 127.0.0.1:port (service NULL for "") to its end. */
static void probe(int port, const char *service, usec_t timeout, Done *d)
{
        ProbeHandler h = {
            .action = PROBE_ACTION_GRPC, .host = "127.0.0.1", .port = port, .service = (char *)service};
        ProbeCall *c = NULL;

        *d = (Done){0};
        cr_assert_eq(probe_grpc_start(loop, &h, timeout, on_done, d, &c), 0);
        cr_assert_not_null(c);
        cr_assert_not(d->called, "the callback must not run inside the start call");
        event_run_until_set(event, &d->called, timeout + 3 * USEC_PER_SEC);
        cr_assert(d->called);
        cr_assert_eq(d->calls, 1);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

Test(probe_grpc, succeeds_when_the_service_is_serving, .init = setup, .fini = teardown)
{
        int port = loopback_server_listen(&server.base);
        Done d;

        probe(port, NULL, USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_SUCCESS, "%s", d.message);
        cr_assert_str_eq(server.last_service, "", "no service asks about the server as a whole");
        probe(port, "ok", USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_SUCCESS, "%s", d.message);
        cr_assert_str_eq(server.last_service, "ok");
        cr_assert_eq(server.requests, 2);
}

Test(probe_grpc, fails_with_the_status_a_service_not_serving_reports, .init = setup, .fini = teardown)
{
        int port = loopback_server_listen(&server.base);
        Done d;

        probe(port, "bad", USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message, "service unhealthy (responded with \"NOT_SERVING\")");
        probe(port, "watch-only", USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message, "service unhealthy (responded with \"SERVICE_UNKNOWN\")");
        probe(port, "other", USEC_PER_SEC, &d);
        cr_assert_str_eq(d.message, "service unhealthy (responded with \"UNKNOWN\")");
        probe(port, "future", USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message, "service unhealthy (responded with \"7\")");
}

Test(probe_grpc, fails_when_the_server_has_no_health_service, .init = setup, .fini = teardown)
{
        int port = loopback_server_listen(&server.base);
        Done d;

        server.mode = MODE_UNIMPLEMENTED;
        probe(port, NULL, USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message, "error: this server does not implement the grpc health protocol "
                                    "(grpc.health.v1.Health): unknown service grpc.health.v1.Health");
}

Test(probe_grpc, fails_with_the_rpc_error_of_any_other_status, .init = setup, .fini = teardown)
{
        int port = loopback_server_listen(&server.base);
        Done d;

        probe(port, "missing", USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(
            d.message, "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service");
        probe(port, "garbage", USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message,
                         "error: health rpc probe failed: rpc error: code = Internal desc = grpc: "
                         "failed to unmarshal the received message");
}

Test(probe_grpc, fails_after_timeout_when_the_server_never_answers, .init = setup, .fini = teardown)
{
        int port = loopback_server_listen(&server.base);
        usec_t start = now_usec(CLOCK_MONOTONIC);
        Done d;

        server.mode = MODE_SILENT;
        probe(port, NULL, USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message, "timeout: health rpc did not complete within 1s");
        cr_assert_eq(server.requests, 1, "the call reached the server");
        cr_assert_geq(d.at - start, 950 * USEC_PER_MSEC);
        cr_assert_lt(d.at - start, 2 * USEC_PER_SEC);
        start = now_usec(CLOCK_MONOTONIC);
        probe(port, NULL, 1500 * USEC_PER_MSEC, &d);
        cr_assert_str_eq(d.message, "timeout: health rpc did not complete within 1.5s");
        cr_assert_geq(d.at - start, 1450 * USEC_PER_MSEC);
}

Test(probe_grpc, fails_at_once_on_a_closed_port, .init = setup, .fini = teardown)
{
        int port = loopback_closed_port();
        usec_t start;
        char prefix[128];
        Done d;

        snprintf(prefix, sizeof(prefix),
                 "timeout: failed to connect service \"127.0.0.1:%d\" within 1s: ", port);
        start = now_usec(CLOCK_MONOTONIC);
        probe(port, NULL, USEC_PER_SEC, &d);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert(strncmp(d.message, prefix, strlen(prefix)) == 0, "%s", d.message);
        cr_assert_gt(strlen(d.message), strlen(prefix), "the connect error follows");
        cr_assert_lt(d.at - start, 500 * USEC_PER_MSEC);
}

Test(probe_grpc, fails_with_the_dial_deadline_when_the_connection_never_completes, .init = setup,
     .fini = teardown)
{
        /* a listener that never accepts, its queue full: further SYNs go unanswered */
        int port, filler, fd = loopback_full_listener(&filler, &port);
        char expected[160];
        Done d;

        probe(port, NULL, USEC_PER_SEC, &d);
        snprintf(expected, sizeof(expected),
                 "timeout: failed to connect service \"127.0.0.1:%d\" within 1s: context deadline exceeded",
                 port);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert_str_eq(d.message, expected);
        close(filler);
        close(fd);
}

Test(probe_grpc, writes_an_ipv6_target_in_brackets, .init = setup, .fini = teardown)
{
        ProbeHandler h = {.action = PROBE_ACTION_GRPC, .host = "::1", .port = 1};
        ProbeCall *c = NULL;
        Done d = {0};

        cr_assert_eq(probe_grpc_start(loop, &h, USEC_PER_SEC, on_done, &d, &c), 0);
        event_run_until_set(event, &d.called, 3 * USEC_PER_SEC);
        cr_assert_eq(d.result, PROBE_FAILURE);
        cr_assert(strncmp(d.message, "timeout: failed to connect service \"[::1]:1\" within 1s: ", 56) == 0,
                  "%s", d.message);
}

Test(probe_grpc, errors_on_an_unresolved_named_port_without_calling_back_at_once, .init = setup,
     .fini = teardown)
{
        ProbeHandler h = {
            .action = PROBE_ACTION_GRPC, .host = "127.0.0.1", .port_error = "port \"grpc\" not found"};
        ProbeCall *c = NULL;
        Done d = {0};

        cr_assert_eq(probe_grpc_start(loop, &h, USEC_PER_SEC, on_done, &d, &c), 0);
        cr_assert_not(d.called);
        event_run_until_set(event, &d.called, 2 * USEC_PER_SEC);
        cr_assert_eq(d.calls, 1);
        cr_assert_eq(d.result, PROBE_ERROR);
        cr_assert_str_eq(d.message, "port \"grpc\" not found");
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

Test(probe_grpc, cancel_in_flight_calls_nothing_back, .init = setup, .fini = teardown)
{
        int port = loopback_server_listen(&server.base);
        ProbeHandler h = {.action = PROBE_ACTION_GRPC, .host = "127.0.0.1", .port = port};
        ProbeHandler bad = {.action = PROBE_ACTION_GRPC, .host = "127.0.0.1", .port_error = "no port"};
        ProbeCall *c = NULL, *e = NULL;
        Done d = {0};

        server.mode = MODE_SILENT;
        cr_assert_eq(probe_grpc_start(loop, &h, 300 * USEC_PER_MSEC, on_done, &d, &c), 0);
        cr_assert_eq(probe_grpc_start(loop, &bad, 300 * USEC_PER_MSEC, on_done, &d, &e), 0);
        probe_call_cancel(e);
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_eq(server.requests, 1, "cancelled while the server holds the call");
        probe_call_cancel(c);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
        event_run_for(event, 600 * USEC_PER_MSEC);
        cr_assert_not(d.called);
        probe_call_cancel(NULL);
}

Test(probe_grpc, start_refuses_a_handler_without_host, .init = setup, .fini = teardown)
{
        ProbeHandler h = {.action = PROBE_ACTION_GRPC, .port = 80};
        ProbeCall *c = NULL;
        Done d = {0};

        cr_assert_eq(probe_grpc_start(loop, &h, USEC_PER_SEC, on_done, &d, &c), -EINVAL);
        cr_assert_null(c);
}
