/* The grpc probe handler: grpc.health.v1.Health/Check over cleartext HTTP/2 (cri/grpc.h), with
 * the kubelet's result mapping and messages (pkg/probe/grpc): SERVING is success, every
 * other answer, error or timeout a failure. */
#include <inttypes.h>
#include <stdio.h>

#include "grpc.h"
#include "health.pb-c.h"
#include "probe-internal.h"

#define HEALTH_CHECK_PATH "/grpc.health.v1.Health/Check"

typedef struct GrpcProbe {
        ProbeCall call; /* first: probe_call_cancel() casts */
        CurlLoop *loop;
        GrpcCall *rpc;
        sd_event_source *deferred; /* brings a port error back on the loop */
        char *port_error;
        char *addr; /* host:port as net.JoinHostPort writes it */
        usec_t timeout;
        probe_done_t done;
        void *userdata;
        bool finishing;
} GrpcProbe;

static GrpcProbe *grpc_probe_free(GrpcProbe *p)
{
        if (!p)
                return NULL;
        grpc_call_cancel(p->rpc);
        sd_event_source_disable_unref(p->deferred);
        free(p->port_error);
        free(p->addr);
        free(p);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(GrpcProbe *, grpc_probe_free);

static void grpc_probe_cancel(ProbeCall *c)
{
        GrpcProbe *p = (GrpcProbe *)c;

        /* from inside its own callback: freed when the callback returns */
        if (!p->finishing)
                grpc_probe_free(p);
}

static void finish(GrpcProbe *p, ProbeResult result, const char *message)
{
        ProbeOutcome o = {.result = result, .message = message};

        p->finishing = true;
        p->done(&o, p->userdata);
        grpc_probe_free(p);
}

static void fraction(uint64_t v, int digits, char *buf, size_t size)
{
        size_t n;

        buf[0] = 0;
        if (v == 0)
                return;
        (void)snprintf(buf, size, ".%0*" PRIu64, digits, v);
        for (n = strlen(buf); n > 0 && buf[n - 1] == '0'; n--)
                buf[n - 1] = 0;
}

/* Go's time.Duration.String(), which the kubelet's messages print: "1s", "1m30s", "1.5s",
 * "500ms". */
static void format_go_duration(usec_t d, char *buf, size_t size)
{
        uint64_t s = d / USEC_PER_SEC;
        char frac[32];

        if (d == 0)
                (void)snprintf(buf, size, "0s");
        else if (d < USEC_PER_MSEC)
                (void)snprintf(buf, size, "%" PRIu64 "µs", d);
        else if (d < USEC_PER_SEC) {
                fraction(d % USEC_PER_MSEC, 3, frac, sizeof(frac));
                (void)snprintf(buf, size, "%" PRIu64 "%sms", d / USEC_PER_MSEC, frac);
        } else {
                fraction(d % USEC_PER_SEC, 6, frac, sizeof(frac));
                if (s >= 3600)
                        (void)snprintf(buf, size, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", s / 3600,
                                       s / 60 % 60, s % 60, frac);
                else if (s >= 60)
                        (void)snprintf(buf, size, "%" PRIu64 "m%" PRIu64 "%ss", s / 60, s % 60, frac);
                else
                        (void)snprintf(buf, size, "%" PRIu64 "%ss", s, frac);
        }
}

/* The answer of a call that completed with OK: SERVING or "service unhealthy". */
static int check_response(const GrpcResult *r, ProbeResult *ret_result, char **ret_message)
{
        Grpc__Health__V1__HealthCheckResponse *resp;
        const ProtobufCEnumValue *v;
        int k;

        resp = grpc__health__v1__health_check_response__unpack(NULL, r->size, r->data);
        if (!resp) {
                _cleanup_free_ char *err = NULL;

                k = grpc_format_error(GRPC_STATUS_INTERNAL, "grpc: failed to unmarshal the received message",
                                      &err);
                if (k < 0)
                        return k;
                *ret_result = PROBE_FAILURE;
                return asprintf_safe(ret_message, "error: health rpc probe failed: %s", err);
        }
        if (resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) {
                grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
                *ret_result = PROBE_SUCCESS;
                return 0;
        }
        /* a value this build does not know prints as its number, as Go's protobuf does */
        v = protobuf_c_enum_descriptor_get_value(
            &grpc__health__v1__health_check_response__serving_status__descriptor, resp->status);
        *ret_result = PROBE_FAILURE;
        if (v)
                k = asprintf_safe(ret_message, "service unhealthy (responded with \"%s\")", v->name);
        else
                k = asprintf_safe(ret_message, "service unhealthy (responded with \"%d\")",
                                  (int)resp->status);
        grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
        return k;
}

static int describe_result(GrpcProbe *p, const GrpcResult *r, ProbeResult *ret_result, char **ret_message)
{
        _cleanup_free_ char *err = NULL;
        char timeout[64];
        int k;

        format_go_duration(p->timeout, timeout, sizeof(timeout));
        *ret_result = PROBE_FAILURE;
        /* The kubelet dials with WithBlock: whatever keeps the connection from being made ends
         * as the dial's deadline. */
        if (!r->connected)
                return asprintf_safe(
                    ret_message, "timeout: failed to connect service \"%s\" within %s: %s", p->addr, timeout,
                    r->curl == CURLE_OPERATION_TIMEDOUT ? "context deadline exceeded" : r->message);
        switch (r->status) {
        case GRPC_STATUS_OK:
                return check_response(r, ret_result, ret_message);
        case GRPC_STATUS_UNIMPLEMENTED:
                return asprintf_safe(ret_message,
                                     "error: this server does not implement the grpc health protocol "
                                     "(grpc.health.v1.Health): %s",
                                     r->message);
        case GRPC_STATUS_DEADLINE_EXCEEDED:
                return asprintf_safe(ret_message, "timeout: health rpc did not complete within %s", timeout);
        default:
                k = grpc_format_error(r->status, r->message, &err);
                if (k < 0)
                        return k;
                return asprintf_safe(ret_message, "error: health rpc probe failed: %s", err);
        }
}

static void on_rpc_done(const GrpcResult *r, void *userdata)
{
        GrpcProbe *p = userdata;
        _cleanup_free_ char *message = NULL;
        ProbeResult result;

        p->rpc = NULL; /* freed by grpc.c when this returns */
        if (describe_result(p, r, &result, &message) < 0)
                finish(p, PROBE_ERROR, "out of memory");
        else
                finish(p, result, message);
}

static int on_deferred(sd_event_source *s, void *userdata)
{
        GrpcProbe *p = userdata;

        p->deferred = sd_event_source_disable_unref(p->deferred);
        finish(p, PROBE_ERROR, p->port_error);
        return 0;
}

/* The callback must not run inside the start call: a port error comes back on the loop. */
static int start_deferred(GrpcProbe *p)
{
        sd_event *e = curl_loop_get_event(p->loop);

        if (!e)
                return -EINVAL;
        return sd_event_add_defer(e, &p->deferred, on_deferred, p);
}

static int start_rpc(GrpcProbe *p, const ProbeHandler *h)
{
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *url = NULL;
        GrpcCallOptions o = {.user_agent = PROBE_USER_AGENT, .timeout = p->timeout};
        size_t size;

        req.service = h->service ?: "";
        size = grpc__health__v1__health_check_request__get_packed_size(&req);
        buf = malloc(MAX(size, (size_t)1));
        if (!buf)
                return -ENOMEM;
        (void)grpc__health__v1__health_check_request__pack(&req, buf);
        url = strjoin("http://", p->addr, HEALTH_CHECK_PATH, NULL);
        if (!url)
                return -ENOMEM;
        o.url = url;
        return grpc_call_start(p->loop, &o, buf, size, on_rpc_done, p, &p->rpc);
}

int probe_grpc_start(CurlLoop *l, const ProbeHandler *h, usec_t timeout, probe_done_t done, void *userdata,
                     ProbeCall **ret)
{
        _cleanup_(grpc_probe_freep) GrpcProbe *p = NULL;
        int r;

        if (!l || !h || !done || !ret || (!h->port_error && isempty(h->host)))
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (GrpcProbe){
            .call.cancel = grpc_probe_cancel,
            .loop = l,
            .timeout = timeout,
            .done = done,
            .userdata = userdata,
        };
        if (h->port_error) {
                p->port_error = strdup(h->port_error);
                if (!p->port_error)
                        return -ENOMEM;
                r = start_deferred(p);
        } else {
                if (strchr(h->host, ':'))
                        r = asprintf_safe(&p->addr, "[%s]:%d", h->host, h->port);
                else
                        r = asprintf_safe(&p->addr, "%s:%d", h->host, h->port);
                if (r < 0)
                        return r;
                r = start_rpc(p, h);
        }
        if (r < 0)
                return r;
        *ret = &TAKE_PTR(p)->call;
        return 0;
}
