/* The CRI v1 client: endpoints, the method table, one gRPC call per request through
 * cri/grpc.c (unary, or the GetContainerEvents stream), the replies unpacked and checked as the
 * kubelet's remote runtime service checks them, errors worded as grpc-go words them, and image
 * reference normalisation. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "berth-config.h"
#include "cri-client.h"

#define USER_AGENT "berth-cri-client/" BERTH_VERSION
/* What a caller's timeout or grace may add to a deadline: keeps the sums from overflowing. */
#define EXTRA_MAX_USEC ((usec_t)100 * 365 * 24 * 3600 * USEC_PER_SEC)
#define UNIX_PREFIX "unix://"

struct CriClient {
        CurlLoop *loop;
        char *endpoint; /* unix:///path */
        char *path;
        usec_t request_timeout;
        CriCall *calls; /* in flight */
        size_t n_calls;
};

struct CriCall {
        CriClient *client;
        CriCall *prev, *next;
        CriMethod method;
        GrpcCall *rpc;
        cri_event_t on_event; /* a stream's */
        cri_done_t done;
        void *userdata;
        bool finishing;
};

static const struct {
        const ProtobufCServiceDescriptor *service;
        const char *path;
} methods[_CRI_METHOD_MAX] = {
#define RUNTIME(m, name)                                                                                    \
        [m] = {&runtime__v1__runtime_service__descriptor, "/runtime.v1.RuntimeService/" name}
#define IMAGE(m, name) [m] = {&runtime__v1__image_service__descriptor, "/runtime.v1.ImageService/" name}
    RUNTIME(CRI_METHOD_VERSION, "Version"),
    RUNTIME(CRI_METHOD_STATUS, "Status"),
    RUNTIME(CRI_METHOD_RUN_POD_SANDBOX, "RunPodSandbox"),
    RUNTIME(CRI_METHOD_STOP_POD_SANDBOX, "StopPodSandbox"),
    RUNTIME(CRI_METHOD_REMOVE_POD_SANDBOX, "RemovePodSandbox"),
    RUNTIME(CRI_METHOD_POD_SANDBOX_STATUS, "PodSandboxStatus"),
    RUNTIME(CRI_METHOD_LIST_POD_SANDBOX, "ListPodSandbox"),
    RUNTIME(CRI_METHOD_CREATE_CONTAINER, "CreateContainer"),
    RUNTIME(CRI_METHOD_START_CONTAINER, "StartContainer"),
    RUNTIME(CRI_METHOD_STOP_CONTAINER, "StopContainer"),
    RUNTIME(CRI_METHOD_REMOVE_CONTAINER, "RemoveContainer"),
    RUNTIME(CRI_METHOD_LIST_CONTAINERS, "ListContainers"),
    RUNTIME(CRI_METHOD_CONTAINER_STATUS, "ContainerStatus"),
    RUNTIME(CRI_METHOD_EXEC_SYNC, "ExecSync"),
    RUNTIME(CRI_METHOD_GET_CONTAINER_EVENTS, "GetContainerEvents"),
    IMAGE(CRI_METHOD_LIST_IMAGES, "ListImages"),
    IMAGE(CRI_METHOD_IMAGE_STATUS, "ImageStatus"),
    IMAGE(CRI_METHOD_PULL_IMAGE, "PullImage"),
    IMAGE(CRI_METHOD_REMOVE_IMAGE, "RemoveImage"),
#undef RUNTIME
#undef IMAGE
};

const char *cri_client_method_path(CriMethod m)
{
        if ((unsigned)m >= _CRI_METHOD_MAX)
                return NULL;
        return methods[m].path;
}

/* The generated descriptor of m: its request and response message types. */
static const ProtobufCMethodDescriptor *method_descriptor(CriMethod m)
{
        const char *path = cri_client_method_path(m);

        if (!path)
                return NULL;
        return protobuf_c_service_descriptor_get_method_by_name(methods[m].service, strrchr(path, '/') + 1);
}

void cri_error_done(CriError *e)
{
        if (!e)
                return;
        e->desc = mfree(e->desc);
        e->message = mfree(e->message);
}

static int set_error(CriError *e, int status, const char *fmt, ...) _printf_(3, 4);
static int set_error(CriError *e, int status, const char *fmt, ...)
{
        va_list ap;
        int r;

        cri_error_done(e);
        e->status = status;
        va_start(ap, fmt);
        r = vasprintf(&e->desc, fmt, ap);
        va_end(ap);
        if (r < 0) {
                e->desc = NULL;
                return -ENOMEM;
        }
        return grpc_format_error(status, e->desc, &e->message);
}

int cri_client_parse_endpoint(const char *endpoint, char **ret_path, char **ret_error)
{
        const char *path, *scheme_end;
        char *p;

        if (isempty(endpoint))
                return set_errorf(ret_error, -EINVAL, "CRI endpoint is empty");
        scheme_end = strstr(endpoint, "://");
        if (startswith(endpoint, UNIX_PREFIX))
                path = endpoint + strlen(UNIX_PREFIX);
        else if (scheme_end && !memchr(endpoint, '/', (size_t)(scheme_end - endpoint)))
                return set_errorf(
                    ret_error, -EPROTONOSUPPORT,
                    "CRI endpoint %s: protocol \"%.*s\" not supported (a unix socket is: unix:///path)",
                    endpoint, (int)(scheme_end - endpoint), endpoint);
        else
                path = endpoint;
        if (path[0] != '/')
                return set_errorf(ret_error, -EINVAL,
                                  "CRI endpoint %s: not an absolute socket path (unix:///path or /path)",
                                  endpoint);
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                return set_errorf(ret_error, -ENAMETOOLONG, "CRI endpoint %s: the socket path is too long",
                                  endpoint);
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

static bool socket_exists(const char *endpoint)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;

        return cri_client_parse_endpoint(endpoint, &path, NULL) >= 0 && stat(path, &st) == 0 &&
               S_ISSOCK(st.st_mode);
}

const char *cri_client_pick_endpoint(const char *const *candidates)
{
        if (!candidates || !candidates[0])
                return NULL;
        for (size_t i = 0; candidates[i]; i++)
                if (socket_exists(candidates[i]))
                        return candidates[i];
        return candidates[0];
}

const char *cri_client_default_endpoint(void)
{
        static const char *const candidates[] = {CRI_CLIENT_ENDPOINT_CONTAINERD, CRI_CLIENT_ENDPOINT_CRIO,
                                                 NULL};

        return cri_client_pick_endpoint(candidates);
}

int cri_client_new(CriClient **ret, CurlLoop *loop, const CriClientOptions *o, char **ret_error)
{
        _cleanup_free_ char *path = NULL, *endpoint = NULL;
        const char *e = o && o->endpoint ? o->endpoint : cri_client_default_endpoint();
        struct stat st;
        CriClient *c;
        int r;

        if (!ret || !loop)
                return -EINVAL;
        r = cri_client_parse_endpoint(e, &path, ret_error);
        if (r < 0)
                return r;
        endpoint = strjoin(UNIX_PREFIX, path, NULL);
        if (!endpoint)
                return -ENOMEM;
        if (stat(path, &st) < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        return set_errorf(ret_error, r, "CRI endpoint %s: no such socket", endpoint);
                return set_errorf(ret_error, r, "CRI endpoint %s: %s", endpoint, strerror(-r));
        }
        if (!S_ISSOCK(st.st_mode))
                return set_errorf(ret_error, -ENOTSOCK, "CRI endpoint %s: not a socket", endpoint);
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (CriClient){
            .loop = loop,
            .endpoint = TAKE_PTR(endpoint),
            .path = TAKE_PTR(path),
            .request_timeout =
                o && o->request_timeout ? o->request_timeout : CRI_CLIENT_REQUEST_TIMEOUT_USEC,
        };
        *ret = c;
        return 0;
}

static void unlink_call(CriCall *call)
{
        CriClient *c = call->client;

        if (call->prev)
                call->prev->next = call->next;
        else
                c->calls = call->next;
        if (call->next)
                call->next->prev = call->prev;
        call->prev = call->next = NULL;
        c->n_calls--;
}

void cri_client_cancel(CriCall *call)
{
        if (!call || call->finishing)
                return;
        grpc_call_cancel(call->rpc);
        unlink_call(call);
        free(call);
}

CriClient *cri_client_free(CriClient *c)
{
        if (!c)
                return NULL;
        while (c->calls)
                cri_client_cancel(c->calls);
        free(c->endpoint);
        free(c->path);
        free(c);
        return NULL;
}

const char *cri_client_get_endpoint(const CriClient *c)
{
        return c->endpoint;
}

size_t cri_client_in_flight(const CriClient *c)
{
        return c->n_calls;
}

/* Why a dial failed, as Go's syscall errors read ("no such file or directory"): libcurl keeps
 * the errno to itself, so try the socket once more. NULL when it connects now. */
static const char *dial_error(const char *path, char *buf, size_t size)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        int k;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return NULL;
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                return NULL;
        k = errno;
        (void)snprintf(buf, size, "%s", strerror(k));
        buf[0] = (char)tolower((unsigned char)buf[0]);
        return buf;
}

static int error_from_result(const char *socket_path, const GrpcResult *r, CriError *e)
{
        const char *why;
        char buf[128];

        /* grpc-go's words for what the kubelet would have seen */
        if (r->curl == CURLE_OPERATION_TIMEDOUT)
                return set_error(e, GRPC_STATUS_DEADLINE_EXCEEDED, "context deadline exceeded");
        if (!r->connected && r->status == GRPC_STATUS_UNAVAILABLE && socket_path) {
                why = dial_error(socket_path, buf, sizeof(buf)) ?: r->message;
                return set_error(e, r->status,
                                 "connection error: desc = \"transport: Error while dialing: dial unix %s: "
                                 "connect: %s\"",
                                 socket_path, why);
        }
        return set_error(e, r->status, "%s", r->message);
}

/* A comma-separated list of what is missing, as the kubelet lists it. */
static int add_missing(char **list, bool missing, const char *name)
{
        char *s;

        if (!missing)
                return 0;
        s = *list ? strjoin(*list, ", ", name, NULL) : strdup(name);
        if (!s)
                return -ENOMEM;
        free(*list);
        *list = s;
        return 0;
}

static int check_version(const Runtime__V1__VersionResponse *v, char **ret_problem)
{
        _cleanup_free_ char *missing = NULL;
        int r;

        r = add_missing(&missing, isempty(v->version), "Version");
        if (r >= 0)
                r = add_missing(&missing, isempty(v->runtime_name), "RuntimeName");
        if (r >= 0)
                r = add_missing(&missing, isempty(v->runtime_api_version), "RuntimeApiVersion");
        if (r >= 0)
                r = add_missing(&missing, isempty(v->runtime_version), "RuntimeVersion");
        if (r < 0)
                return r;
        if (!missing)
                return 0;
        return asprintf_safe(ret_problem, "not all fields are set in VersionResponse (missing %s)", missing);
}

/* The kubelet's verifySandboxStatus() */
static const char *check_sandbox_status(const Runtime__V1__PodSandboxStatus *s)
{
        if (!s)
                return "status is not set";
        if (isempty(s->id))
                return "status.Id is not set";
        if (!s->metadata)
                return "status.Metadata is not set";
        if (isempty(s->metadata->name) || isempty(s->metadata->namespace_) || isempty(s->metadata->uid))
                return "metadata.Name, metadata.Namespace or metadata.Uid is not in metadata";
        if (s->created_at == 0)
                return "status.CreatedAt is not set";
        return NULL;
}

/* The kubelet's verifyContainerStatus() */
static const char *check_container_status(const Runtime__V1__ContainerStatus *s)
{
        if (!s)
                return "container status is nil";
        if (isempty(s->id))
                return "status.Id is not set";
        if (!s->metadata)
                return "status.Metadata is not set";
        if (isempty(s->metadata->name))
                return "metadata.Name is not in metadata";
        if (s->created_at == 0)
                return "status.CreatedAt is not set";
        if (!s->image || isempty(s->image->image))
                return "status.Image is not set";
        if (isempty(s->image_ref))
                return "status.ImageRef is not set";
        return NULL;
}

/* What the kubelet requires of a reply beyond its unpacking; *ret_problem stays NULL when
 * it is fine. */
static int check_response(CriMethod m, const ProtobufCMessage *msg, char **ret_problem)
{
        const char *problem = NULL;

        switch (m) {
        case CRI_METHOD_VERSION:
                return check_version((const Runtime__V1__VersionResponse *)msg, ret_problem);
        case CRI_METHOD_STATUS: {
                const Runtime__V1__StatusResponse *s = (const void *)msg;

                if (!s->status || s->status->n_conditions < 2)
                        problem = "RuntimeReady or NetworkReady condition are not set";
                break;
        }
        case CRI_METHOD_RUN_POD_SANDBOX:
                if (isempty(((const Runtime__V1__RunPodSandboxResponse *)msg)->pod_sandbox_id))
                        problem = "PodSandboxId is not set";
                break;
        case CRI_METHOD_CREATE_CONTAINER:
                if (isempty(((const Runtime__V1__CreateContainerResponse *)msg)->container_id))
                        problem = "ContainerId is not set";
                break;
        case CRI_METHOD_POD_SANDBOX_STATUS:
                problem = check_sandbox_status(((const Runtime__V1__PodSandboxStatusResponse *)msg)->status);
                break;
        case CRI_METHOD_CONTAINER_STATUS:
                problem =
                    check_container_status(((const Runtime__V1__ContainerStatusResponse *)msg)->status);
                break;
        case CRI_METHOD_IMAGE_STATUS: {
                const Runtime__V1__Image *i = ((const Runtime__V1__ImageStatusResponse *)msg)->image;

                if (i && (isempty(i->id) || i->size == 0))
                        problem = "Id or size of image is not set";
                break;
        }
        case CRI_METHOD_PULL_IMAGE:
                if (isempty(((const Runtime__V1__PullImageResponse *)msg)->image_ref))
                        problem = "imageRef of image is not set";
                break;
        default:
                break;
        }
        if (!problem)
                return 0;
        *ret_problem = strdup(problem);
        return *ret_problem ? 0 : -ENOMEM;
}

int cri_client_parse_reply(CriMethod m, const char *socket_path, const GrpcResult *r, void **ret_response,
                           CriError *ret_error)
{
        const ProtobufCMethodDescriptor *md = method_descriptor(m);
        _cleanup_free_ char *problem = NULL;
        ProtobufCMessage *msg;
        int k;

        *ret_response = NULL;
        *ret_error = (CriError){};
        if (!md || !r)
                return -EINVAL;
        if (r->status != GRPC_STATUS_OK)
                return error_from_result(socket_path, r, ret_error);
        msg = protobuf_c_message_unpack(md->output, NULL, r->size, r->data);
        if (!msg)
                return set_error(ret_error, GRPC_STATUS_INTERNAL,
                                 "%s: grpc: failed to unmarshal the received message", methods[m].path);
        k = check_response(m, msg, &problem);
        if (k < 0 || problem) {
                protobuf_c_message_free_unpacked(msg, NULL);
                if (k < 0)
                        return k;
                return set_error(ret_error, GRPC_STATUS_INTERNAL, "%s: %s", methods[m].path, problem);
        }
        *ret_response = msg;
        return 0;
}

/* Hands the end of a call to its callback and frees it; its GrpcCall is freed by grpc.c. k < 0:
 * out of memory. */
static void call_end(CriCall *call, int k, const CriError *error, const void *response)
{
        static const CriError oom = {
            .status = GRPC_STATUS_INTERNAL,
            .desc = (char *)"out of memory",
            .message = (char *)"rpc error: code = Internal desc = out of memory",
        };

        call->rpc = NULL;
        call->finishing = true;
        /* unlinked first: the callback may free the client */
        unlink_call(call);
        if (k < 0)
                call->done(&oom, NULL, call->userdata);
        else
                call->done(response ? NULL : error, response, call->userdata);
        free(call);
}

static void on_rpc_done(const GrpcResult *r, void *userdata)
{
        CriCall *call = userdata;
        CriError e = {};
        void *response = NULL;
        int k = 0;

        /* a stream's messages went to on_event: its clean end is neither error nor response */
        if (!call->on_event || r->status != GRPC_STATUS_OK)
                k = cri_client_parse_reply(call->method, call->client->path, r, &response, &e);
        call_end(call, k, e.message ? &e : NULL, response);
        if (response)
                protobuf_c_message_free_unpacked(response, NULL);
        cri_error_done(&e);
}

static void on_rpc_message(const uint8_t *data, size_t size, void *userdata)
{
        CriCall *call = userdata;
        GrpcResult r = {
            .status = GRPC_STATUS_OK, .message = "", .connected = true, .data = data, .size = size};
        CriError e = {};
        void *event = NULL;
        int k;

        k = cri_client_parse_reply(call->method, call->client->path, &r, &event, &e);
        if (event) {
                /* call is not touched after: the handler may cancel it or free the client */
                call->on_event(event, call->userdata);
                protobuf_c_message_free_unpacked(event, NULL);
                return;
        }
        /* as grpc-go ends a stream whose message does not unmarshal */
        grpc_call_cancel(call->rpc);
        call_end(call, k, &e, NULL);
        cri_error_done(&e);
}

static bool method_is_stream(CriMethod m)
{
        return m == CRI_METHOD_GET_CONTAINER_EVENTS;
}

/* A unary call without on_event, else a stream; timeout 0: none. */
static int call_start(CriClient *c, CriMethod m, const void *request, usec_t timeout, cri_event_t on_event,
                      cri_done_t done, void *userdata, CriCall **ret)
{
        const ProtobufCMethodDescriptor *md = method_descriptor(m);
        const ProtobufCMessage *req = request;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *url = NULL;
        GrpcCallOptions o;
        CriCall *call;
        size_t size;
        int r;

        if (!c || !md || !req || !done || req->descriptor != md->input || !protobuf_c_message_check(req) ||
            method_is_stream(m) != !!on_event)
                return -EINVAL;
        size = protobuf_c_message_get_packed_size(req);
        buf = malloc(MAX(size, (size_t)1));
        url = strjoin("http://localhost", methods[m].path, NULL);
        call = calloc(1, sizeof(*call));
        if (!buf || !url || !call) {
                free(call);
                return -ENOMEM;
        }
        (void)protobuf_c_message_pack(req, buf);
        *call =
            (CriCall){.client = c, .method = m, .on_event = on_event, .done = done, .userdata = userdata};
        o = (GrpcCallOptions){
            .url = url,
            .unix_socket = c->path,
            .user_agent = USER_AGENT,
            .timeout = timeout,
            .reuse_connection = true,
        };
        if (on_event)
                r = grpc_stream_start(c->loop, &o, buf, size, on_rpc_message, on_rpc_done, call, &call->rpc);
        else
                r = grpc_call_start(c->loop, &o, buf, size, on_rpc_done, call, &call->rpc);
        if (r < 0) {
                free(call);
                return r;
        }
        call->next = c->calls;
        if (c->calls)
                c->calls->prev = call;
        c->calls = call;
        c->n_calls++;
        if (ret)
                *ret = call;
        return 0;
}

int cri_client_call(CriClient *c, CriMethod m, const void *request, usec_t deadline, cri_done_t done,
                    void *userdata, CriCall **ret)
{
        if (!c)
                return -EINVAL;
        return call_start(c, m, request, deadline ?: c->request_timeout, NULL, done, userdata, ret);
}

int cri_client_get_container_events(CriClient *c, cri_event_t on_event, cri_done_t done, void *userdata,
                                    CriCall **ret)
{
        Runtime__V1__GetEventsRequest req = RUNTIME__V1__GET_EVENTS_REQUEST__INIT;

        /* no deadline: a watch lasts as long as the runtime runs (the kubelet sets none either) */
        if (!on_event)
                return -EINVAL;
        return call_start(c, CRI_METHOD_GET_CONTAINER_EVENTS, &req, 0, on_event, done, userdata, ret);
}

int cri_client_version(CriClient *c, usec_t deadline, cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;

        req.version = (char *)CRI_CLIENT_API_VERSION;
        return cri_client_call(c, CRI_METHOD_VERSION, &req, deadline, done, userdata, ret);
}

int cri_client_status(CriClient *c, bool verbose, usec_t deadline, cri_done_t done, void *userdata,
                      CriCall **ret)
{
        Runtime__V1__StatusRequest req = RUNTIME__V1__STATUS_REQUEST__INIT;

        req.verbose = verbose;
        return cri_client_call(c, CRI_METHOD_STATUS, &req, deadline, done, userdata, ret);
}

int cri_client_run_pod_sandbox(CriClient *c, const Runtime__V1__PodSandboxConfig *config,
                               const char *runtime_handler, usec_t deadline, cri_done_t done, void *userdata,
                               CriCall **ret)
{
        Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;

        if (!c || !config)
                return -EINVAL;
        req.config = (Runtime__V1__PodSandboxConfig *)config;
        if (runtime_handler)
                req.runtime_handler = (char *)runtime_handler;
        /* the kubelet's: twice the request timeout for sandbox operations */
        return cri_client_call(c, CRI_METHOD_RUN_POD_SANDBOX, &req, deadline ?: 2 * c->request_timeout, done,
                               userdata, ret);
}

/* The calls whose request is one id (field 1). */
static int call_with_id(CriClient *c, CriMethod m, const char *id, usec_t deadline, cri_done_t done,
                        void *userdata, CriCall **ret)
{
        Runtime__V1__StopPodSandboxRequest stop_sandbox = RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;
        Runtime__V1__RemovePodSandboxRequest remove_sandbox = RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;
        Runtime__V1__StartContainerRequest start = RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
        Runtime__V1__RemoveContainerRequest remove = RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;
        void *req;

        if (!id)
                return -EINVAL;
        switch (m) {
        case CRI_METHOD_STOP_POD_SANDBOX:
                stop_sandbox.pod_sandbox_id = (char *)id;
                req = &stop_sandbox;
                break;
        case CRI_METHOD_REMOVE_POD_SANDBOX:
                remove_sandbox.pod_sandbox_id = (char *)id;
                req = &remove_sandbox;
                break;
        case CRI_METHOD_START_CONTAINER:
                start.container_id = (char *)id;
                req = &start;
                break;
        case CRI_METHOD_REMOVE_CONTAINER:
                remove.container_id = (char *)id;
                req = &remove;
                break;
        default:
                return -EINVAL;
        }
        return cri_client_call(c, m, req, deadline, done, userdata, ret);
}

int cri_client_stop_pod_sandbox(CriClient *c, const char *pod_sandbox_id, usec_t deadline, cri_done_t done,
                                void *userdata, CriCall **ret)
{
        return call_with_id(c, CRI_METHOD_STOP_POD_SANDBOX, pod_sandbox_id, deadline, done, userdata, ret);
}

int cri_client_remove_pod_sandbox(CriClient *c, const char *pod_sandbox_id, usec_t deadline, cri_done_t done,
                                  void *userdata, CriCall **ret)
{
        return call_with_id(c, CRI_METHOD_REMOVE_POD_SANDBOX, pod_sandbox_id, deadline, done, userdata, ret);
}

int cri_client_pod_sandbox_status(CriClient *c, const char *pod_sandbox_id, bool verbose, usec_t deadline,
                                  cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__PodSandboxStatusRequest req = RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;

        if (!pod_sandbox_id)
                return -EINVAL;
        req.pod_sandbox_id = (char *)pod_sandbox_id;
        req.verbose = verbose;
        return cri_client_call(c, CRI_METHOD_POD_SANDBOX_STATUS, &req, deadline, done, userdata, ret);
}

int cri_client_list_pod_sandbox(CriClient *c, const Runtime__V1__PodSandboxFilter *filter, usec_t deadline,
                                cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__ListPodSandboxRequest req = RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;

        req.filter = (Runtime__V1__PodSandboxFilter *)filter;
        return cri_client_call(c, CRI_METHOD_LIST_POD_SANDBOX, &req, deadline, done, userdata, ret);
}

int cri_client_create_container(CriClient *c, const char *pod_sandbox_id,
                                const Runtime__V1__ContainerConfig *config,
                                const Runtime__V1__PodSandboxConfig *sandbox_config, usec_t deadline,
                                cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;

        if (!pod_sandbox_id || !config || !sandbox_config)
                return -EINVAL;
        req.pod_sandbox_id = (char *)pod_sandbox_id;
        req.config = (Runtime__V1__ContainerConfig *)config;
        req.sandbox_config = (Runtime__V1__PodSandboxConfig *)sandbox_config;
        return cri_client_call(c, CRI_METHOD_CREATE_CONTAINER, &req, deadline, done, userdata, ret);
}

int cri_client_start_container(CriClient *c, const char *container_id, usec_t deadline, cri_done_t done,
                               void *userdata, CriCall **ret)
{
        return call_with_id(c, CRI_METHOD_START_CONTAINER, container_id, deadline, done, userdata, ret);
}

int cri_client_stop_container(CriClient *c, const char *container_id, int64_t grace_seconds, usec_t deadline,
                              cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__StopContainerRequest req = RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;

        if (!c || !container_id || grace_seconds < 0)
                return -EINVAL;
        req.container_id = (char *)container_id;
        req.timeout = grace_seconds;
        /* the kubelet's: the grace on top of the request timeout, for the kill and the latency */
        if (deadline == 0)
                deadline =
                    c->request_timeout +
                    (usec_t)MIN(grace_seconds, (int64_t)(EXTRA_MAX_USEC / USEC_PER_SEC)) * USEC_PER_SEC;
        return cri_client_call(c, CRI_METHOD_STOP_CONTAINER, &req, deadline, done, userdata, ret);
}

int cri_client_remove_container(CriClient *c, const char *container_id, usec_t deadline, cri_done_t done,
                                void *userdata, CriCall **ret)
{
        return call_with_id(c, CRI_METHOD_REMOVE_CONTAINER, container_id, deadline, done, userdata, ret);
}

int cri_client_list_containers(CriClient *c, const Runtime__V1__ContainerFilter *filter, usec_t deadline,
                               cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__ListContainersRequest req = RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;

        req.filter = (Runtime__V1__ContainerFilter *)filter;
        return cri_client_call(c, CRI_METHOD_LIST_CONTAINERS, &req, deadline, done, userdata, ret);
}

int cri_client_container_status(CriClient *c, const char *container_id, bool verbose, usec_t deadline,
                                cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;

        if (!container_id)
                return -EINVAL;
        req.container_id = (char *)container_id;
        req.verbose = verbose;
        return cri_client_call(c, CRI_METHOD_CONTAINER_STATUS, &req, deadline, done, userdata, ret);
}

int cri_client_exec_sync(CriClient *c, const char *container_id, char *const *cmd, usec_t timeout,
                         usec_t deadline, cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__ExecSyncRequest req = RUNTIME__V1__EXEC_SYNC_REQUEST__INIT;
        size_t n = 0;

        if (!c || !container_id || !cmd || !cmd[0])
                return -EINVAL;
        while (cmd[n])
                n++;
        timeout = MIN(timeout, EXTRA_MAX_USEC);
        req.container_id = (char *)container_id;
        req.cmd = (char **)cmd;
        req.n_cmd = n;
        /* whole seconds on the wire; rounded up, as 0 would mean no timeout at all */
        req.timeout = (int64_t)((timeout + USEC_PER_SEC - 1) / USEC_PER_SEC);
        /* the kubelet's: the command's timeout on top of the request timeout, for the runtime's
         * clean-up; none without a timeout */
        if (deadline == 0)
                deadline = timeout > 0 ? c->request_timeout + timeout : CRI_CLIENT_UNBOUNDED_TIMEOUT_USEC;
        return cri_client_call(c, CRI_METHOD_EXEC_SYNC, &req, deadline, done, userdata, ret);
}

int cri_client_list_images(CriClient *c, const Runtime__V1__ImageFilter *filter, usec_t deadline,
                           cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__ListImagesRequest req = RUNTIME__V1__LIST_IMAGES_REQUEST__INIT;

        req.filter = (Runtime__V1__ImageFilter *)filter;
        return cri_client_call(c, CRI_METHOD_LIST_IMAGES, &req, deadline, done, userdata, ret);
}

int cri_client_image_status(CriClient *c, const char *image, bool verbose, usec_t deadline, cri_done_t done,
                            void *userdata, CriCall **ret)
{
        Runtime__V1__ImageStatusRequest req = RUNTIME__V1__IMAGE_STATUS_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;

        if (!image)
                return -EINVAL;
        spec.image = (char *)image;
        req.image = &spec;
        req.verbose = verbose;
        return cri_client_call(c, CRI_METHOD_IMAGE_STATUS, &req, deadline, done, userdata, ret);
}

int cri_client_pull_image(CriClient *c, const char *image, const Runtime__V1__AuthConfig *auth,
                          const Runtime__V1__PodSandboxConfig *sandbox_config, usec_t deadline,
                          cri_done_t done, void *userdata, CriCall **ret)
{
        Runtime__V1__PullImageRequest req = RUNTIME__V1__PULL_IMAGE_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;

        if (!image)
                return -EINVAL;
        spec.image = (char *)image;
        req.image = &spec;
        req.auth = (Runtime__V1__AuthConfig *)auth;
        req.sandbox_config = (Runtime__V1__PodSandboxConfig *)sandbox_config;
        return cri_client_call(c, CRI_METHOD_PULL_IMAGE, &req, deadline ?: CRI_CLIENT_UNBOUNDED_TIMEOUT_USEC,
                               done, userdata, ret);
}

int cri_client_remove_image(CriClient *c, const char *image, usec_t deadline, cri_done_t done,
                            void *userdata, CriCall **ret)
{
        Runtime__V1__RemoveImageRequest req = RUNTIME__V1__REMOVE_IMAGE_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;

        if (!image)
                return -EINVAL;
        spec.image = (char *)image;
        req.image = &spec;
        return cri_client_call(c, CRI_METHOD_REMOVE_IMAGE, &req, deadline, done, userdata, ret);
}

static bool all_of(const char *s, size_t n, const char *set)
{
        return n > 0 && strspn(s, set) >= n;
}

#define LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
#define HEX "0123456789abcdefABCDEF"

/* path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n)
{
        size_t i = 0;

        for (;;) {
                size_t k = 0;

                while (i + k < n && s[i + k] && strchr(LOWER_ALNUM, s[i + k]))
                        k++;
                if (k == 0)
                        return false; /* empty, or a separator not followed by more */
                i += k;
                if (i == n)
                        return true;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
        }
}

static bool valid_path(const char *s, size_t n)
{
        const char *end = s + n;

        for (;;) {
                const char *slash = memchr(s, '/', (size_t)(end - s));
                size_t k = slash ? (size_t)(slash - s) : (size_t)(end - s);

                if (!valid_path_component(s, k))
                        return false;
                if (!slash)
                        return true;
                s = slash + 1;
        }
}

/* host [":" port]: DNS-ish names and IPv4 addresses, or an IPv6 address in brackets */
static bool valid_domain(const char *s, size_t n)
{
        const char *colon;
        size_t host;

        if (n > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', n);

                if (!close || !all_of(s + 1, (size_t)(close - s - 1), HEX ":."))
                        return false;
                host = (size_t)(close - s) + 1;
        } else {
                colon = memchr(s, ':', n);
                host = colon ? (size_t)(colon - s) : n;
                if (!all_of(s, host, LOWER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-") || s[0] == '.' ||
                    s[0] == '-' || s[host - 1] == '.' || s[host - 1] == '-')
                        return false;
        }
        if (host == n)
                return true;
        return s[host] == ':' && all_of(s + host + 1, n - host - 1, "0123456789");
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= 128 && s[0] != '.' && s[0] != '-' &&
               all_of(s, n, LOWER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-");
}

/* algorithm ":" hex, the algorithm's components [A-Za-z][A-Za-z0-9]* joined by [+._-], at
 * least 32 hex digits, sha256 exactly 64 lower-case ones (as go-digest checks) */
static bool valid_digest(const char *s)
{
        const char *colon = strchr(s, ':');
        size_t n, alg;

        if (!colon)
                return false;
        alg = (size_t)(colon - s);
        n = strlen(colon + 1);
        if (!all_of(s, alg, LOWER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ+._-") || !isalpha((unsigned char)s[0]))
                return false;
        if (strneq(s, "sha256", alg) && alg == 6)
                return n == 64 && all_of(colon + 1, n, "0123456789abcdef");
        return n >= 32 && all_of(colon + 1, n, HEX);
}

int cri_client_normalize_image(const char *image, char **ret)
{
        _cleanup_free_ char *copy = NULL;
        const char *domain = "docker.io", *library = "";
        char *rest, *slash, *digest, *tag, *name_end;
        size_t domain_len = strlen(domain);
        char *s;

        if (isempty(image))
                return -EINVAL;
        /* an image id is a name the runtime knows too; a bare 64-hex name is refused as docker does */
        if (startswith(image, "sha256:") && strlen(image) == 7 + 64 &&
            all_of(image + 7, 64, "0123456789abcdef")) {
                s = strdup(image);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        if (strlen(image) == 64 && all_of(image, 64, "0123456789abcdef"))
                return -EINVAL;
        copy = strdup(image);
        if (!copy)
                return -ENOMEM;
        rest = copy;
        /* docker's splitDockerDomain(): the first component is a registry when it looks like
         * a host (a dot, a port, "localhost", or upper case) */
        slash = strchr(rest, '/');
        if (slash &&
            (memchr(rest, '.', (size_t)(slash - rest)) || memchr(rest, ':', (size_t)(slash - rest)) ||
             strcspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < (size_t)(slash - rest) ||
             (slash - rest == 9 && strneq(rest, "localhost", 9)))) {
                domain = rest;
                domain_len = (size_t)(slash - rest);
                rest = slash + 1;
                if (domain_len == 15 && strneq(domain, "index.docker.io", 15)) {
                        domain = "docker.io";
                        domain_len = 9;
                }
        }
        digest = strchr(rest, '@');
        if (digest) {
                *digest++ = 0;
                if (!valid_digest(digest))
                        return -EINVAL;
        }
        tag = strrchr(rest, ':');
        if (tag) {
                *tag++ = 0;
                if (!valid_tag(tag))
                        return -EINVAL;
        }
        name_end = rest + strlen(rest);
        if (!valid_domain(domain, domain_len) || !valid_path(rest, (size_t)(name_end - rest)))
                return -EINVAL;
        if (domain_len == 9 && strneq(domain, "docker.io", 9) && !strchr(rest, '/'))
                library = "library/";
        if (domain_len + 1 + strlen(library) + strlen(rest) > 255)
                return -EINVAL;
        if (asprintf(&s, "%.*s/%s%s%s%s%s%s", (int)domain_len, domain, library, rest, tag ? ":" : "",
                     tag ?: (digest ? "" : ":latest"), digest ? "@" : "", digest ?: "") < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}
