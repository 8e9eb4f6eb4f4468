/* cri/cri-client.c against a real containerd: run by tests/integration/test-cri-client.sh,
 * which starts containerd with the busybox and pause images and passes its socket in
 * CRI_ENDPOINT and a scratch directory in CRI_TEST_DIR. Version, Status, the image calls, a
 * pull that must fail, and a pod's whole life: sandbox, a container that echoes to its CRI
 * log, ExecSync in a running one, stop with a grace period, removal. Prints how long the
 * calls that start a pod took. Leaves nothing behind. */
#include <criterion/criterion.h>
#include <regex.h>
#include <sys/stat.h>

#include "cri-client.h"
#include "event-run.h"

#define BUSYBOX "docker.io/library/busybox:latest"
#define CALL_MAX_USEC (60 * USEC_PER_SEC)

/* A finished call: its error, or a copy of its response that outlives the callback. */
typedef struct Reply {
        bool done;
        int status;
        char message[1024];
        ProtobufCMessage *response;
        usec_t duration;
        usec_t started;
} Reply;

static sd_event *event;
static CurlLoop *loop;
static CriClient *client;
static char *sandbox_id; /* removed by teardown when a test fails half-way */

static void reply_done(Reply *r)
{
        if (r->response)
                protobuf_c_message_free_unpacked(r->response, NULL);
        *r = (Reply){};
}

static void on_reply(const CriError *error, const void *response, void *userdata)
{
        Reply *r = userdata;

        r->done = true;
        r->duration = now_usec(CLOCK_MONOTONIC) - r->started;
        if (error) {
                r->status = error->status;
                snprintf(r->message, sizeof(r->message), "%s", error->message);
                return;
        }
        {
                const ProtobufCMessage *m = response;
                size_t n = protobuf_c_message_get_packed_size(m);
                _cleanup_free_ uint8_t *buf = malloc(n + 1);

                cr_assert_not_null(buf);
                protobuf_c_message_pack(m, buf);
                r->response = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
                cr_assert_not_null(r->response);
        }
}

/* Runs a call to its end: RUN(&reply, cri_client_xxx(client, ..., on_reply, &reply, NULL)). */
#define RUN(r, call)                                                                                        \
        do {                                                                                                \
                reply_done(r);                                                                              \
                (r)->started = now_usec(CLOCK_MONOTONIC);                                                   \
                cr_assert_eq((call), 0);                                                                    \
                cr_assert(event_run_until_set(event, &(r)->done, CALL_MAX_USEC), "no reply to " #call);     \
        } while (0)

#define OK(r, call)                                                                                         \
        do {                                                                                                \
                RUN(r, call);                                                                               \
                cr_assert_eq((r)->status, GRPC_STATUS_OK, "%s", (r)->message);                              \
        } while (0)

static const char *env(const char *name)
{
        const char *v = getenv(name);

        cr_assert(!isempty(v), "%s is not set: run tests/integration/test-cri-client.sh", name);
        return v;
}

static void setup(void)
{
        CriClientOptions o = {.endpoint = env("CRI_ENDPOINT")};
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(curl_loop_new(&loop, event), 0);
        cr_assert_eq(cri_client_new(&client, loop, &o, &err), 0, "%s", err);
}

static void teardown(void)
{
        Reply r = {};

        if (sandbox_id) {
                /* a test that failed half-way: the sandbox takes its containers with it */
                RUN(&r, cri_client_stop_pod_sandbox(client, sandbox_id, 0, on_reply, &r, NULL));
                RUN(&r, cri_client_remove_pod_sandbox(client, sandbox_id, 0, on_reply, &r, NULL));
                reply_done(&r);
                sandbox_id = mfree(sandbox_id);
        }
        client = cri_client_free(client);
        curl_loop_free(loop);
        sd_event_unref(event);
}

TestSuite(cri_live, .init = setup, .fini = teardown);

Test(cri_live, version_and_status)
{
        const Runtime__V1__VersionResponse *v;
        const Runtime__V1__StatusResponse *s;
        bool runtime_ready = false, network_ready = false;
        Reply r = {};

        OK(&r, cri_client_version(client, 0, on_reply, &r, NULL));
        v = (const void *)r.response;
        cr_assert_str_eq(v->runtime_name, "containerd");
        cr_assert_str_eq(v->runtime_api_version, "v1");
        cr_log_info("runtime %s %s", v->runtime_name, v->runtime_version);

        OK(&r, cri_client_status(client, false, 0, on_reply, &r, NULL));
        s = (const void *)r.response;
        for (size_t i = 0; i < s->status->n_conditions; i++) {
                const Runtime__V1__RuntimeCondition *c = s->status->conditions[i];

                if (streq(c->type, "RuntimeReady"))
                        runtime_ready = c->status;
                else if (streq(c->type, "NetworkReady"))
                        network_ready = c->status;
        }
        cr_assert(runtime_ready);
        cr_assert(network_ready, "the test's CNI bridge is configured: NetworkReady must hold");
        reply_done(&r);
}

Test(cri_live, images_list_and_status)
{
        const Runtime__V1__ListImagesResponse *list;
        const Runtime__V1__ImageStatusResponse *st;
        _cleanup_free_ char *name = NULL;
        bool found = false;
        Reply r = {};

        OK(&r, cri_client_list_images(client, NULL, 0, on_reply, &r, NULL));
        list = (const void *)r.response;
        for (size_t i = 0; i < list->n_images; i++)
                for (size_t j = 0; j < list->images[i]->n_repo_tags; j++)
                        found = found || streq(list->images[i]->repo_tags[j], BUSYBOX);
        cr_assert(found, "busybox is not among the %zu images", list->n_images);

        /* what a pod spec says, normalised as the runtime stores it */
        cr_assert_eq(cri_client_normalize_image("busybox", &name), 0);
        OK(&r, cri_client_image_status(client, name, false, 0, on_reply, &r, NULL));
        st = (const void *)r.response;
        cr_assert_not_null(st->image);
        cr_assert(startswith(st->image->id, "sha256:"), "%s", st->image->id);
        cr_assert_gt(st->image->size, 0);

        /* absent: no error, no image */
        OK(&r, cri_client_image_status(client, "docker.io/library/berth-absent:1", false, 0, on_reply, &r,
                                       NULL));
        st = (const void *)r.response;
        cr_assert_null(st->image);
        reply_done(&r);
}

Test(cri_live, pull_of_an_unreachable_image_fails_with_the_runtimes_error)
{
        Reply r = {};

        /* nobody listens on port 1 of loopback: the runtime's dial fails at once */
        RUN(&r, cri_client_pull_image(client, "127.0.0.1:1/berth/absent:1", NULL, NULL, 20 * USEC_PER_SEC,
                                      on_reply, &r, NULL));
        cr_assert_neq(r.status, GRPC_STATUS_OK);
        cr_assert_neq(r.status, GRPC_STATUS_DEADLINE_EXCEEDED, "%s", r.message);
        cr_assert(startswith(r.message, "rpc error: code = "), "%s", r.message);
        cr_assert_not_null(strstr(r.message, "127.0.0.1:1"), "%s", r.message);
        cr_log_info("PullImage failed after %llu ms: %s", (unsigned long long)(r.duration / USEC_PER_MSEC),
                    r.message);
        cr_assert_lt(r.duration, 10 * USEC_PER_SEC);
        reply_done(&r);
}

/* --- a pod's life --- */

typedef struct Pod {
        char uid[37];
        char log_dir[256];
        Runtime__V1__PodSandboxConfig config;
        Runtime__V1__PodSandboxMetadata metadata;
        Runtime__V1__PodSandboxConfig__LabelsEntry label, *labels[1];
        Runtime__V1__LinuxPodSandboxConfig linux_config;
        Runtime__V1__LinuxSandboxSecurityContext security;
        Runtime__V1__NamespaceOption namespaces;
} Pod;

static void pod_init(Pod *p)
{
        *p = (Pod){
            .config = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT,
            .metadata = RUNTIME__V1__POD_SANDBOX_METADATA__INIT,
            .label = RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT,
            .linux_config = RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT,
            .security = RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT,
            .namespaces = RUNTIME__V1__NAMESPACE_OPTION__INIT,
        };
        cr_assert_eq(uuid_random(p->uid), 0);
        snprintf(p->log_dir, sizeof(p->log_dir), "%s/pods/berth-test_cri-live_%s", env("CRI_TEST_DIR"),
                 p->uid);
        /* the kubelet makes the pod's log directory; containerd writes into it */
        cr_assert_eq(mkdir_p(p->log_dir, 0755), 0);
        p->metadata.name = "cri-live";
        p->metadata.uid = p->uid;
        p->metadata.namespace_ = "berth-test";
        p->label.key = "berth.test";
        p->label.value = "cri-client";
        p->labels[0] = &p->label;
        p->namespaces.pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        p->security.namespace_options = &p->namespaces;
        p->linux_config.security_context = &p->security;
        p->config.metadata = &p->metadata;
        p->config.hostname = "cri-live";
        p->config.log_directory = p->log_dir;
        p->config.labels = p->labels;
        p->config.n_labels = 1;
        p->config.linux = &p->linux_config;
}

typedef struct Ctr {
        Runtime__V1__ContainerConfig config;
        Runtime__V1__ContainerMetadata metadata;
        Runtime__V1__ImageSpec image;
        Runtime__V1__LinuxContainerConfig linux_config;
        Runtime__V1__LinuxContainerSecurityContext security;
        Runtime__V1__NamespaceOption namespaces;
        char log_path[64];
} Ctr;

static void ctr_init(Ctr *c, const Pod *p, const char *name, char **command)
{
        size_t n = 0;

        *c = (Ctr){
            .config = RUNTIME__V1__CONTAINER_CONFIG__INIT,
            .metadata = RUNTIME__V1__CONTAINER_METADATA__INIT,
            .image = RUNTIME__V1__IMAGE_SPEC__INIT,
            .linux_config = RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT,
            .security = RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT,
            .namespaces = RUNTIME__V1__NAMESPACE_OPTION__INIT,
        };
        while (command[n])
                n++;
        c->metadata.name = (char *)name;
        c->image.image = BUSYBOX;
        c->namespaces.pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        c->security.namespace_options = &c->namespaces;
        c->linux_config.security_context = &c->security;
        snprintf(c->log_path, sizeof(c->log_path), "%s/0.log", name);
        {
                /* the kubelet makes the container's log directory too */
                _cleanup_free_ char *dir = strjoin(p->log_dir, "/", name, NULL);

                cr_assert_eq(mkdir_p(dir, 0755), 0);
        }
        c->config.metadata = &c->metadata;
        c->config.image = &c->image;
        c->config.command = command;
        c->config.n_command = n;
        c->config.log_path = c->log_path;
        c->config.linux = &c->linux_config;
}

static void log_duration(const char *what, const Reply *r)
{
        fprintf(stderr, "cri-client-live: %s %llu ms\n", what,
                (unsigned long long)(r->duration / USEC_PER_MSEC));
}

/* Creates and starts a container; returns its id. */
static char *run_container(const Pod *p, Ctr *c, bool report)
{
        Reply r = {};
        char *id;

        OK(&r,
           cri_client_create_container(client, sandbox_id, &c->config, &p->config, 0, on_reply, &r, NULL));
        id = strdup(((const Runtime__V1__CreateContainerResponse *)r.response)->container_id);
        cr_assert_not_null(id);
        if (report)
                log_duration("CreateContainer", &r);
        OK(&r, cri_client_start_container(client, id, 0, on_reply, &r, NULL));
        if (report)
                log_duration("StartContainer", &r);
        reply_done(&r);
        return id;
}

/* Polls ContainerStatus until the container has exited; the status is in *r. */
static const Runtime__V1__ContainerStatus *wait_exited(const char *id, Reply *r)
{
        usec_t until = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;

        for (;;) {
                const Runtime__V1__ContainerStatus *s;

                OK(r, cri_client_container_status(client, id, false, 0, on_reply, r, NULL));
                s = ((const Runtime__V1__ContainerStatusResponse *)r->response)->status;
                if (s->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED)
                        return s;
                cr_assert_lt(now_usec(CLOCK_MONOTONIC), until, "container %s did not exit", id);
                event_run_for(event, 50 * USEC_PER_MSEC);
        }
}

static void assert_cri_log_line(const char *path, const char *stream, const char *text)
{
        _cleanup_free_ char *data = NULL, *pattern = NULL;
        regex_t re;
        size_t size;

        cr_assert_eq(read_full_file(path, 1 << 20, &data, &size), 0, "%s", path);
        cr_assert_geq(asprintf_safe(&pattern,
                                    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
                                    "(Z|[+-][0-9]{2}:[0-9]{2}) %s F %s$",
                                    stream, text),
                      0);
        cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
        cr_assert_eq(regexec(&re, data, 0, NULL, 0), 0, "%s holds no line \"%s F %s\": %s", path, stream,
                     text, data);
        regfree(&re);
}

static void exec_in(const char *id, char **cmd, Reply *r)
{
        OK(r, cri_client_exec_sync(client, id, cmd, 10 * USEC_PER_SEC, 0, on_reply, r, NULL));
}

static void assert_bytes(ProtobufCBinaryData b, const char *want)
{
        cr_assert_eq(b.len, strlen(want), "\"%.*s\"", (int)b.len, (const char *)b.data);
        cr_assert_arr_eq(b.data, want, b.len);
}

Test(cri_live, pod_lifecycle)
{
        char *echo_cmd[] = {"/bin/echo", "hello from cri", NULL};
        char *sleep_cmd[] = {"/bin/sleep", "3600", NULL};
        char *exec_cmd[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
        char *host_cmd[] = {"/bin/cat", "/etc/hostname", NULL};
        char *slow_cmd[] = {"/bin/sleep", "10", NULL};
        _cleanup_free_ char *echo_id = NULL, *sleep_id = NULL, *log = NULL;
        const Runtime__V1__PodSandboxStatus *ps;
        const Runtime__V1__ContainerStatus *cs;
        const Runtime__V1__ExecSyncResponse *x;
        Runtime__V1__PodSandboxFilter filter = RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry sel =
            RUNTIME__V1__POD_SANDBOX_FILTER__LABEL_SELECTOR_ENTRY__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry *sels[] = {&sel};
        Runtime__V1__ContainerFilter cfilter = RUNTIME__V1__CONTAINER_FILTER__INIT;
        usec_t stop_started;
        Ctr echo, sleeper;
        Reply r = {};
        Pod pod;

        pod_init(&pod);
        OK(&r, cri_client_run_pod_sandbox(client, &pod.config, NULL, 0, on_reply, &r, NULL));
        sandbox_id = strdup(((const Runtime__V1__RunPodSandboxResponse *)r.response)->pod_sandbox_id);
        cr_assert_not_null(sandbox_id);
        log_duration("RunPodSandbox", &r);

        OK(&r, cri_client_pod_sandbox_status(client, sandbox_id, false, 0, on_reply, &r, NULL));
        ps = ((const Runtime__V1__PodSandboxStatusResponse *)r.response)->status;
        cr_assert_eq(ps->state, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        cr_assert_str_eq(ps->id, sandbox_id);
        cr_assert_str_eq(ps->metadata->name, "cri-live");
        cr_assert_str_eq(ps->metadata->uid, pod.uid);
        cr_assert_eq(ps->n_labels, 1);
        cr_assert_str_eq(ps->labels[0]->value, "cri-client");
        cr_assert_not_null(ps->network);
        cr_assert(!isempty(ps->network->ip), "the CNI bridge gives the pod an address");

        /* a container that prints a line and exits */
        ctr_init(&echo, &pod, "echo", echo_cmd);
        echo_id = run_container(&pod, &echo, true);
        cs = wait_exited(echo_id, &r);
        cr_assert_eq(cs->exit_code, 0);
        cr_assert_str_eq(cs->reason, "Completed");
        /* containerd takes started_at once the start call returns and finished_at from the
         * exit event: a command this short may end "before" it started */
        cr_assert_geq(cs->started_at, cs->created_at);
        cr_assert_geq(cs->finished_at, cs->created_at);
        cr_assert_str_eq(cs->metadata->name, "echo");
        log = strjoin(pod.log_dir, "/echo/0.log", NULL);
        cr_assert_str_eq(cs->log_path, log);
        assert_cri_log_line(log, "stdout", "hello from cri");

        /* ExecSync in a running container */
        ctr_init(&sleeper, &pod, "sleeper", sleep_cmd);
        sleep_id = run_container(&pod, &sleeper, false);
        exec_in(sleep_id, exec_cmd, &r);
        x = (const void *)r.response;
        cr_assert_eq(x->exit_code, 3);
        assert_bytes(x->stdout, "out\n");
        assert_bytes(x->stderr, "err\n");
        exec_in(sleep_id, host_cmd, &r);
        x = (const void *)r.response;
        cr_assert_eq(x->exit_code, 0);
        assert_bytes(x->stdout, "cri-live\n");

        /* the runtime kills a command at its timeout and says so */
        RUN(&r, cri_client_exec_sync(client, sleep_id, slow_cmd, USEC_PER_SEC, 0, on_reply, &r, NULL));
        cr_log_info("ExecSync past its timeout, after %llu ms: %s",
                    (unsigned long long)(r.duration / USEC_PER_MSEC), r.message);
        cr_assert_neq(r.status, GRPC_STATUS_OK);
        cr_assert_lt(r.duration, 4 * USEC_PER_SEC);

        cfilter.pod_sandbox_id = sandbox_id;
        OK(&r, cri_client_list_containers(client, &cfilter, 0, on_reply, &r, NULL));
        cr_assert_eq(((const Runtime__V1__ListContainersResponse *)r.response)->n_containers, 2);

        /* sleep as pid 1 ignores SIGTERM: the grace of one second runs out, then SIGKILL */
        stop_started = now_usec(CLOCK_MONOTONIC);
        OK(&r, cri_client_stop_container(client, sleep_id, 1, 0, on_reply, &r, NULL));
        log_duration("StopContainer (1 s grace)", &r);
        cr_assert_geq(now_usec(CLOCK_MONOTONIC) - stop_started, 900 * USEC_PER_MSEC);
        cs = wait_exited(sleep_id, &r);
        cr_assert_eq(cs->exit_code, 137);

        OK(&r, cri_client_remove_container(client, echo_id, 0, on_reply, &r, NULL));
        OK(&r, cri_client_remove_container(client, sleep_id, 0, on_reply, &r, NULL));
        RUN(&r, cri_client_container_status(client, echo_id, false, 0, on_reply, &r, NULL));
        cr_assert_eq(r.status, GRPC_STATUS_NOT_FOUND, "%s", r.message);
        cr_assert(startswith(r.message, "rpc error: code = NotFound desc = "), "%s", r.message);

        OK(&r, cri_client_stop_pod_sandbox(client, sandbox_id, 0, on_reply, &r, NULL));
        log_duration("StopPodSandbox", &r);
        OK(&r, cri_client_remove_pod_sandbox(client, sandbox_id, 0, on_reply, &r, NULL));
        sandbox_id = mfree(sandbox_id);

        sel.key = "berth.test";
        sel.value = "cri-client";
        filter.label_selector = sels;
        filter.n_label_selector = 1;
        OK(&r, cri_client_list_pod_sandbox(client, &filter, 0, on_reply, &r, NULL));
        cr_assert_eq(((const Runtime__V1__ListPodSandboxResponse *)r.response)->n_items, 0);
        OK(&r, cri_client_list_pod_sandbox(client, NULL, 0, on_reply, &r, NULL));
        cr_assert_eq(((const Runtime__V1__ListPodSandboxResponse *)r.response)->n_items, 0);
        reply_done(&r);
}
