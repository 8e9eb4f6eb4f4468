/* Probe handlers, as the kubelet runs them (SEMANTICS.md section 4.3): httpGet, tcpSocket and
 * grpc, each one asynchronous on the agent's loop, with the kubelet's result mapping and
 * messages. exec probes go through the runtime (runtime_exec in cri/runtime.h). The worker
 * state machine that decides when to probe and what a result means is in prober.h. */
#pragma once

#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "curl-loop.h"
#include "macro.h"
#include "util.h"

/* The Kubernetes minor this agent's API follows (pod-schema.c: 1.33). */
#define PROBE_USER_AGENT "kube-probe/1.33"
/* The kubelet reads at most this much of a probe's body or an exec probe's output. */
#define PROBE_MAX_OUTPUT (10U * 1024U)
#define PROBE_MAX_REDIRECTS 10

typedef enum ProbeResult {
        PROBE_UNKNOWN,
        PROBE_SUCCESS,
        PROBE_WARNING, /* counts as success; reported as a ProbeWarning event */
        PROBE_FAILURE,
        PROBE_ERROR, /* the probe could not be made (not a failure of the target): retried, discarded */
} ProbeResult;

const char *probe_result_to_string(ProbeResult r); /* "success", "warning", "failure", ... */

typedef enum ProbeAction {
        PROBE_ACTION_NONE,
        PROBE_ACTION_EXEC,
        PROBE_ACTION_HTTP_GET,
        PROBE_ACTION_TCP_SOCKET,
        PROBE_ACTION_GRPC,
        PROBE_ACTION_SLEEP, /* lifecycle hooks only */
} ProbeAction;

typedef struct ProbeHeader {
        char *name;
        char *value;
} ProbeHeader;

/* One handler (a probe's or a lifecycle hook's), resolved against its container and pod. */
typedef struct ProbeHandler {
        ProbeAction action;
        char **command;       /* exec: argv, $(VAR) expanded from the container's static env */
        char *scheme;         /* httpGet: "http" or "https" (lower-cased) */
        char *host;           /* httpGet, tcpSocket, grpc: the manifest's host, else the pod IP */
        int port;             /* resolved port number; 0 when port_error is set */
        char *port_error;     /* a named port no container port declares: the probe errors with this */
        char *path;           /* httpGet: "/" by default, always starting with "/" */
        ProbeHeader *headers; /* httpGet: in manifest order, repeats kept */
        size_t n_headers;
        char *service;         /* grpc: the service field, NULL for "" */
        int64_t sleep_seconds; /* sleep action */
} ProbeHandler;

void probe_handler_done(ProbeHandler *h);
/* Reads a handler object (exec/httpGet/tcpSocket/grpc/sleep) of a container (for named
 * ports and $(VAR) expansion); pod_ip is the default host ("127.0.0.1" on the host network).
 * -EINVAL with *ret_error when the object names no action. */
int probe_handler_from_json(const cJSON *handler, const cJSON *container, const char *pod_ip,
                            ProbeHandler *ret, char **ret_error);
/* kubectl describe's words for a probe: "http-get http://:8080/healthz delay=0s timeout=1s
 * period=10s #success=1 #failure=3" (probe is the probe object with its defaults). */
char *probe_describe(const cJSON *probe);

/* What one run of a handler found. message: for a failure or warning the kubelet's text
 * ("HTTP probe failed with statuscode: 500"); for exec the output; may be NULL. */
typedef struct ProbeOutcome {
        ProbeResult result;
        const char *message;
} ProbeOutcome;

/* Called on the loop exactly once per started run, never from inside the start call, and
 * not at all after probe_call_cancel(). */
typedef void (*probe_done_t)(const ProbeOutcome *o, void *userdata);

typedef struct ProbeCall ProbeCall;

/* httpGet (section 4.3): GET scheme://host:port/path with the handler's headers, the
 * kubelet's User-Agent and Accept, no keep-alive/proxy/compression, TLS unverified, body
 * read up to PROBE_MAX_OUTPUT, same-host redirects followed up to 10, a redirect to another
 * host returned as a warning; 200-399 success. The socket is closed with SO_LINGER 0 so
 * that no TIME_WAIT is left. timeout covers the whole exchange. */
int probe_http_start(CurlLoop *l, const ProbeHandler *h, usec_t timeout, probe_done_t done, void *userdata,
                     ProbeCall **ret);
/* tcpSocket: a non-blocking connect to host:port within timeout; closed at once (SO_LINGER
 * 0, no TIME_WAIT). */
int probe_tcp_start(sd_event *e, const ProbeHandler *h, usec_t timeout, probe_done_t done, void *userdata,
                    ProbeCall **ret);
/* grpc: grpc.health.v1.Health/Check{service} over HTTP/2 cleartext, deadline timeout;
 * SERVING is success, anything else a failure with the kubelet's message. */
int probe_grpc_start(CurlLoop *l, const ProbeHandler *h, usec_t timeout, probe_done_t done, void *userdata,
                     ProbeCall **ret);
/* Stops a run in flight; its callback is not called. NULL is a no-op. A run frees itself
 * right after its callback returns: cancelling it from inside the callback does nothing,
 * and it must not be used afterwards. Runs must be cancelled before their CurlLoop is
 * freed. */
void probe_call_cancel(ProbeCall *c);
