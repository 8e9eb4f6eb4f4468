/* A CRI v1 client (runtime.v1.RuntimeService and ImageService) on the agent's CurlLoop: one
 * asynchronous function per call, the request packed and the reply unpacked with the
 * protobuf-c code generated from cri/proto/api.proto, the kubelet's deadlines, its checks
 * of the replies, and errors in grpc-go's words. GetContainerEvents is a server stream: each
 * event goes to a callback as it arrives. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "api.pb-c.h" /* needs -Ulinux (the messages have a field "linux"): cri_client_dep adds it */
#include "curl-loop.h"
#include "grpc.h"
#include "util.h"

#define CRI_CLIENT_ENDPOINT_CONTAINERD "unix:///run/containerd/containerd.sock"
#define CRI_CLIENT_ENDPOINT_CRIO "unix:///var/run/crio/crio.sock"
/* The kubelet's --runtime-request-timeout: the deadline of most calls. */
#define CRI_CLIENT_REQUEST_TIMEOUT_USEC (2 * 60 * USEC_PER_SEC)
/* Where the kubelet sets no deadline at all (PullImage, ExecSync without a timeout) berth still
 * bounds the call, so that a runtime that never answers cannot hold a pod for ever. */
#define CRI_CLIENT_UNBOUNDED_TIMEOUT_USEC (60 * 60 * USEC_PER_SEC)
/* The API version berth speaks, sent with Version (crictl sends the same). */
#define CRI_CLIENT_API_VERSION "v1"

typedef enum CriMethod {
        CRI_METHOD_VERSION,
        CRI_METHOD_STATUS,
        CRI_METHOD_RUN_POD_SANDBOX,
        CRI_METHOD_STOP_POD_SANDBOX,
        CRI_METHOD_REMOVE_POD_SANDBOX,
        CRI_METHOD_POD_SANDBOX_STATUS,
        CRI_METHOD_LIST_POD_SANDBOX,
        CRI_METHOD_CREATE_CONTAINER,
        CRI_METHOD_START_CONTAINER,
        CRI_METHOD_STOP_CONTAINER,
        CRI_METHOD_REMOVE_CONTAINER,
        CRI_METHOD_LIST_CONTAINERS,
        CRI_METHOD_CONTAINER_STATUS,
        CRI_METHOD_EXEC_SYNC,
        CRI_METHOD_GET_CONTAINER_EVENTS, /* a server stream: cri_client_get_container_events() */
        CRI_METHOD_LIST_IMAGES,
        CRI_METHOD_IMAGE_STATUS,
        CRI_METHOD_PULL_IMAGE,
        CRI_METHOD_REMOVE_IMAGE,
        _CRI_METHOD_MAX,
} CriMethod;

/* The gRPC path, "/runtime.v1.RuntimeService/Version"; NULL outside the enum. */
const char *cri_client_method_path(CriMethod m);

/* Why a call failed. The runtime's own status, or the one a gRPC client derives (transport:
 * UNAVAILABLE, DEADLINE_EXCEEDED); a reply that does not unpack, or lacks what the kubelet
 * requires of it (a sandbox id, a container status's metadata...), is INTERNAL, its desc
 * naming the method. */
typedef struct CriError {
        int status; /* GrpcStatus */
        char *desc; /* the runtime's message alone: "container \"x\" in namespace \"k8s.io\": not found" */
        char *message; /* grpc-go's words: "rpc error: code = NotFound desc = <desc>" */
} CriError;

void cri_error_done(CriError *e);

/* Called on the loop exactly once per started call, never from inside the function that
 * started it, and not after cri_client_cancel() or cri_client_free(). On success error is
 * NULL and response the method's reply (Runtime__V1__VersionResponse for Version, ...); else
 * response is NULL. Both live until the callback returns. A stream's end has no response:
 * error NULL when the runtime ended it cleanly. */
typedef void (*cri_done_t)(const CriError *error, const void *response, void *userdata);
/* Called on the loop with each event of a GetContainerEvents stream, in order, as soon as it
 * has arrived; ev lives until the callback returns. It may start calls, and cancel this
 * stream (its done is then not called) or free the client. */
typedef void (*cri_event_t)(const Runtime__V1__ContainerEventResponse *ev, void *userdata);

typedef struct CriClient CriClient;
typedef struct CriCall CriCall;

typedef struct CriClientOptions {
        const char *endpoint;   /* "unix:///path" or "/path"; NULL: cri_client_default_endpoint() */
        usec_t request_timeout; /* the kubelet's --runtime-request-timeout; 0: 2 minutes */
} CriClientOptions;

/* The socket path of an endpoint: "unix:///run/x.sock" or "/run/x.sock" give "/run/x.sock".
 * -EPROTONOSUPPORT for another scheme (tcp://: berth speaks to local runtimes only), -EINVAL
 * for anything else that is not an absolute path, -ENAMETOOLONG beyond sun_path; a message
 * for the user in *ret_error. */
int cri_client_parse_endpoint(const char *endpoint, char **ret_path, char **ret_error);
/* The first of candidates (NULL-terminated endpoints) whose socket exists, else the first. */
const char *cri_client_pick_endpoint(const char *const *candidates);
/* The config's default: containerd's socket, else CRI-O's, when it exists; else containerd's. */
const char *cri_client_default_endpoint(void);

/* A client of the runtime at o->endpoint (o may be NULL). Checks that the socket is there, so
 * that a wrong endpoint shows before any call: -ENOENT "CRI endpoint unix:///x: no such
 * socket", -ENOTSOCK when something else is at the path, or what the parse says. */
int cri_client_new(CriClient **ret, CurlLoop *loop, const CriClientOptions *o, char **ret_error);
/* Cancels every call in flight (their callbacks are not called) and frees; before the CurlLoop
 * is freed. May be called from a call's callback. NULL is a no-op. */
CriClient *cri_client_free(CriClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CriClient *, cri_client_free);
/* "unix:///path" */
const char *cri_client_get_endpoint(const CriClient *c);
size_t cri_client_in_flight(const CriClient *c);

/* Stops a call in flight and frees it; its callback is not called. NULL is a no-op, and so is
 * a call cancelled from inside its own callback (it is freed when that returns). */
void cri_client_cancel(CriCall *call);

/* Every call below starts asynchronously and returns 0, or a negative errno when it could not
 * be started (-EINVAL for a missing argument, -ENOMEM); its callback is then never called.
 * deadline bounds the whole call (and is sent as grpc-timeout); 0 takes the kubelet's for the
 * method: the request timeout (2 minutes), twice that for RunPodSandbox, the request timeout
 * plus the grace for StopContainer and plus the command's timeout for ExecSync. ret may be NULL
 * when the caller never cancels. Request messages are borrowed: packed before the call returns. */

/* Any unary method with a request message of its input type (request->descriptor must match;
 * -EINVAL for GetContainerEvents). deadline 0: the request timeout. */
int cri_client_call(CriClient *c, CriMethod m, const void *request, usec_t deadline, cri_done_t done,
                    void *userdata, CriCall **ret);

int cri_client_version(CriClient *c, usec_t deadline, cri_done_t done, void *userdata, CriCall **ret);
int cri_client_status(CriClient *c, bool verbose, usec_t deadline, cri_done_t done, void *userdata,
                      CriCall **ret);

int cri_client_run_pod_sandbox(CriClient *c, const Runtime__V1__PodSandboxConfig *config,
                               const char *runtime_handler, usec_t deadline, cri_done_t done, void *userdata,
                               CriCall **ret);
int cri_client_stop_pod_sandbox(CriClient *c, const char *pod_sandbox_id, usec_t deadline, cri_done_t done,
                                void *userdata, CriCall **ret);
int cri_client_remove_pod_sandbox(CriClient *c, const char *pod_sandbox_id, usec_t deadline, cri_done_t done,
                                  void *userdata, CriCall **ret);
int cri_client_pod_sandbox_status(CriClient *c, const char *pod_sandbox_id, bool verbose, usec_t deadline,
                                  cri_done_t done, void *userdata, CriCall **ret);
/* filter may be NULL: every sandbox */
int cri_client_list_pod_sandbox(CriClient *c, const Runtime__V1__PodSandboxFilter *filter, usec_t deadline,
                                cri_done_t done, void *userdata, CriCall **ret);

int cri_client_create_container(CriClient *c, const char *pod_sandbox_id,
                                const Runtime__V1__ContainerConfig *config,
                                const Runtime__V1__PodSandboxConfig *sandbox_config, usec_t deadline,
                                cri_done_t done, void *userdata, CriCall **ret);
int cri_client_start_container(CriClient *c, const char *container_id, usec_t deadline, cri_done_t done,
                               void *userdata, CriCall **ret);
/* grace_seconds: SIGTERM, then SIGKILL after that many seconds (0: at once) */
int cri_client_stop_container(CriClient *c, const char *container_id, int64_t grace_seconds, usec_t deadline,
                              cri_done_t done, void *userdata, CriCall **ret);
int cri_client_remove_container(CriClient *c, const char *container_id, usec_t deadline, cri_done_t done,
                                void *userdata, CriCall **ret);
/* filter may be NULL: every container */
int cri_client_list_containers(CriClient *c, const Runtime__V1__ContainerFilter *filter, usec_t deadline,
                               cri_done_t done, void *userdata, CriCall **ret);
int cri_client_container_status(CriClient *c, const char *container_id, bool verbose, usec_t deadline,
                                cri_done_t done, void *userdata, CriCall **ret);
/* cmd NULL-terminated. timeout: the runtime kills the command after it, sent in whole seconds
 * rounded up (0: none; the deadline is then CRI_CLIENT_UNBOUNDED_TIMEOUT_USEC). A command that
 * ran is a success whatever its exit code (ExecSyncResponse.exit_code). */
int cri_client_exec_sync(CriClient *c, const char *container_id, char *const *cmd, usec_t timeout,
                         usec_t deadline, cri_done_t done, void *userdata, CriCall **ret);

/* Images are named by a reference, as the user wrote it or normalised (the runtime normalises
 * it again), or by an image id. filter may be NULL: every image. */
int cri_client_list_images(CriClient *c, const Runtime__V1__ImageFilter *filter, usec_t deadline,
                           cri_done_t done, void *userdata, CriCall **ret);
/* An absent image is a success whose response has no image (ImageStatusResponse.image NULL). */
int cri_client_image_status(CriClient *c, const char *image, bool verbose, usec_t deadline, cri_done_t done,
                            void *userdata, CriCall **ret);
/* auth and sandbox_config may be NULL. deadline 0: CRI_CLIENT_UNBOUNDED_TIMEOUT_USEC (the
 * kubelet sets none). */
int cri_client_pull_image(CriClient *c, const char *image, const Runtime__V1__AuthConfig *auth,
                          const Runtime__V1__PodSandboxConfig *sandbox_config, usec_t deadline,
                          cri_done_t done, void *userdata, CriCall **ret);
int cri_client_remove_image(CriClient *c, const char *image, usec_t deadline, cri_done_t done,
                            void *userdata, CriCall **ret);

/* Watches the runtime's container events (GetContainerEvents, the kubelet's evented PLEG): a
 * stream without a deadline, which lasts until the runtime ends it or the caller cancels it
 * with cri_client_cancel(). Each event is unpacked and handed to on_event (its
 * pod_sandbox_status may be NULL; nothing else is checked). done is called once when the stream
 * ends, with the status in grpc-go's words: the runtime's (a runtime without the method, such
 * as containerd before 1.7, answers GRPC_STATUS_UNIMPLEMENTED: relist instead), the transport's
 * (UNAVAILABLE when the runtime goes away), or INTERNAL naming the method when an event does
 * not unpack; error is NULL when the runtime ended the stream cleanly. The caller watches
 * again, after a relist, whichever way it ended. */
int cri_client_get_container_events(CriClient *c, cri_event_t on_event, cri_done_t done, void *userdata,
                                    CriCall **ret);

/* What a finished call of m amounts to (the path every reply takes, and every event of a
 * GetContainerEvents stream; exposed for the tests):
 * on GRPC_STATUS_OK the unpacked and checked response in *ret_response (free it with
 * protobuf_c_message_free_unpacked()), else *ret_error filled and *ret_response NULL.
 * socket_path names the socket in the words of a failed dial. 0, or -ENOMEM. */
int cri_client_parse_reply(CriMethod m, const char *socket_path, const GrpcResult *r, void **ret_response,
                           CriError *ret_error);

/* The name the runtime stores an image reference under, as docker's reference.ParseNormalizedNamed
 * and TagNameOnly make it: "busybox" → "docker.io/library/busybox:latest", "foo/bar" →
 * "docker.io/foo/bar:latest", "registry:5000/x" → "registry:5000/x:latest"; a tag or digest
 * (@sha256:...) is kept, and a digest alone gets no tag. An image id ("sha256:<64 hex>") is
 * returned as it is. -EINVAL for what is not a valid reference (upper case in the path, a bad
 * tag or digest, a bare 64-hex name). */
int cri_client_normalize_image(const char *image, char **ret);
