/* Tests of cri/grpc.c: the framing, grpc-timeout and grpc-message helpers, unary calls and
 * server streams against an in-process HTTP/2 server (libnghttp2) on the same sd-event loop,
 * over loopback TCP and a unix socket, with replies set by each test; a streamed reply is
 * sent DATA frame by DATA frame as the test says. */
#include <criterion/criterion.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include "event-run.h"
#include "grpc.h"
#include "loopback.h"

/* What the server answers to every request. */
typedef struct Reply {
        int http_status;          /* 0: 200 */
        const char *content_type; /* NULL: application/grpc */
        const uint8_t *body;      /* sent as it is, framing included */
        size_t body_size;
        const char *grpc_status; /* NULL: none */
        const char *grpc_message;
        bool trailers_only; /* grpc-status with the response headers, no body */
        bool hang;          /* never answers */
        bool stream;        /* headers, then what stream_send() and stream_end() say */
} Reply;

#define MAX_FRAMES 16

typedef struct Server {
        LoopbackServer base;
        Reply reply;
        unsigned resets; /* connections the client closed with a reset */
        /* the last request */
        char *method, *path, *content_type, *te, *user_agent, *grpc_timeout, *accept;
        uint8_t body[4096];
        size_t body_size;
        /* the streamed reply: its connection and stream, each DATA frame to send, the trailers */
        struct Conn *stream_conn;
        int32_t stream_id;
        uint8_t *frames[MAX_FRAMES];
        size_t frame_sizes[MAX_FRAMES];
        unsigned n_frames, n_sent;
        const char *end_status, *end_message;
} Server;

typedef struct Conn {
        LoopbackConn base;
        nghttp2_session *session;
        size_t sent; /* of the reply body, for the one stream being answered */
} Conn;

static Server *server_of(Conn *c)
{
        return (Server *)c->base.server;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *userdata)
{
        Conn *c = userdata;
        ssize_t n = send(c->base.fd, data, length, MSG_NOSIGNAL);

        if (n < 0)
                return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
        return n;
}

static void record(char **field, const uint8_t *value, size_t len)
{
        free(*field);
        *field = strndup((const char *)value, len);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *userdata)
{
        Server *s = server_of(userdata);
        struct {
                const char *name;
                char **field;
        } wanted[] = {
            {":method", &s->method},
            {":path", &s->path},
            {"content-type", &s->content_type},
            {"te", &s->te},
            {"user-agent", &s->user_agent},
            {"grpc-timeout", &s->grpc_timeout},
            {"accept", &s->accept},
        };

        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
                if (strlen(wanted[i].name) == namelen && memcmp(wanted[i].name, name, namelen) == 0)
                        record(wanted[i].field, value, valuelen);
        return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                   size_t len, void *userdata)
{
        Server *s = server_of(userdata);

        cr_assert_leq(s->body_size + len, sizeof(s->body));
        memcpy(s->body + s->body_size, data, len);
        s->body_size += len;
        return 0;
}

#define NV(n, v)                                                                                            \
        {                                                                                                   \
                (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                  \
        }

static void submit_trailers(nghttp2_session *session, int32_t stream_id, const char *status,
                            const char *message)
{
        nghttp2_nv trailers[] = {NV("grpc-status", status), NV("grpc-message", message ?: "")};

        cr_assert_eq(nghttp2_submit_trailer(session, stream_id, trailers, message ? 2 : 1), 0);
}

static ssize_t on_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *userdata)
{
        Conn *c = userdata;
        const Reply *r = &server_of(c)->reply;
        size_t n = r->body_size - c->sent < length ? r->body_size - c->sent : length;

        memcpy(buf, r->body + c->sent, n);
        c->sent += n;
        if (c->sent == r->body_size) {
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
                if (r->grpc_status) {
                        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                        submit_trailers(session, stream_id, r->grpc_status, r->grpc_message);
                }
        }
        return (ssize_t)n;
}

/* One queued frame per call, so that the test decides where DATA frames start and end. */
static ssize_t on_read_stream(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                              uint32_t *data_flags, nghttp2_data_source *source, void *userdata)
{
        Server *s = server_of(userdata);
        size_t n;

        if (s->n_sent < s->n_frames) {
                n = s->frame_sizes[s->n_sent];
                cr_assert_leq(n, length);
                memcpy(buf, s->frames[s->n_sent++], n);
                return (ssize_t)n;
        }
        if (!s->end_status)
                return NGHTTP2_ERR_DEFERRED;
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        submit_trailers(session, stream_id, s->end_status, s->end_message);
        return 0;
}

static void respond(Conn *c, int32_t stream_id)
{
        Server *s = server_of(c);
        const Reply *r = &s->reply;
        char status[8];
        nghttp2_data_provider body = {.read_callback = r->stream ? on_read_stream : on_read_body};
        size_t n = 2;

        if (r->hang)
                return;
        if (r->stream) {
                s->stream_conn = c;
                s->stream_id = stream_id;
        }
        snprintf(status, sizeof(status), "%d", r->http_status ?: 200);
        nghttp2_nv h[] = {NV(":status", status), NV("content-type", r->content_type ?: "application/grpc"),
                          NV("grpc-status", r->grpc_status ?: ""),
                          NV("grpc-message", r->grpc_message ?: "")};
        c->sent = 0;
        if (r->trailers_only) {
                n += r->grpc_message ? 2 : 1;
                cr_assert_eq(nghttp2_submit_response(c->session, stream_id, h, n, NULL), 0);
        } else
                cr_assert_eq(nghttp2_submit_response(c->session, stream_id, h, n, &body), 0);
}

static int on_frame(nghttp2_session *session, const nghttp2_frame *frame, void *userdata)
{
        if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
            (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
                respond(userdata, frame->hd.stream_id);
        return 0;
}

static void conn_open(LoopbackConn *lc)
{
        Conn *c = (Conn *)lc;
        nghttp2_session_callbacks *cb;

        cr_assert_eq(nghttp2_session_callbacks_new(&cb), 0);
        nghttp2_session_callbacks_set_send_callback(cb, on_send);
        nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
        cr_assert_eq(nghttp2_session_server_new(&c->session, cb, c), 0);
        nghttp2_session_callbacks_del(cb);
        cr_assert_eq(nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

static int conn_io(LoopbackConn *lc)
{
        Conn *c = (Conn *)lc;
        uint8_t buf[16384];

        for (;;) {
                ssize_t n = read(lc->fd, buf, sizeof(buf));

                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0 && errno == ECONNRESET)
                        server_of(c)->resets++;
                if (n <= 0 || nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0)
                        return -EPIPE;
        }
        if (nghttp2_session_send(c->session) != 0 ||
            (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)))
                return -EPIPE;
        return 0;
}

static bool conn_want_write(LoopbackConn *lc)
{
        return nghttp2_session_want_write(((Conn *)lc)->session);
}

static void conn_close(LoopbackConn *lc)
{
        Server *s = server_of((Conn *)lc);

        if (s->stream_conn == (Conn *)lc)
                s->stream_conn = NULL;
        nghttp2_session_del(((Conn *)lc)->session);
}

static const LoopbackServerOps h2_ops = {
    .conn_size = sizeof(Conn),
    .on_open = conn_open,
    .on_io = conn_io,
    .want_write = conn_want_write,
    .on_close = conn_close,
};

static void server_done(Server *s)
{
        loopback_server_done(&s->base);
        free(s->method);
        free(s->path);
        free(s->content_type);
        free(s->te);
        free(s->user_agent);
        free(s->grpc_timeout);
        free(s->accept);
        for (unsigned i = 0; i < s->n_frames; i++)
                free(s->frames[i]);
}

/* One call's outcome, copied out of the callback. */
typedef struct Done {
        bool called;
        unsigned calls;
        int status;
        char message[256];
        CURLcode curl;
        bool connected;
        uint8_t data[256]; /* the first bytes */
        uint8_t last;
        size_t size;
        usec_t at;
} Done;

static void on_done(const GrpcResult *r, void *userdata)
{
        Done *d = userdata;

        d->called = true;
        d->calls++;
        d->status = r->status;
        cr_assert_not_null(r->message);
        snprintf(d->message, sizeof(d->message), "%s", r->message);
        d->curl = r->curl;
        d->connected = r->connected;
        cr_assert(r->status == GRPC_STATUS_OK || (!r->data && r->size == 0));
        if (r->size > 0) {
                memcpy(d->data, r->data, r->size < sizeof(d->data) ? r->size : sizeof(d->data));
                d->last = r->data[r->size - 1];
        }
        d->size = r->size;
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

static void tcp_url(char *buf, size_t size)
{
        snprintf(buf, size, "http://127.0.0.1:%d/pkg.Service/Method", server.base.port);
}

static const uint8_t hello_framed[] = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};

/* Starts a call of "ping" to the TCP server with a 2 s timeout and runs it to its end. */
static void call(Done *d, bool reuse)
{
        char url[128];
        GrpcCallOptions o = {.url = url,
                             .user_agent = "berth-test/1",
                             .timeout = 2 * USEC_PER_SEC,
                             .reuse_connection = reuse};

        tcp_url(url, sizeof(url));
        *d = (Done){0};
        cr_assert_eq(grpc_call_start(loop, &o, "ping", 4, on_done, d, NULL), 0);
        cr_assert_not(d->called, "done must not run inside the start call");
        event_run_until_set(event, &d->called, 5 * USEC_PER_SEC);
        cr_assert(d->called);
}

Test(grpc, frame_prefixes_flag_zero_and_big_endian_length)
{
        uint8_t *buf = NULL;
        size_t size = 0;
        uint8_t big[300] = {[0] = 7, [299] = 9};

        cr_assert_eq(grpc_frame("abc", 3, &buf, &size), 0);
        cr_assert_eq(size, 8);
        cr_assert_arr_eq(buf, ((uint8_t[]){0, 0, 0, 0, 3, 'a', 'b', 'c'}), 8);
        free(buf);
        cr_assert_eq(grpc_frame(NULL, 0, &buf, &size), 0);
        cr_assert_eq(size, 5);
        cr_assert_arr_eq(buf, ((uint8_t[]){0, 0, 0, 0, 0}), 5);
        free(buf);
        cr_assert_eq(grpc_frame(big, sizeof(big), &buf, &size), 0);
        cr_assert_arr_eq(buf, ((uint8_t[]){0, 0, 0, 1, 44, 7}), 6);
        cr_assert_eq(buf[304], 9);
        free(buf);
}

Test(grpc, unframe_returns_the_message_inside_the_prefix)
{
        const uint8_t empty[] = {0, 0, 0, 0, 0};
        const uint8_t *msg = NULL;
        size_t size = 99;

        cr_assert_eq(grpc_unframe(hello_framed, sizeof(hello_framed), &msg, &size), 0);
        cr_assert_eq(size, 5);
        cr_assert_eq(msg, hello_framed + 5);
        cr_assert_eq(grpc_unframe(empty, sizeof(empty), &msg, &size), 0);
        cr_assert_eq(size, 0);
}

Test(grpc, unframe_rejects_short_buffers_wrong_lengths_and_unknown_flags)
{
        const uint8_t two_messages[] = {0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b'};
        const uint8_t flag2[] = {2, 0, 0, 0, 1, 'a'};
        const uint8_t *msg;
        size_t size;

        cr_assert_eq(grpc_unframe(hello_framed, 0, &msg, &size), -EBADMSG);
        cr_assert_eq(grpc_unframe(hello_framed, 4, &msg, &size), -EBADMSG);
        /* the length says 5, fewer or more bytes follow */
        cr_assert_eq(grpc_unframe(hello_framed, 9, &msg, &size), -EBADMSG);
        cr_assert_eq(grpc_unframe(two_messages, sizeof(two_messages), &msg, &size), -EBADMSG);
        cr_assert_eq(grpc_unframe(flag2, sizeof(flag2), &msg, &size), -EBADMSG);
}

Test(grpc, unframe_refuses_a_compressed_message)
{
        const uint8_t compressed[] = {1, 0, 0, 0, 1, 'a'};
        const uint8_t *msg;
        size_t size;

        cr_assert_eq(grpc_unframe(compressed, sizeof(compressed), &msg, &size), -EPROTONOSUPPORT);
}

Test(grpc, timeout_is_exact_in_milliseconds_or_microseconds_when_it_fits)
{
        char buf[GRPC_TIMEOUT_MAX];

        cr_assert_eq(grpc_timeout_format(USEC_PER_SEC, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "1000m");
        cr_assert_eq(grpc_timeout_format(1500, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "1500u");
        cr_assert_eq(grpc_timeout_format(1, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "1u");
        cr_assert_eq(grpc_timeout_format(99999999 * USEC_PER_MSEC, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "99999999m");
}

Test(grpc, timeout_rounds_up_to_a_coarser_unit_beyond_eight_digits)
{
        char buf[GRPC_TIMEOUT_MAX];

        /* 100000 s: 9 digits in ms, so seconds */
        cr_assert_eq(grpc_timeout_format(100000 * USEC_PER_SEC, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "100000S");
        /* not a whole number of ms and too long in us: rounded up to the next ms */
        cr_assert_eq(grpc_timeout_format(123456789, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "123457m");
        cr_assert_eq(grpc_timeout_format(USEC_INFINITY - 1, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "99999999H");
}

Test(grpc, timeout_refuses_zero_and_small_buffers)
{
        char buf[4];

        cr_assert_eq(grpc_timeout_format(0, buf, sizeof(buf)), -EINVAL);
        cr_assert_eq(grpc_timeout_format(USEC_PER_SEC, buf, sizeof(buf)), -ENOBUFS);
}

Test(grpc, message_decode_undoes_percent_encoding)
{
        char *s = NULL;

        cr_assert_eq(grpc_message_decode("unknown%20service%3A%20x", 24, &s), 0);
        cr_assert_str_eq(s, "unknown service: x");
        free(s);
        cr_assert_eq(grpc_message_decode("ok %e2%9C%93", 12, &s), 0);
        cr_assert_str_eq(s, "ok \xe2\x9c\x93");
        free(s);
        /* only the n bytes given count */
        cr_assert_eq(grpc_message_decode("ab%41cd", 5, &s), 0);
        cr_assert_str_eq(s, "abA");
        free(s);
}

Test(grpc, message_decode_keeps_a_percent_that_starts_no_escape)
{
        char *s = NULL;

        cr_assert_eq(grpc_message_decode("100%", 4, &s), 0);
        cr_assert_str_eq(s, "100%");
        free(s);
        cr_assert_eq(grpc_message_decode("%zz%4", 5, &s), 0);
        cr_assert_str_eq(s, "%zz%4");
        free(s);
        cr_assert_eq(grpc_message_decode("", 0, &s), 0);
        cr_assert_str_eq(s, "");
        free(s);
}

Test(grpc, errors_read_as_grpc_go_prints_them)
{
        char *s = NULL;

        cr_assert_str_eq(grpc_status_to_string(GRPC_STATUS_DEADLINE_EXCEEDED), "DeadlineExceeded");
        cr_assert_str_eq(grpc_status_to_string(GRPC_STATUS_CANCELLED), "Canceled");
        cr_assert_null(grpc_status_to_string(17));
        cr_assert_null(grpc_status_to_string(-1));
        cr_assert_eq(grpc_format_error(GRPC_STATUS_UNAVAILABLE, "connection refused", &s), 0);
        cr_assert_str_eq(s, "rpc error: code = Unavailable desc = connection refused");
        free(s);
        cr_assert_eq(grpc_format_error(17, "odd", &s), 0);
        cr_assert_str_eq(s, "rpc error: code = Code(17) desc = odd");
        free(s);
}

Test(grpc, call_posts_a_framed_request_with_grpc_headers, .init = setup, .fini = teardown)
{
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = hello_framed, .body_size = sizeof(hello_framed), .grpc_status = "0"};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_OK, "%d %s", d.status, d.message);
        cr_assert_eq(d.curl, CURLE_OK);
        cr_assert(d.connected);
        cr_assert_eq(d.size, 5);
        cr_assert_arr_eq(d.data, "hello", 5);
        cr_assert_str_eq(server.method, "POST");
        cr_assert_str_eq(server.path, "/pkg.Service/Method");
        cr_assert_str_eq(server.content_type, "application/grpc");
        cr_assert_str_eq(server.te, "trailers");
        cr_assert_str_eq(server.user_agent, "berth-test/1");
        cr_assert_str_eq(server.grpc_timeout, "2000m");
        cr_assert_null(server.accept);
        cr_assert_eq(server.body_size, 9);
        cr_assert_arr_eq(server.body, ((uint8_t[]){0, 0, 0, 0, 4, 'p', 'i', 'n', 'g'}), 9);
}

Test(grpc, call_reads_an_error_status_and_decoded_message_from_the_trailers, .init = setup, .fini = teardown)
{
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = hello_framed,
                               .body_size = sizeof(hello_framed),
                               .grpc_status = "5",
                               .grpc_message = "no%20such%20pod%3A%20%22x%22"};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(d.message, "no such pod: \"x\"");
        cr_assert_eq(d.size, 0, "no message with an error status");
}

Test(grpc, call_reads_the_status_of_a_trailers_only_reply, .init = setup, .fini = teardown)
{
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.trailers_only = true,
                               .grpc_status = "12",
                               .grpc_message = "unknown service grpc.health.v1.Health"};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(d.message, "unknown service grpc.health.v1.Health");
        cr_assert(d.connected);
}

Test(grpc, call_maps_an_http_error_status_as_the_grpc_spec_says, .init = setup, .fini = teardown)
{
        static const uint8_t page[] = "not here";
        Done d;

        loopback_server_listen(&server.base);
        server.reply =
            (Reply){.http_status = 404, .content_type = "text/plain", .body = page, .body_size = 8};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(d.message, "unexpected HTTP status code received from server: 404");
        server.reply.http_status = 503;
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_UNAVAILABLE);
}

Test(grpc, call_without_grpc_status_is_internal, .init = setup, .fini = teardown)
{
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = hello_framed, .body_size = sizeof(hello_framed)};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(d.message, "server closed the stream without sending trailers");
}

Test(grpc, call_with_a_foreign_content_type_is_unknown, .init = setup, .fini = teardown)
{
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.content_type = "text/html",
                               .body = hello_framed,
                               .body_size = sizeof(hello_framed),
                               .grpc_status = "0"};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_UNKNOWN);
        cr_assert_str_eq(d.message, "transport: received unexpected content-type \"text/html\"");
}

Test(grpc, call_rejects_a_compressed_or_misframed_reply, .init = setup, .fini = teardown)
{
        static const uint8_t compressed[] = {1, 0, 0, 0, 1, 'x'};
        static const uint8_t short_body[] = {0, 0, 0, 0, 9, 'x'};
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = compressed, .body_size = sizeof(compressed), .grpc_status = "0"};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(d.message, "grpc: compressed message received, but no compression was negotiated");
        server.reply.body = short_body;
        server.reply.body_size = sizeof(short_body);
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(d.message, "grpc: malformed response message framing");
        server.reply.body_size = 0;
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(d.message, "grpc: the server sent no response message");
}

Test(grpc, call_stops_a_reply_larger_than_the_limit, .init = setup, .fini = teardown)
{
        static uint8_t big[5 + 1000] = {0, 0, 0, 0x03, 0xe8};
        char url[128];
        GrpcCallOptions o = {.url = url, .max_response = 100};
        Done d = {0};

        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = big, .body_size = sizeof(big), .grpc_status = "0"};
        tcp_url(url, sizeof(url));
        cr_assert_eq(grpc_call_start(loop, &o, "", 0, on_done, &d, NULL), 0);
        event_run_until_set(event, &d.called, 5 * USEC_PER_SEC);
        cr_assert_eq(d.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
        cr_assert_str_eq(d.message, "grpc: received message larger than max (more than 100 bytes)");
        cr_assert_null(server.grpc_timeout, "no deadline, no grpc-timeout");
}

Test(grpc, call_collects_a_reply_spread_over_many_data_frames, .init = setup, .fini = teardown)
{
        static uint8_t big[5 + 100000] = {0, 0, 0x01, 0x86, 0xa0};
        Done d;

        for (size_t i = 5; i < sizeof(big); i++)
                big[i] = (uint8_t)(i * 7);
        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = big, .body_size = sizeof(big), .grpc_status = "0"};
        call(&d, false);
        cr_assert_eq(d.status, GRPC_STATUS_OK, "%d %s", d.status, d.message);
        cr_assert_eq(d.size, 100000);
        cr_assert_arr_eq(d.data, big + 5, sizeof(d.data));
        cr_assert_eq(d.last, big[sizeof(big) - 1]);
}

Test(grpc, call_past_its_timeout_is_deadline_exceeded, .init = setup, .fini = teardown)
{
        char url[128];
        GrpcCallOptions o = {.url = url, .timeout = 300 * USEC_PER_MSEC};
        usec_t start;
        Done d = {0};

        loopback_server_listen(&server.base);
        server.reply = (Reply){.hang = true};
        tcp_url(url, sizeof(url));
        start = now_usec(CLOCK_MONOTONIC);
        cr_assert_eq(grpc_call_start(loop, &o, "x", 1, on_done, &d, NULL), 0);
        event_run_until_set(event, &d.called, 5 * USEC_PER_SEC);
        cr_assert(d.called);
        cr_assert_eq(d.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        cr_assert_eq(d.curl, CURLE_OPERATION_TIMEDOUT);
        cr_assert(d.connected);
        cr_assert_geq(d.at - start, 290 * USEC_PER_MSEC);
        cr_assert_lt(d.at - start, 2 * USEC_PER_SEC);
        cr_assert_str_eq(server.grpc_timeout, "300m");
}

Test(grpc, call_to_a_closed_port_is_unavailable_and_never_connected, .init = setup, .fini = teardown)
{
        char url[128];
        GrpcCallOptions o = {.url = url, .timeout = USEC_PER_SEC};
        Done d = {0};

        /* a port that was just ours and is closed now */
        loopback_server_listen(&server.base);
        tcp_url(url, sizeof(url));
        loopback_server_done(&server.base);
        cr_assert_eq(grpc_call_start(loop, &o, "x", 1, on_done, &d, NULL), 0);
        event_run_until_set(event, &d.called, 5 * USEC_PER_SEC);
        cr_assert_eq(d.status, GRPC_STATUS_UNAVAILABLE);
        cr_assert_eq(d.curl, CURLE_COULDNT_CONNECT);
        cr_assert_not(d.connected);
        cr_assert_str_neq(d.message, "");
}

Test(grpc, call_over_a_unix_socket, .init = setup, .fini = teardown)
{
        GrpcCallOptions o = {.url = "http://localhost/runtime.v1.RuntimeService/Version",
                             .unix_socket = server.base.unix_path,
                             .timeout = 2 * USEC_PER_SEC};
        char path[64];
        Done d = {0};

        snprintf(path, sizeof(path), "/tmp/test-grpc-%d.sock", (int)getpid());
        loopback_server_listen_unix(&server.base, path);
        server.reply = (Reply){.body = hello_framed, .body_size = sizeof(hello_framed), .grpc_status = "0"};
        cr_assert_eq(grpc_call_start(loop, &o, "v", 1, on_done, &d, NULL), 0);
        event_run_until_set(event, &d.called, 5 * USEC_PER_SEC);
        cr_assert_eq(d.status, GRPC_STATUS_OK, "%d %s", d.status, d.message);
        cr_assert_arr_eq(d.data, "hello", 5);
        cr_assert_str_eq(server.path, "/runtime.v1.RuntimeService/Version");
}

Test(grpc, calls_dial_afresh_and_reset_their_connection_unless_reuse_is_asked, .init = setup,
     .fini = teardown)
{
        Done d;

        loopback_server_listen(&server.base);
        server.reply = (Reply){.body = hello_framed, .body_size = sizeof(hello_framed), .grpc_status = "0"};
        call(&d, false);
        call(&d, false);
        cr_assert_eq(server.base.accepted, 2);
        event_run_for(event, 200 * USEC_PER_MSEC);
        /* SO_LINGER 0: the client's close is a reset, so no TIME_WAIT is left behind */
        cr_assert_eq(server.resets, 2);
        call(&d, true);
        cr_assert_eq(d.status, GRPC_STATUS_OK, "%d %s", d.status, d.message);
        call(&d, true);
        cr_assert_eq(d.status, GRPC_STATUS_OK, "%d %s", d.status, d.message);
        cr_assert_eq(server.base.accepted, grpc_can_reuse_connections() ? 3 : 4);
}

Test(grpc, cancel_in_flight_calls_nothing_back, .init = setup, .fini = teardown)
{
        char url[128];
        GrpcCallOptions o = {.url = url, .timeout = 300 * USEC_PER_MSEC};
        GrpcCall *c = NULL;
        Done d = {0};

        loopback_server_listen(&server.base);
        server.reply = (Reply){.hang = true};
        tcp_url(url, sizeof(url));
        cr_assert_eq(grpc_call_start(loop, &o, "x", 1, on_done, &d, &c), 0);
        cr_assert_not_null(c);
        event_run_until_set(event, &d.called, 100 * USEC_PER_MSEC);
        cr_assert_eq(curl_loop_in_flight(loop), 1);
        grpc_call_cancel(c);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert_not(d.called);
        grpc_call_cancel(NULL);
}

Test(grpc, start_refuses_missing_options, .init = setup, .fini = teardown)
{
        GrpcCallOptions o = {0};
        Done d = {0};

        cr_assert_eq(grpc_call_start(loop, &o, "x", 1, on_done, &d, NULL), -EINVAL);
        o.url = "http://127.0.0.1:1/a/b";
        cr_assert_eq(grpc_call_start(loop, &o, NULL, 1, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(grpc_call_start(loop, &o, "x", 1, NULL, &d, NULL), -EINVAL);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

/* --- server streams --- */

/* Sends the frames queued so far (and the trailers, once asked for) now. */
static void stream_flush(void)
{
        Conn *c = server.stream_conn;

        cr_assert_not_null(c, "no stream is open");
        (void)nghttp2_session_resume_data(c->session, server.stream_id);
        cr_assert_eq(nghttp2_session_send(c->session), 0);
        (void)sd_event_source_set_io_events(
            c->base.source, EPOLLIN | (nghttp2_session_want_write(c->session) ? EPOLLOUT : 0));
}

/* Sends data as one DATA frame of the streamed reply. */
static void stream_send(const void *data, size_t size)
{
        cr_assert_lt(server.n_frames, MAX_FRAMES);
        server.frames[server.n_frames] = malloc(size);
        cr_assert_not_null(server.frames[server.n_frames]);
        memcpy(server.frames[server.n_frames], data, size);
        server.frame_sizes[server.n_frames++] = size;
        stream_flush();
}

static void stream_end(const char *status, const char *message)
{
        server.end_status = status;
        server.end_message = message;
        stream_flush();
}

/* Closes the streamed reply's connection without a word, as a runtime that dies does. */
static void stream_hang_up(void)
{
        cr_assert_not_null(server.stream_conn);
        loopback_conn_free(&server.stream_conn->base);
}

static bool stream_open(void *userdata)
{
        return server.stream_conn != NULL;
}

static bool stream_closed(void *userdata)
{
        return server.stream_conn == NULL;
}

/* msg with its prefix at out; the framed size. */
static size_t framed(const char *msg, uint8_t *out)
{
        size_t n = strlen(msg);

        out[0] = 0;
        out[1] = (uint8_t)(n >> 24);
        out[2] = (uint8_t)(n >> 16);
        out[3] = (uint8_t)(n >> 8);
        out[4] = (uint8_t)n;
        memcpy(out + 5, msg, n);
        return n + 5;
}

/* A stream's messages and end, copied out of the callbacks. */
typedef struct Stream {
        Done d;
        GrpcCall *call;
        unsigned n, want;
        char msgs[8][64];
        size_t sizes[8];
        unsigned n_at_done;    /* messages handed over before done */
        unsigned cancel_after; /* cancels from inside on_message after that many; 0: never */
} Stream;

static void on_stream_message(const uint8_t *data, size_t size, void *userdata)
{
        Stream *s = userdata;

        cr_assert_not(s->d.called, "a message after the end");
        cr_assert_lt(s->n, ELEMENTSOF(s->msgs));
        cr_assert_lt(size, sizeof(s->msgs[0]));
        memcpy(s->msgs[s->n], data, size);
        s->msgs[s->n][size] = 0;
        s->sizes[s->n++] = size;
        if (s->n == s->cancel_after)
                grpc_call_cancel(s->call);
}

static void on_stream_done(const GrpcResult *r, void *userdata)
{
        Stream *s = userdata;

        s->n_at_done = s->n;
        on_done(r, &s->d);
}

/* Starts a stream of "watch" to the TCP server; with a streamed reply, runs until the server
 * has answered the headers. */
static void start_stream(Stream *s, usec_t timeout, size_t max_response)
{
        char url[128];
        GrpcCallOptions o = {.url = url, .timeout = timeout, .max_response = max_response};

        tcp_url(url, sizeof(url));
        cr_assert_eq(grpc_stream_start(loop, &o, "watch", 5, on_stream_message, on_stream_done, s, &s->call),
                     0);
        cr_assert_not_null(s->call);
        if (server.reply.stream)
                cr_assert(event_run_until(event, stream_open, NULL, 5 * USEC_PER_SEC));
        cr_assert_eq(s->n, 0);
        cr_assert_not(s->d.called);
}

/* The same against a fresh server that streams its reply. */
static void start_streamed(Stream *s, usec_t timeout, size_t max_response)
{
        loopback_server_listen(&server.base);
        server.reply = (Reply){.stream = true};
        start_stream(s, timeout, max_response);
}

/* A whole message and the first bytes of a second one, in one DATA frame. */
static void send_one_and_a_half(void)
{
        uint8_t buf[64];
        size_t n;

        n = framed("one", buf);
        n += framed("two", buf + n);
        stream_send(buf, n - 2);
}

static bool has_messages(void *userdata)
{
        Stream *s = userdata;

        return s->n >= s->want || s->d.called;
}

/* Runs until the stream has handed over n messages in all, and checks it is still open. */
static void wait_messages(Stream *s, unsigned n)
{
        s->want = n;
        cr_assert(event_run_until(event, has_messages, s, 5 * USEC_PER_SEC));
        cr_assert_eq(s->n, n);
        cr_assert_not(s->d.called, "%d %s", s->d.status, s->d.message);
}

static void wait_end(Stream *s)
{
        cr_assert(event_run_until_set(event, &s->d.called, 5 * USEC_PER_SEC));
        cr_assert_eq(s->d.size, 0, "a stream's end carries no message");
}

Test(grpc, stream_hands_over_each_message_as_soon_as_it_has_arrived, .init = setup, .fini = teardown)
{
        uint8_t a[64], b[64], many[128];
        size_t na, nb, nm = 0;
        Stream st = {};

        start_streamed(&st, 0, 0);
        cr_assert_str_eq(server.path, "/pkg.Service/Method");
        cr_assert_str_eq(server.content_type, "application/grpc");
        cr_assert_str_eq(server.te, "trailers");
        cr_assert_arr_eq(server.body, ((uint8_t[]){0, 0, 0, 0, 5, 'w', 'a', 't', 'c', 'h'}), 10);

        na = framed("created c1", a);
        stream_send(a, na);
        wait_messages(&st, 1);
        cr_assert_str_eq(st.msgs[0], "created c1");

        /* one message over three DATA frames, its prefix cut in two */
        nb = framed("started c1 after a long while", b);
        stream_send(b, 2);
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_eq(st.n, 1, "half a prefix is no message");
        stream_send(b + 2, 7);
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_eq(st.n, 1, "part of a message is no message");
        stream_send(b + 9, nb - 9);
        wait_messages(&st, 2);
        cr_assert_str_eq(st.msgs[1], "started c1 after a long while");
        cr_assert_eq(st.sizes[1], nb - 5);

        /* three messages, one of them empty, and the start of a fourth in one DATA frame */
        nm += framed("stopped c1", many + nm);
        nm += framed("", many + nm);
        nm += framed("deleted c1", many + nm);
        nb = framed("created c2", b);
        memcpy(many + nm, b, 8);
        nm += 8;
        stream_send(many, nm);
        wait_messages(&st, 5);
        cr_assert_str_eq(st.msgs[2], "stopped c1");
        cr_assert_eq(st.sizes[3], 0);
        cr_assert_str_eq(st.msgs[4], "deleted c1");
        stream_send(b + 8, nb - 8);
        wait_messages(&st, 6);
        cr_assert_str_eq(st.msgs[5], "created c2");

        stream_end("0", NULL);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_OK, "%d %s", st.d.status, st.d.message);
        cr_assert_eq(st.d.curl, CURLE_OK);
        cr_assert_eq(st.n_at_done, 6);
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_eq(st.d.calls, 1);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

Test(grpc, stream_ends_with_the_status_of_its_trailers_after_its_messages, .init = setup, .fini = teardown)
{
        uint8_t buf[64];
        size_t n = 0;
        Stream st = {};

        start_streamed(&st, 0, 0);
        n += framed("one", buf + n);
        n += framed("two", buf + n);
        /* the messages and the trailers at once: done waits for the messages */
        stream_send(buf, n);
        stream_end("5", "sandbox%20%22p%22%20not%20found");
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(st.d.message, "sandbox \"p\" not found");
        cr_assert_eq(st.n_at_done, 2);
        cr_assert_str_eq(st.msgs[0], "one");
        cr_assert_str_eq(st.msgs[1], "two");
}

Test(grpc, stream_the_server_does_not_implement_is_unimplemented, .init = setup, .fini = teardown)
{
        Stream st = {};

        loopback_server_listen(&server.base);
        /* what containerd before 1.7 answers to GetContainerEvents */
        server.reply = (Reply){.trailers_only = true,
                               .grpc_status = "12",
                               .grpc_message = "unknown method GetContainerEvents for service "
                                               "runtime.v1.RuntimeService"};
        start_stream(&st, 0, 0);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(st.d.message,
                         "unknown method GetContainerEvents for service runtime.v1.RuntimeService");
        cr_assert_eq(st.n, 0);
}

Test(grpc, stream_reads_no_message_out_of_an_error_page, .init = setup, .fini = teardown)
{
        Stream st = {};

        loopback_server_listen(&server.base);
        server.reply = (Reply){.http_status = 404,
                               .content_type = "text/plain",
                               .body = hello_framed,
                               .body_size = sizeof(hello_framed)};
        start_stream(&st, 0, 0);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_eq(st.n, 0);
}

Test(grpc, stream_ends_at_a_message_larger_than_the_limit, .init = setup, .fini = teardown)
{
        uint8_t buf[64];
        size_t n;
        Stream st = {};

        start_streamed(&st, 0, 16);
        n = framed("small", buf);
        /* a prefix announcing 100 bytes, and a few of them */
        memcpy(buf + n, ((uint8_t[]){0, 0, 0, 0, 100, 'x', 'y'}), 7);
        stream_send(buf, n + 7);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
        cr_assert_str_eq(st.d.message, "grpc: received message larger than max (100 vs. 16)");
        cr_assert_eq(st.n_at_done, 1);
        cr_assert_str_eq(st.msgs[0], "small");
}

Test(grpc, stream_ends_at_a_compressed_or_misframed_message, .init = setup, .fini = teardown)
{
        Stream st = {};

        start_streamed(&st, 0, 0);
        stream_send(((uint8_t[]){1, 0, 0, 0, 1, 'x'}), 6);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(st.d.message,
                         "grpc: compressed message received, but no compression was negotiated");
        cr_assert_eq(st.n, 0);

        /* the client hung up: the next stream comes on a connection of its own */
        cr_assert(event_run_until(event, stream_closed, NULL, 5 * USEC_PER_SEC));
        st = (Stream){};
        start_stream(&st, 0, 0);
        stream_send(((uint8_t[]){7, 0, 0, 0, 1, 'x'}), 6);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(st.d.message, "grpc: malformed response message framing");
}

Test(grpc, stream_cancelled_from_inside_on_message_stops_at_once, .init = setup, .fini = teardown)
{
        uint8_t buf[64];
        size_t n = 0;
        Stream st = {.cancel_after = 1, .want = 1};

        start_streamed(&st, 0, 0);
        n += framed("one", buf + n);
        n += framed("two", buf + n);
        n += framed("three", buf + n);
        stream_send(buf, n);
        cr_assert(event_run_until(event, has_messages, &st, 5 * USEC_PER_SEC));
        cr_assert_eq(curl_loop_in_flight(loop), 0, "the transfer stops inside on_message");
        event_run_for(event, 200 * USEC_PER_MSEC);
        cr_assert_eq(st.n, 1);
        cr_assert_not(st.d.called);
        /* the client closed its connection */
        cr_assert_null(server.stream_conn);
}

Test(grpc, stream_cut_off_by_a_hang_up_is_unavailable, .init = setup, .fini = teardown)
{
        Stream st = {};

        start_streamed(&st, 0, 0);
        send_one_and_a_half();
        wait_messages(&st, 1);
        stream_hang_up();
        wait_end(&st);
        /* grpc-go: "error reading from server: EOF" */
        cr_assert_eq(st.d.status, GRPC_STATUS_UNAVAILABLE, "%d %s", st.d.status, st.d.message);
        cr_assert_neq(st.d.curl, CURLE_OK);
        cr_assert_str_neq(st.d.message, "");
        cr_assert_eq(st.n_at_done, 1);
}

Test(grpc, stream_cut_off_by_its_trailers_is_internal, .init = setup, .fini = teardown)
{
        Stream st = {};

        start_streamed(&st, 0, 0);
        send_one_and_a_half();
        stream_end("0", NULL);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(st.d.message, "unexpected EOF");
        cr_assert_eq(st.n_at_done, 1);
}

Test(grpc, stream_without_a_timeout_has_no_deadline, .init = setup, .fini = teardown)
{
        uint8_t buf[64];
        size_t n;
        Stream st = {};

        start_streamed(&st, 0, 0);
        cr_assert_null(server.grpc_timeout, "no deadline, no grpc-timeout");
        /* longer than any deadline of the tests, with nothing said */
        event_run_for(event, 1500 * USEC_PER_MSEC);
        cr_assert_not(st.d.called, "%d %s", st.d.status, st.d.message);
        n = framed("late", buf);
        stream_send(buf, n);
        wait_messages(&st, 1);
        stream_end("0", NULL);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_OK, "%d %s", st.d.status, st.d.message);
}

Test(grpc, stream_with_a_timeout_ends_at_its_deadline, .init = setup, .fini = teardown)
{
        uint8_t buf[64];
        usec_t start = now_usec(CLOCK_MONOTONIC);
        size_t n;
        Stream st = {};

        start_streamed(&st, 300 * USEC_PER_MSEC, 0);
        cr_assert_str_eq(server.grpc_timeout, "300m");
        n = framed("one", buf);
        stream_send(buf, n);
        wait_messages(&st, 1);
        wait_end(&st);
        cr_assert_eq(st.d.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        cr_assert_geq(st.d.at - start, 290 * USEC_PER_MSEC);
        cr_assert_eq(st.n_at_done, 1);
}

Test(grpc, stream_start_refuses_a_missing_message_callback, .init = setup, .fini = teardown)
{
        GrpcCallOptions o = {.url = "http://127.0.0.1:1/a/b"};
        Stream st = {};

        cr_assert_eq(grpc_stream_start(loop, &o, "x", 1, NULL, on_stream_done, &st, NULL), -EINVAL);
        cr_assert_eq(grpc_stream_start(loop, &o, "x", 1, on_stream_message, NULL, &st, NULL), -EINVAL);
        o.url = NULL;
        cr_assert_eq(grpc_stream_start(loop, &o, "x", 1, on_stream_message, on_stream_done, &st, NULL),
                     -EINVAL);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}
