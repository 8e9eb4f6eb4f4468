/* gRPC unary and server-streaming calls without a gRPC library (DESIGN.md): one HTTP/2 POST
 * through libcurl on the agent's CurlLoop, the message framing, the grpc-timeout header and
 * the status from the trailers. Shared by the grpc probe (TCP) and the CRI client (unix
 * socket). Messages are bytes here; callers pack and unpack them with the protobuf-c code
 * generated from cri/proto/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "curl-loop.h"
#include "util.h"

/* grpc/doc/statuscodes.md */
typedef enum GrpcStatus {
        GRPC_STATUS_OK = 0,
        GRPC_STATUS_CANCELLED = 1,
        GRPC_STATUS_UNKNOWN = 2,
        GRPC_STATUS_INVALID_ARGUMENT = 3,
        GRPC_STATUS_DEADLINE_EXCEEDED = 4,
        GRPC_STATUS_NOT_FOUND = 5,
        GRPC_STATUS_ALREADY_EXISTS = 6,
        GRPC_STATUS_PERMISSION_DENIED = 7,
        GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
        GRPC_STATUS_FAILED_PRECONDITION = 9,
        GRPC_STATUS_ABORTED = 10,
        GRPC_STATUS_OUT_OF_RANGE = 11,
        GRPC_STATUS_UNIMPLEMENTED = 12,
        GRPC_STATUS_INTERNAL = 13,
        GRPC_STATUS_UNAVAILABLE = 14,
        GRPC_STATUS_DATA_LOSS = 15,
        GRPC_STATUS_UNAUTHENTICATED = 16,
} GrpcStatus;

#define GRPC_FRAME_HEADER_SIZE 5U
/* What a response may weigh when the caller sets no limit (the kubelet's CRI client allows 16 MiB). */
#define GRPC_MAX_RESPONSE_DEFAULT (16U * 1024U * 1024U)
/* "99999999m" and its NUL */
#define GRPC_TIMEOUT_MAX 10U

/* The code's name as grpc-go prints it ("Unimplemented", "DeadlineExceeded"); NULL for a code
 * outside 0..16. */
const char *grpc_status_to_string(int status);
/* grpc-go's words for a failed call, "rpc error: code = Unavailable desc = <message>" (a code
 * outside 0..16 reads "Code(17)"). 0 or -ENOMEM. */
int grpc_format_error(int status, const char *message, char **ret);

/* One message with its prefix: flag 0 (not compressed), 4-byte big-endian length, bytes.
 * -EMSGSIZE above 4 GiB - 1, -ENOMEM. */
int grpc_frame(const void *msg, size_t size, uint8_t **ret, size_t *ret_size);
/* The single message of a unary response body; *ret_msg points into buf. -EBADMSG when buf
 * is shorter than the prefix, the length disagrees with the bytes present (short or
 * trailing data) or the flag is neither 0 nor 1; -EPROTONOSUPPORT when the flag says
 * compressed (berth never offers an encoding, so a compressed reply is a server bug). */
int grpc_unframe(const void *buf, size_t size, const uint8_t **ret_msg, size_t *ret_size);

/* The grpc-timeout header value: at most 8 digits and a unit, exact in milliseconds ("1000m")
 * or microseconds ("1500u") when that fits, else rounded up to a coarser unit. -EINVAL for 0
 * (no deadline: send no header), -ENOBUFS when buf is too small. */
int grpc_timeout_format(usec_t timeout, char *buf, size_t size);
/* Percent-decodes a grpc-message value (its n bytes, not NUL-terminated); a '%' that does
 * not start a valid escape is kept as it is. 0 or -ENOMEM. */
int grpc_message_decode(const char *s, size_t n, char **ret);

typedef struct GrpcCallOptions {
        const char *url;         /* "http://host:port/pkg.Service/Method" */
        const char *unix_socket; /* connect here instead of the url's host (CRI); NULL for TCP */
        const char *user_agent;  /* NULL: no User-Agent */
        usec_t timeout;          /* the whole call, connect included, and its grpc-timeout; 0: none */
        size_t max_response;     /* largest response message; 0: GRPC_MAX_RESPONSE_DEFAULT */
        /* Share connections with other calls on the loop (CRI), where libcurl can (see
         * grpc_can_reuse_connections()). Otherwise the call dials afresh and closes its
         * connection at the end, as the kubelet's probes do; TCP sockets close with SO_LINGER
         * 0 either way, leaving no TIME_WAIT. */
        bool reuse_connection;
} GrpcCallOptions;

/* Whether the libcurl at hand can send a call on a connection an earlier call opened:
 * before 8.0.0 it cannot (Debian 12 has 7.88), and reuse_connection is ignored. */
bool grpc_can_reuse_connections(void);

/* How a call ended. status is always set: the server's grpc-status, else the code a gRPC
 * client derives (transport error: DEADLINE_EXCEEDED on timeout, else UNAVAILABLE; an HTTP
 * status other than 200: the gRPC spec's mapping, 404 being UNIMPLEMENTED; a reply without
 * grpc-status or with a bad message: INTERNAL; too large: RESOURCE_EXHAUSTED). */
typedef struct GrpcResult {
        int status;
        const char *message; /* grpc-message decoded, or the client's own text; never NULL */
        CURLcode curl;       /* CURLE_OK unless the transport failed */
        bool connected;      /* false: no connection was made, the server never saw the call */
        const uint8_t *data; /* a unary call's response message, unframed; only with GRPC_STATUS_OK */
        size_t size;
} GrpcResult;

/* Called on the loop exactly once per started call, never from inside grpc_call_start() (or
 * grpc_stream_start()) and not after grpc_call_cancel(). r and its strings live until it
 * returns; the call is freed after it returns (cancelling it from inside does nothing). */
typedef void (*grpc_done_t)(const GrpcResult *r, void *userdata);

typedef struct GrpcCall GrpcCall;

/* Starts a unary call: request is the serialised message, framed here. HTTP/2 with prior
 * knowledge, POST, content-type application/grpc, te: trailers, no proxy. ret may be NULL
 * when the caller never cancels. -EINVAL for missing options, -ENOMEM. */
int grpc_call_start(CurlLoop *l, const GrpcCallOptions *o, const void *request, size_t size,
                    grpc_done_t done, void *userdata, GrpcCall **ret);
/* Stops a call in flight and frees it; done is not called. NULL is a no-op. Calls must be
 * cancelled before their CurlLoop is freed. A stream may be cancelled from inside its own
 * on_message (it is freed when that returns). */
void grpc_call_cancel(GrpcCall *c);

/* Called on the loop with each message of a stream, unframed, in order, as soon as all its
 * bytes have arrived. It runs outside libcurl's callbacks, so it may start and cancel calls:
 * cancelling this one stops the stream, and done is then not called. data lives until it
 * returns. */
typedef void (*grpc_message_t)(const uint8_t *data, size_t size, void *userdata);

/* Starts a server-streaming call: the request is framed and sent as for grpc_call_start(); each
 * response message goes to on_message, and done is called once after the last of them, with
 * the status from the trailers or the transport error (r->data always NULL). A message larger
 * than o->max_response ends the call with RESOURCE_EXHAUSTED, one that is compressed or
 * misframed, or cut off by the trailers, with INTERNAL. o->timeout 0 sets no deadline at all:
 * the stream lasts until the server ends it or the caller cancels it. Stop it with
 * grpc_call_cancel(). -EINVAL for missing options, -ENOMEM. */
int grpc_stream_start(CurlLoop *l, const GrpcCallOptions *o, const void *request, size_t size,
                      grpc_message_t on_message, grpc_done_t done, void *userdata, GrpcCall **ret);
