/* gRPC unary and server-streaming calls as plain HTTP/2 POSTs through libcurl: framing, the
 * grpc-timeout header, a stream's messages cut out of the body as it arrives, the status read
 * from the (initial or trailing) headers, and the codes a gRPC client derives when the server
 * gave none. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "grpc.h"

#define COMPRESSED_TEXT "grpc: compressed message received, but no compression was negotiated"
#define MISFRAMED_TEXT "grpc: malformed response message framing"

/* A stream's message, whole or still arriving. */
typedef struct Message Message;
struct Message {
        Message *next;
        size_t size, have;
        uint8_t data[];
};

struct GrpcCall {
        CurlLoop *loop;
        CURL *easy; /* NULL once the loop owns its cleanup */
        struct curl_slist *headers;
        grpc_done_t done;
        void *userdata;
        bool tcp;
        bool connected;
        bool finishing;
        bool cancelled;  /* in on_message: freed when it returns */
        int write_error; /* why the body was refused: -EMSGSIZE, -EPROTONOSUPPORT, -EBADMSG, -ENOMEM */
        size_t max_response;
        uint8_t *body;
        size_t body_size, body_alloc;
        int grpc_status; /* -1 until a grpc-status header arrives, -2 when it was malformed */
        char *grpc_message;
        char *content_type;
        char error[CURL_ERROR_SIZE];

        /* a stream: the body is cut into messages as it arrives, and they are handed over from
         * a defer source, outside libcurl's callbacks */
        grpc_message_t on_message;
        sd_event_source *deliver;
        uint8_t head[GRPC_FRAME_HEADER_SIZE]; /* the prefix of the next message */
        size_t head_size;
        uint32_t refused_length;
        Message *partial;
        Message *queue, **queue_tail;
        bool delivering;
        /* the end, held back until the messages before it are handed over */
        bool ended;
        GrpcResult end;
        char *end_message;
};

static const char *const status_names[] = {
    [GRPC_STATUS_OK] = "OK",
    [GRPC_STATUS_CANCELLED] = "Canceled",
    [GRPC_STATUS_UNKNOWN] = "Unknown",
    [GRPC_STATUS_INVALID_ARGUMENT] = "InvalidArgument",
    [GRPC_STATUS_DEADLINE_EXCEEDED] = "DeadlineExceeded",
    [GRPC_STATUS_NOT_FOUND] = "NotFound",
    [GRPC_STATUS_ALREADY_EXISTS] = "AlreadyExists",
    [GRPC_STATUS_PERMISSION_DENIED] = "PermissionDenied",
    [GRPC_STATUS_RESOURCE_EXHAUSTED] = "ResourceExhausted",
    [GRPC_STATUS_FAILED_PRECONDITION] = "FailedPrecondition",
    [GRPC_STATUS_ABORTED] = "Aborted",
    [GRPC_STATUS_OUT_OF_RANGE] = "OutOfRange",
    [GRPC_STATUS_UNIMPLEMENTED] = "Unimplemented",
    [GRPC_STATUS_INTERNAL] = "Internal",
    [GRPC_STATUS_UNAVAILABLE] = "Unavailable",
    [GRPC_STATUS_DATA_LOSS] = "DataLoss",
    [GRPC_STATUS_UNAUTHENTICATED] = "Unauthenticated",
};

const char *grpc_status_to_string(int status)
{
        if (status < 0 || (size_t)status >= ELEMENTSOF(status_names))
                return NULL;
        return status_names[status];
}

int grpc_format_error(int status, const char *message, char **ret)
{
        const char *name = grpc_status_to_string(status);
        int r;

        if (name)
                r = asprintf_safe(ret, "rpc error: code = %s desc = %s", name, message ?: "");
        else
                r = asprintf_safe(ret, "rpc error: code = Code(%d) desc = %s", status, message ?: "");
        return r < 0 ? r : 0;
}

int grpc_frame(const void *msg, size_t size, uint8_t **ret, size_t *ret_size)
{
        uint8_t *buf;

        if (size > UINT32_MAX)
                return -EMSGSIZE;
        buf = malloc(GRPC_FRAME_HEADER_SIZE + size);
        if (!buf)
                return -ENOMEM;
        buf[0] = 0;
        buf[1] = (uint8_t)(size >> 24);
        buf[2] = (uint8_t)(size >> 16);
        buf[3] = (uint8_t)(size >> 8);
        buf[4] = (uint8_t)size;
        if (size > 0)
                memcpy(buf + GRPC_FRAME_HEADER_SIZE, msg, size);
        *ret = buf;
        *ret_size = GRPC_FRAME_HEADER_SIZE + size;
        return 0;
}

/* The length a message prefix announces. */
static int frame_header(const uint8_t *p, uint32_t *ret_length)
{
        if (p[0] == 1)
                return -EPROTONOSUPPORT;
        if (p[0] != 0)
                return -EBADMSG;
        *ret_length = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | (uint32_t)p[4];
        return 0;
}

int grpc_unframe(const void *buf, size_t size, const uint8_t **ret_msg, size_t *ret_size)
{
        const uint8_t *p = buf;
        uint32_t length;
        int r;

        if (size < GRPC_FRAME_HEADER_SIZE)
                return -EBADMSG;
        r = frame_header(p, &length);
        if (r < 0)
                return r;
        if (length != size - GRPC_FRAME_HEADER_SIZE)
                return -EBADMSG;
        *ret_msg = p + GRPC_FRAME_HEADER_SIZE;
        *ret_size = length;
        return 0;
}

int grpc_timeout_format(usec_t timeout, char *buf, size_t size)
{
        /* The spec allows at most 8 digits; coarser units are rounded up so that the server
         * never sees a shorter deadline than the client's. */
        static const struct {
                usec_t usec;
                char unit;
        } units[] = {
            {USEC_PER_MSEC, 'm'},
            {USEC_PER_SEC, 'S'},
            {60 * USEC_PER_SEC, 'M'},
            {3600 * USEC_PER_SEC, 'H'},
        };
        const usec_t max_value = 99999999;
        usec_t value = 0;
        char unit = 0;
        int n;

        if (timeout == 0)
                return -EINVAL;
        if (timeout % USEC_PER_MSEC == 0 && timeout / USEC_PER_MSEC <= max_value) {
                value = timeout / USEC_PER_MSEC;
                unit = 'm';
        } else if (timeout <= max_value) {
                value = timeout;
                unit = 'u';
        } else
                for (size_t i = 0; i < ELEMENTSOF(units) && !unit; i++) {
                        usec_t v = timeout / units[i].usec + (timeout % units[i].usec != 0);

                        if (v <= max_value || i == ELEMENTSOF(units) - 1) {
                                value = MIN(v, max_value);
                                unit = units[i].unit;
                        }
                }
        n = snprintf(buf, size, "%llu%c", (unsigned long long)value, unit);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int grpc_message_decode(const char *s, size_t n, char **ret)
{
        char *out = malloc(n + 1), *q = out;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int hi, lo;

                if (s[i] == '%' && i + 2 < n && (hi = unhex(s[i + 1])) >= 0 && (lo = unhex(s[i + 2])) >= 0) {
                        *q++ = (char)(hi << 4 | lo);
                        i += 2;
                } else
                        *q++ = s[i];
        }
        *q = 0;
        *ret = out;
        return 0;
}

/* grpc/doc/http-grpc-status-mapping.md */
static int status_from_http(long http)
{
        switch (http) {
        case 400:
                return GRPC_STATUS_INTERNAL;
        case 401:
                return GRPC_STATUS_UNAUTHENTICATED;
        case 403:
                return GRPC_STATUS_PERMISSION_DENIED;
        case 404:
                return GRPC_STATUS_UNIMPLEMENTED;
        case 429:
        case 502:
        case 503:
        case 504:
                return GRPC_STATUS_UNAVAILABLE;
        default:
                return GRPC_STATUS_UNKNOWN;
        }
}

static void free_messages(Message *m)
{
        while (m) {
                Message *next = m->next;

                free(m);
                m = next;
        }
}

/* Stops the transfer and the deliveries; what is left of c is freed by call_free(). */
static void call_stop(GrpcCall *c)
{
        if (c->easy)
                curl_loop_cancel(c->loop, TAKE_PTR(c->easy));
        c->deliver = sd_event_source_disable_unref(c->deliver);
}

static void call_free(GrpcCall *c)
{
        if (!c)
                return;
        call_stop(c);
        curl_slist_free_all(c->headers);
        free(c->body);
        free(c->grpc_message);
        free(c->content_type);
        free(c->partial);
        free_messages(c->queue);
        free(c->end_message);
        free(c);
}

void grpc_call_cancel(GrpcCall *c)
{
        if (!c || c->finishing)
                return;
        if (c->delivering) {
                /* the stream stops now, and so the loop may even be freed inside on_message */
                call_stop(c);
                c->cancelled = true;
                return;
        }
        call_free(c);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
        GrpcCall *c = userdata;
        size_t n = size * nmemb;
        long http = 0;
        uint8_t *p;

        /* an error page is not a message: drop it rather than fail on its size */
        (void)curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &http);
        if (http != 200)
                return n;
        if (c->body_size + n > c->max_response + GRPC_FRAME_HEADER_SIZE) {
                c->write_error = -EMSGSIZE;
                return 0;
        }
        if (c->body_size + n > c->body_alloc) {
                size_t a =
                    MAX(c->body_size + n, MIN(2 * c->body_alloc, c->max_response + GRPC_FRAME_HEADER_SIZE));

                p = realloc(c->body, a);
                if (!p)
                        return 0;
                c->body = p;
                c->body_alloc = a;
        }
        memcpy(c->body + c->body_size, data, n);
        c->body_size += n;
        return n;
}

/* Whether the reply so far is a gRPC one, whose body is messages. */
static bool reply_is_grpc(GrpcCall *c, CURL *easy)
{
        long http = 0;

        (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
        return http == 200 && c->content_type && startswith(c->content_type, "application/grpc");
}

/* A message's prefix is complete: make room for its bytes. */
static int message_begin(GrpcCall *c)
{
        uint32_t length;
        Message *m;
        int r;

        r = frame_header(c->head, &length);
        if (r < 0)
                return r;
        if (length > c->max_response) {
                c->refused_length = length;
                return -EMSGSIZE;
        }
        m = malloc(sizeof(Message) + length);
        if (!m)
                return -ENOMEM;
        *m = (Message){.size = length};
        c->partial = m;
        return 0;
}

/* Cuts as many messages out of the chunk as it completes; a message's prefix and bytes may be
 * spread over any number of chunks. */
static int stream_consume(GrpcCall *c, const uint8_t *p, size_t n)
{
        const uint8_t *end = p + n;
        size_t k;
        int r;

        for (;;) {
                if (!c->partial) {
                        k = MIN(GRPC_FRAME_HEADER_SIZE - c->head_size, (size_t)(end - p));
                        memcpy(c->head + c->head_size, p, k);
                        c->head_size += k;
                        p += k;
                        if (c->head_size < GRPC_FRAME_HEADER_SIZE)
                                return 0;
                        r = message_begin(c);
                        if (r < 0)
                                return r;
                }
                k = MIN(c->partial->size - c->partial->have, (size_t)(end - p));
                memcpy(c->partial->data + c->partial->have, p, k);
                c->partial->have += k;
                p += k;
                if (c->partial->have < c->partial->size)
                        return 0;
                *c->queue_tail = TAKE_PTR(c->partial);
                c->queue_tail = &(*c->queue_tail)->next;
                c->head_size = 0;
                if (p == end)
                        return 0;
        }
}

static size_t on_write_stream(char *data, size_t size, size_t nmemb, void *userdata)
{
        GrpcCall *c = userdata;
        size_t n = size * nmemb;
        int r;

        /* an error page or a foreign body is no message: the end says what it was */
        if (!reply_is_grpc(c, c->easy))
                return n;
        r = stream_consume(c, (const uint8_t *)data, n);
        /* handed over from the loop: inside libcurl's callback a handler could neither start
         * nor cancel a transfer (libcurl refuses calls into the multi handle from there) */
        if (c->queue)
                (void)sd_event_source_set_enabled(c->deliver, SD_EVENT_ONESHOT);
        if (r < 0) {
                c->write_error = r;
                return 0;
        }
        return n;
}

static bool header_is(const char *line, size_t n, const char *name, const char **ret_value, size_t *ret_len)
{
        size_t k = strlen(name);
        const char *v, *end = line + n;

        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return false;
        for (v = line + k + 1; v < end && (*v == ' ' || *v == '\t'); v++)
                ;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
        *ret_value = v;
        *ret_len = (size_t)(end - v);
        return true;
}

static int parse_status(const char *v, size_t n)
{
        int s = 0;

        if (n == 0 || n > 9)
                return -2;
        for (size_t i = 0; i < n; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -2;
                s = s * 10 + (v[i] - '0');
        }
        return s;
}

/* Trailers come through here too, and in a trailers-only reply the status is among the
 * initial headers: either way the last grpc-status seen wins. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
        GrpcCall *c = userdata;
        size_t n = size * nmemb, len;
        const char *v;

        if (header_is(line, n, "grpc-status", &v, &len))
                c->grpc_status = parse_status(v, len);
        else if (header_is(line, n, "grpc-message", &v, &len)) {
                c->grpc_message = mfree(c->grpc_message);
                if (grpc_message_decode(v, len, &c->grpc_message) < 0)
                        return 0;
        } else if (header_is(line, n, "content-type", &v, &len)) {
                free(c->content_type);
                c->content_type = strndup(v, len);
                if (!c->content_type)
                        return 0;
        }
        return n;
}

static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port)
{
        GrpcCall *c = userdata;

        c->connected = true;
        return CURL_PREREQFUNC_OK;
}

static int on_sockopt(void *userdata, curl_socket_t fd, curlsocktype purpose)
{
        GrpcCall *c = userdata;
        struct linger l = {.l_onoff = 1, .l_linger = 0};

        /* a reset instead of TIME_WAIT: probes every few seconds would otherwise pile them up */
        if (c->tcp && purpose == CURLSOCKTYPE_IPCXN)
                (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        return CURL_SOCKOPT_OK;
}

/* Fills r from a completed HTTP exchange; *ret_text holds a message made up here. */
static int result_from_reply(GrpcCall *c, CURL *easy, GrpcResult *r, char **ret_text)
{
        long http = 0;
        int k;

        (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
        if (!reply_is_grpc(c, easy)) {
                r->status = http == 200 ? GRPC_STATUS_UNKNOWN : status_from_http(http);
                if (http == 200)
                        return asprintf_safe(ret_text, "transport: received unexpected content-type \"%s\"",
                                             c->content_type ?: "");
                return asprintf_safe(ret_text, "unexpected HTTP status code received from server: %ld",
                                     http);
        }
        if (c->grpc_status == -1) {
                r->status = GRPC_STATUS_INTERNAL;
                r->message = "server closed the stream without sending trailers";
                return 0;
        }
        if (c->grpc_status < 0) {
                r->status = GRPC_STATUS_INTERNAL;
                r->message = "transport: malformed grpc-status";
                return 0;
        }
        r->status = c->grpc_status;
        r->message = c->grpc_message ?: "";
        if (r->status != GRPC_STATUS_OK)
                return 0;
        if (c->on_message) {
                /* grpc-go's words for trailers that cut a message short */
                if (c->partial || c->head_size > 0) {
                        r->status = GRPC_STATUS_INTERNAL;
                        r->message = "unexpected EOF";
                }
                return 0;
        }
        k = grpc_unframe(c->body, c->body_size, &r->data, &r->size);
        if (k == -EPROTONOSUPPORT) {
                r->status = GRPC_STATUS_INTERNAL;
                r->message = COMPRESSED_TEXT;
        } else if (k < 0) {
                r->status = GRPC_STATUS_INTERNAL;
                r->message =
                    c->body_size == 0 ? "grpc: the server sent no response message" : MISFRAMED_TEXT;
        }
        return 0;
}

static int result_from_transport(GrpcCall *c, CURLcode result, GrpcResult *r, char **ret_text)
{
        switch (c->write_error) {
        case -EMSGSIZE:
                r->status = GRPC_STATUS_RESOURCE_EXHAUSTED;
                /* a unary reply is refused as its bytes exceed the limit, before its length is read */
                if (c->refused_length > 0)
                        return asprintf_safe(ret_text,
                                             "grpc: received message larger than max (%" PRIu32 " vs. %zu)",
                                             c->refused_length, c->max_response);
                return asprintf_safe(ret_text,
                                     "grpc: received message larger than max (more than %zu bytes)",
                                     c->max_response);
        case -EPROTONOSUPPORT:
                r->status = GRPC_STATUS_INTERNAL;
                r->message = COMPRESSED_TEXT;
                return 0;
        case -EBADMSG:
                r->status = GRPC_STATUS_INTERNAL;
                r->message = MISFRAMED_TEXT;
                return 0;
        case -ENOMEM:
                return -ENOMEM;
        default:
                break;
        }
        r->status =
            result == CURLE_OPERATION_TIMEDOUT ? GRPC_STATUS_DEADLINE_EXCEEDED : GRPC_STATUS_UNAVAILABLE;
        r->message = c->error[0] ? c->error : curl_easy_strerror(result);
        return 0;
}

static void finish(GrpcCall *c, const GrpcResult *r)
{
        c->finishing = true;
        c->done(r, c->userdata);
        call_free(c);
}

/* Keeps a stream's end until the messages that came before it are handed over. */
static void hold_end(GrpcCall *c, const GrpcResult *r)
{
        c->end = *r;
        c->end_message = strdup(r->message);
        if (c->end_message)
                c->end.message = c->end_message;
        else {
                c->end.status = GRPC_STATUS_INTERNAL;
                c->end.message = "out of memory";
        }
        c->ended = true;
        (void)sd_event_source_set_enabled(c->deliver, SD_EVENT_ONESHOT);
}

static int on_deliver(sd_event_source *s, void *userdata)
{
        GrpcCall *c = userdata;

        while (c->queue) {
                Message *m = c->queue;

                c->queue = m->next;
                if (!c->queue)
                        c->queue_tail = &c->queue;
                c->delivering = true;
                c->on_message(m->data, m->size, c->userdata);
                c->delivering = false;
                free(m);
                if (c->cancelled) {
                        call_free(c);
                        return 0;
                }
        }
        if (c->ended)
                finish(c, &c->end);
        return 0;
}

static void on_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata)
{
        GrpcCall *c = userdata;
        _cleanup_free_ char *text = NULL;
        GrpcResult r = {.curl = result, .connected = c->connected, .message = ""};
        int k;

        c->easy = NULL; /* the loop cleans it up when this returns */
        if (result == CURLE_OK)
                k = result_from_reply(c, easy, &r, &text);
        else
                k = result_from_transport(c, result, &r, &text);
        if (k < 0) {
                r.status = GRPC_STATUS_INTERNAL;
                r.message = "out of memory";
        } else if (text)
                r.message = text;
        if (r.status != GRPC_STATUS_OK) {
                r.data = NULL;
                r.size = 0;
        }
        if (c->queue)
                hold_end(c, &r);
        else
                finish(c, &r);
}

static int add_header(struct curl_slist **list, const char *h)
{
        struct curl_slist *n = curl_slist_append(*list, h);

        if (!n)
                return -ENOMEM;
        *list = n;
        return 0;
}

static int build_headers(GrpcCall *c, const GrpcCallOptions *o)
{
        char timeout[GRPC_TIMEOUT_MAX], h[sizeof("grpc-timeout: ") + GRPC_TIMEOUT_MAX];
        int r;

        /* curl's own Accept and Expect have no place in a gRPC request */
        r = add_header(&c->headers, "content-type: application/grpc");
        if (r >= 0)
                r = add_header(&c->headers, "te: trailers");
        if (r >= 0)
                r = add_header(&c->headers, "Accept:");
        if (r >= 0)
                r = add_header(&c->headers, "Expect:");
        if (r >= 0 && o->timeout > 0) {
                r = grpc_timeout_format(o->timeout, timeout, sizeof(timeout));
                if (r >= 0) {
                        (void)snprintf(h, sizeof(h), "grpc-timeout: %s", timeout);
                        r = add_header(&c->headers, h);
                }
        }
        return r;
}

bool grpc_can_reuse_connections(void)
{
        /* curl before 8.0.0 fails every request on a reused prior-knowledge HTTP/2 connection
         * with "Error in the HTTP2 framing layer" (curl issue 10634) */
        return curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
}

static int setup_easy(GrpcCall *c, const GrpcCallOptions *o, const uint8_t *body, size_t size)
{
        CURL *e = c->easy;
        bool ok;

        ok = curl_easy_setopt(e, CURLOPT_URL, o->url) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, c->on_message ? on_write_stream : on_write) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEDATA, c) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HEADERDATA, c) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PREREQDATA, c) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, c) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->error) == CURLE_OK;
        if (ok && o->unix_socket)
                ok = curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket) == CURLE_OK;
        if (ok && o->user_agent)
                ok = curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent) == CURLE_OK;
        if (ok && o->timeout > 0)
                ok = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                                      (long)MIN((o->timeout + USEC_PER_MSEC - 1) / USEC_PER_MSEC,
                                                (usec_t)LONG_MAX)) == CURLE_OK;
        if (ok && o->reuse_connection && grpc_can_reuse_connections())
                ok = curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) == CURLE_OK;
        else if (ok)
                ok = curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK &&
                     curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK;
        return ok ? 0 : -EINVAL;
}

/* A unary call without on_message, else a stream. */
static int call_start(CurlLoop *l, const GrpcCallOptions *o, const void *request, size_t size,
                      grpc_message_t on_message, grpc_done_t done, void *userdata, GrpcCall **ret)
{
        _cleanup_free_ uint8_t *body = NULL;
        size_t body_size;
        GrpcCall *c;
        int r;

        if (!l || !o || !o->url || !done || (size > 0 && !request))
                return -EINVAL;
        r = grpc_frame(request, size, &body, &body_size);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (GrpcCall){
            .loop = l,
            .done = done,
            .userdata = userdata,
            .tcp = !o->unix_socket,
            .max_response = o->max_response ?: GRPC_MAX_RESPONSE_DEFAULT,
            .grpc_status = -1,
            .on_message = on_message,
        };
        c->queue_tail = &c->queue;
        if (on_message) {
                r = sd_event_add_defer(curl_loop_get_event(l), &c->deliver, on_deliver, c);
                if (r < 0) {
                        call_free(c);
                        return r;
                }
                (void)sd_event_source_set_enabled(c->deliver, SD_EVENT_OFF);
                (void)sd_event_source_set_description(c->deliver, "grpc-stream");
        }
        c->easy = curl_easy_init();
        if (!c->easy) {
                call_free(c);
                return -ENOMEM;
        }
        r = build_headers(c, o);
        if (r >= 0)
                r = setup_easy(c, o, body, body_size);
        if (r >= 0)
                r = curl_loop_add(l, c->easy, on_done, c);
        if (r < 0) {
                /* not added: the easy handle is still ours */
                curl_easy_cleanup(TAKE_PTR(c->easy));
                call_free(c);
                return r;
        }
        if (ret)
                *ret = c;
        return 0;
}

int grpc_call_start(CurlLoop *l, const GrpcCallOptions *o, const void *request, size_t size,
                    grpc_done_t done, void *userdata, GrpcCall **ret)
{
        return call_start(l, o, request, size, NULL, done, userdata, ret);
}

int grpc_stream_start(CurlLoop *l, const GrpcCallOptions *o, const void *request, size_t size,
                      grpc_message_t on_message, grpc_done_t done, void *userdata, GrpcCall **ret)
{
        if (!on_message)
                return -EINVAL;
        return call_start(l, o, request, size, on_message, done, userdata, ret);
}
