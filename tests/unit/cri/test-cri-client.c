/* Tests of cri/cri-client.c without a runtime: image reference normalisation, endpoints, the
 * wire format of the generated CRI messages against upstream's field numbers, how replies
 * and failures read, and calls on unix sockets that refuse or never answer (deadline,
 * cancellation, freeing the client with calls in flight), and the GetContainerEvents stream
 * against a scripted HTTP/2 runtime. tests/unit/cri/cri-client-live.c
 * runs the calls against a real containerd. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "cri-client.h"
#include "event-run.h"
#include "loopback.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void assert_normalized(const char *in, const char *want)
{
        _cleanup_free_ char *out = NULL;
        int r = cri_client_normalize_image(in, &out);

        cr_assert_eq(r, 0, "%s: %d", in, r);
        cr_assert_str_eq(out, want, "%s", in);
}

static void assert_invalid_image(const char *in)
{
        char *out = NULL;

        cr_assert_eq(cri_client_normalize_image(in, &out), -EINVAL, "%s gave %s", in, out ?: "(null)");
        cr_assert_null(out);
}

Test(cri_client, normalize_adds_docker_hub_library_and_latest)
{
        assert_normalized("busybox", "docker.io/library/busybox:latest");
        assert_normalized("foo/bar", "docker.io/foo/bar:latest");
        assert_normalized("foo/bar/baz", "docker.io/foo/bar/baz:latest");
        assert_normalized("docker.io/busybox", "docker.io/library/busybox:latest");
        assert_normalized("index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36");
}

Test(cri_client, normalize_keeps_a_registry_its_port_and_tag)
{
        assert_normalized("registry:5000/x", "registry:5000/x:latest");
        assert_normalized("registry.example.com/team/app:v1.2_3-rc",
                          "registry.example.com/team/app:v1.2_3-rc");
        assert_normalized("localhost/x", "localhost/x:latest");
        assert_normalized("[::1]:5000/x:2", "[::1]:5000/x:2");
        assert_normalized("busybox:1.36", "docker.io/library/busybox:1.36");
        assert_normalized("my-reg.local:443/a__b/c.d-e:TAG", "my-reg.local:443/a__b/c.d-e:TAG");
}

Test(cri_client, normalize_keeps_digests_and_adds_no_tag_to_them)
{
        assert_normalized("busybox@" DIGEST, "docker.io/library/busybox@" DIGEST);
        assert_normalized("quay.io/a/b:v1@" DIGEST, "quay.io/a/b:v1@" DIGEST);
        assert_normalized("registry:5000/x@" DIGEST, "registry:5000/x@" DIGEST);
        /* an image id names an image too */
        assert_normalized(DIGEST, DIGEST);
}

Test(cri_client, normalize_refuses_what_docker_refuses)
{
        assert_invalid_image("");
        assert_invalid_image("Busybox");
        assert_invalid_image("foo/Bar");
        assert_invalid_image("busybox:");
        assert_invalid_image("busybox:-x");
        assert_invalid_image("busybox:a b");
        assert_invalid_image("busybox@sha256:abc");
        assert_invalid_image(
            "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_invalid_image("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_invalid_image("a//b");
        assert_invalid_image("-x");
        assert_invalid_image("x-");
        assert_invalid_image("a/b:c/d");
        assert_invalid_image(":5000/x");
        assert_invalid_image("registry:port/x");
}

Test(cri_client, endpoint_takes_a_unix_url_or_an_absolute_path)
{
        _cleanup_free_ char *a = NULL, *b = NULL;

        cr_assert_eq(cri_client_parse_endpoint("unix:///run/containerd/containerd.sock", &a, NULL), 0);
        cr_assert_str_eq(a, "/run/containerd/containerd.sock");
        cr_assert_eq(cri_client_parse_endpoint("/var/run/crio/crio.sock", &b, NULL), 0);
        cr_assert_str_eq(b, "/var/run/crio/crio.sock");
}

Test(cri_client, endpoint_refuses_other_schemes_relative_and_long_paths)
{
        char long_path[200], *path = NULL, *err = NULL;

        cr_assert_eq(cri_client_parse_endpoint("tcp://127.0.0.1:1234", &path, &err), -EPROTONOSUPPORT);
        cr_assert_not_null(strstr(err, "\"tcp\" not supported"), "%s", err);
        err = mfree(err);
        /* the host part of a url is not the socket's path */
        cr_assert_eq(cri_client_parse_endpoint("unix://run/x.sock", &path, &err), -EINVAL);
        cr_assert_not_null(strstr(err, "unix://run/x.sock"), "%s", err);
        err = mfree(err);
        cr_assert_eq(cri_client_parse_endpoint("run/x.sock", &path, NULL), -EINVAL);
        cr_assert_eq(cri_client_parse_endpoint("", &path, NULL), -EINVAL);
        cr_assert_eq(cri_client_parse_endpoint(NULL, &path, NULL), -EINVAL);
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = 0;
        cr_assert_eq(cri_client_parse_endpoint(long_path, &path, NULL), -ENAMETOOLONG);
        cr_assert_null(path);
}

/* --- sockets in a directory of the test's own --- */

static char dir[64];

static void make_dir(void)
{
        snprintf(dir, sizeof(dir), "/tmp/test-cri-client.XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
        cr_assert_eq(rm_rf(dir), 0);
}

/* A unix socket at dir/name; listening (and never accepting) or, with listening false, bound
 * and closed again: the file stays and every connect is refused. Returns the fd or -EBADF. */
static int unix_socket(const char *name, bool listening, char *path, size_t size)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(fd, 0);
        snprintf(path, size, "%s/%s", dir, name);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        if (!listening)
                return safe_close(fd);
        cr_assert_eq(listen(fd, 16), 0);
        return fd;
}

static void touch(const char *name, char *path, size_t size)
{
        FILE *f;

        snprintf(path, size, "%s/%s", dir, name);
        f = fopen(path, "w");
        cr_assert_not_null(f);
        fclose(f);
}

Test(cri_client, pick_endpoint_takes_the_first_socket_that_exists, .init = make_dir, .fini = remove_dir)
{
        char sock[128], file[128], missing[160], e_sock[160], e_file[160];
        int fd = unix_socket("crio.sock", true, sock, sizeof(sock));

        touch("file.sock", file, sizeof(file));
        snprintf(missing, sizeof(missing), "unix://%s/containerd.sock", dir);
        snprintf(e_sock, sizeof(e_sock), "unix://%s", sock);
        snprintf(e_file, sizeof(e_file), "unix://%s", file);
        {
                const char *const both[] = {missing, e_file, e_sock, NULL};
                const char *const none[] = {missing, e_file, NULL};

                /* a file that is not a socket does not count */
                cr_assert_str_eq(cri_client_pick_endpoint(both), e_sock);
                cr_assert_str_eq(cri_client_pick_endpoint(none), missing);
        }
        cr_assert_null(cri_client_pick_endpoint(NULL));
        cr_assert_not_null(cri_client_default_endpoint());
        safe_close(fd);
}

/* --- the wire format --- */

/* The bytes of a message as protobuf-c packs it. */
static size_t pack(const void *msg, uint8_t *buf, size_t size)
{
        size_t n = protobuf_c_message_get_packed_size(msg);

        cr_assert_leq(n, size);
        cr_assert_eq(protobuf_c_message_pack(msg, buf), n);
        return n;
}

Test(cri_client, messages_use_upstream_field_numbers)
{
        Runtime__V1__RunPodSandboxRequest run = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
        Runtime__V1__PodSandboxConfig config = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
        Runtime__V1__ContainerConfig container = RUNTIME__V1__CONTAINER_CONFIG__INIT;
        Runtime__V1__LinuxContainerConfig linux_config = RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT;
        Runtime__V1__LinuxContainerSecurityContext sc = RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT;
        Runtime__V1__Int64Value group = RUNTIME__V1__INT64_VALUE__INIT;
        Runtime__V1__ContainerStatus status = RUNTIME__V1__CONTAINER_STATUS__INIT;
        /* field 1 (config) holding field 2 (hostname), then field 2 (runtime_handler) */
        static const uint8_t want_run[] = {0x0a, 0x03, 0x12, 0x01, 'h', 0x12, 0x01, 'r'};
        /* linux 15 > security_context 2 > run_as_group 12 > value 1; log_path 11 */
        static const uint8_t want_container[] = {0x5a, 0x01, 'l',  0x7a, 0x06, 0x12,
                                                 0x04, 0x62, 0x02, 0x08, 0x01};
        /* state 3 = EXITED (2), finished_at 6, exit_code 7, image_id 17 */
        static const uint8_t want_status[] = {0x18, 0x02, 0x30, 0x05, 0x38, 0x7f, 0x8a, 0x01, 0x01, 'i'};
        uint8_t buf[64];

        config.hostname = "h";
        run.config = &config;
        run.runtime_handler = "r";
        cr_assert_eq(pack(&run, buf, sizeof(buf)), sizeof(want_run));
        cr_assert_arr_eq(buf, want_run, sizeof(want_run));

        group.value = 1;
        sc.run_as_group = &group;
        linux_config.security_context = &sc;
        container.linux = &linux_config;
        container.log_path = "l";
        cr_assert_eq(pack(&container, buf, sizeof(buf)), sizeof(want_container));
        cr_assert_arr_eq(buf, want_container, sizeof(want_container));

        status.state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
        status.finished_at = 5;
        status.exit_code = 127;
        status.image_id = "i";
        cr_assert_eq(pack(&status, buf, sizeof(buf)), sizeof(want_status));
        cr_assert_arr_eq(buf, want_status, sizeof(want_status));
}

Test(cri_client, enums_have_upstream_values)
{
        cr_assert_eq(RUNTIME__V1__NAMESPACE_MODE__NODE, 2);
        cr_assert_eq(RUNTIME__V1__NAMESPACE_MODE__TARGET, 3);
        cr_assert_eq(RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL, 2);
        cr_assert_eq(RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY, 1);
        cr_assert_eq(RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN, 3);
        cr_assert_eq(RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost, 2);
        cr_assert_eq(RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT, 3);
        cr_assert_eq(RUNTIME__V1__PROTOCOL__SCTP, 2);
}

Test(cri_client, run_pod_sandbox_request_packs_and_unpacks_back)
{
        Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT, *back;
        Runtime__V1__PodSandboxConfig config = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
        Runtime__V1__PodSandboxMetadata md = RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
        Runtime__V1__DNSConfig dns = RUNTIME__V1__DNSCONFIG__INIT;
        Runtime__V1__PortMapping port = RUNTIME__V1__PORT_MAPPING__INIT, *ports[] = {&port};
        Runtime__V1__PodSandboxConfig__LabelsEntry l1 = RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT,
                                                   l2 = RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT,
                                                   *labels[] = {&l1, &l2};
        Runtime__V1__LinuxPodSandboxConfig lx = RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
        Runtime__V1__LinuxSandboxSecurityContext sc = RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
        Runtime__V1__NamespaceOption ns = RUNTIME__V1__NAMESPACE_OPTION__INIT;
        Runtime__V1__LinuxPodSandboxConfig__SysctlsEntry sysctl =
            RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__SYSCTLS_ENTRY__INIT;
        Runtime__V1__LinuxPodSandboxConfig__SysctlsEntry *sysctls[] = {&sysctl};
        char *servers[] = {"10.0.0.10"}, *searches[] = {"default.svc.cluster.local", "cluster.local"};
        uint8_t buf[1024];
        size_t n;

        md = (Runtime__V1__PodSandboxMetadata)RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
        md.name = "web-0";
        md.uid = "0f4c9b9e-1d7e-4c55-9b4c-3c2a1f1b2c3d";
        md.namespace_ = "default";
        md.attempt = 3;
        dns.servers = servers;
        dns.n_servers = ELEMENTSOF(servers);
        dns.searches = searches;
        dns.n_searches = ELEMENTSOF(searches);
        port.protocol = RUNTIME__V1__PROTOCOL__UDP;
        port.container_port = 53;
        port.host_port = 5353;
        l1.key = "app";
        l1.value = "web";
        l2.key = "io.kubernetes.pod.name";
        l2.value = "web-0";
        ns.network = RUNTIME__V1__NAMESPACE_MODE__POD;
        ns.pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        ns.ipc = RUNTIME__V1__NAMESPACE_MODE__NODE;
        sc.namespace_options = &ns;
        sc.privileged = true;
        sysctl.key = "net.ipv4.ip_unprivileged_port_start";
        sysctl.value = "0";
        lx.cgroup_parent = "/berth/pod-web-0";
        lx.security_context = &sc;
        lx.sysctls = sysctls;
        lx.n_sysctls = 1;
        config.metadata = &md;
        config.hostname = "web-0";
        config.log_directory = "/var/log/pods/default_web-0_0f4c9b9e";
        config.dns_config = &dns;
        config.port_mappings = ports;
        config.n_port_mappings = 1;
        config.labels = labels;
        config.n_labels = ELEMENTSOF(labels);
        config.linux = &lx;
        req.config = &config;
        req.runtime_handler = "runc";

        n = pack(&req, buf, sizeof(buf));
        back = runtime__v1__run_pod_sandbox_request__unpack(NULL, n, buf);
        cr_assert_not_null(back);
        cr_assert_str_eq(back->runtime_handler, "runc");
        cr_assert_str_eq(back->config->metadata->name, "web-0");
        cr_assert_str_eq(back->config->metadata->uid, md.uid);
        cr_assert_str_eq(back->config->metadata->namespace_, "default");
        cr_assert_eq(back->config->metadata->attempt, 3);
        cr_assert_str_eq(back->config->hostname, "web-0");
        cr_assert_str_eq(back->config->log_directory, config.log_directory);
        cr_assert_eq(back->config->dns_config->n_searches, 2);
        cr_assert_str_eq(back->config->dns_config->searches[1], "cluster.local");
        cr_assert_str_eq(back->config->dns_config->servers[0], "10.0.0.10");
        cr_assert_eq(back->config->n_port_mappings, 1);
        cr_assert_eq(back->config->port_mappings[0]->protocol, RUNTIME__V1__PROTOCOL__UDP);
        cr_assert_eq(back->config->port_mappings[0]->host_port, 5353);
        cr_assert_eq(back->config->n_labels, 2);
        cr_assert_str_eq(back->config->labels[1]->key, "io.kubernetes.pod.name");
        cr_assert_str_eq(back->config->labels[1]->value, "web-0");
        cr_assert_str_eq(back->config->linux->cgroup_parent, "/berth/pod-web-0");
        cr_assert(back->config->linux->security_context->privileged);
        cr_assert_eq(back->config->linux->security_context->namespace_options->pid,
                     RUNTIME__V1__NAMESPACE_MODE__CONTAINER);
        cr_assert_eq(back->config->linux->security_context->namespace_options->ipc,
                     RUNTIME__V1__NAMESPACE_MODE__NODE);
        cr_assert_eq(back->config->linux->n_sysctls, 1);
        cr_assert_str_eq(back->config->linux->sysctls[0]->value, "0");
        cr_assert_eq(back->config->n_annotations, 0);
        runtime__v1__run_pod_sandbox_request__free_unpacked(back, NULL);
}

/* --- replies and failures --- */

static GrpcResult ok_reply(const void *msg, uint8_t *buf, size_t size)
{
        return (GrpcResult){.status = GRPC_STATUS_OK,
                            .message = "",
                            .connected = true,
                            .data = buf,
                            .size = msg ? pack(msg, buf, size) : 0};
}

/* Parses r as a reply of m that must fail, and checks its status and desc. */
static void assert_fails(CriMethod m, const GrpcResult *r, int status, const char *desc)
{
        CriError e = {};
        void *resp = (void *)1;

        cr_assert_eq(cri_client_parse_reply(m, "/nonexistent/test-cri-client.sock", r, &resp, &e), 0);
        cr_assert_null(resp);
        cr_assert_eq(e.status, status, "%d: %s", e.status, e.message);
        cr_assert_str_eq(e.desc, desc);
        cri_error_done(&e);
}

Test(cri_client, method_paths_name_service_and_method)
{
        cr_assert_str_eq(cri_client_method_path(CRI_METHOD_VERSION), "/runtime.v1.RuntimeService/Version");
        cr_assert_str_eq(cri_client_method_path(CRI_METHOD_EXEC_SYNC),
                         "/runtime.v1.RuntimeService/ExecSync");
        cr_assert_str_eq(cri_client_method_path(CRI_METHOD_PULL_IMAGE),
                         "/runtime.v1.ImageService/PullImage");
        cr_assert_null(cri_client_method_path(_CRI_METHOD_MAX));
        cr_assert_null(cri_client_method_path((CriMethod)-1));
        for (int m = 0; m < _CRI_METHOD_MAX; m++) {
                /* every method of the table is one the generated service descriptors know */
                GrpcResult r = {
                    .status = GRPC_STATUS_OK, .message = "", .data = (const uint8_t *)"", .size = 0};
                CriError e = {};
                void *resp = NULL;

                cr_assert_not_null(cri_client_method_path(m));
                cr_assert_eq(cri_client_parse_reply(m, NULL, &r, &resp, &e), 0, "%s",
                             cri_client_method_path(m));
                if (resp)
                        protobuf_c_message_free_unpacked(resp, NULL);
                cri_error_done(&e);
        }
}

Test(cri_client, errors_read_as_the_kubelet_shows_them)
{
        GrpcResult r = {
            .status = GRPC_STATUS_NOT_FOUND, .message = "container \"x\": not found", .connected = true};
        CriError e = {};
        void *resp = NULL;

        cr_assert_eq(cri_client_parse_reply(CRI_METHOD_CONTAINER_STATUS, "/x.sock", &r, &resp, &e), 0);
        cr_assert_null(resp);
        cr_assert_eq(e.status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(e.desc, "container \"x\": not found");
        cr_assert_str_eq(e.message, "rpc error: code = NotFound desc = container \"x\": not found");
        cri_error_done(&e);
        cri_error_done(&e);

        r = (GrpcResult){.status = GRPC_STATUS_DEADLINE_EXCEEDED,
                         .message = "Operation timed out after 300 milliseconds",
                         .curl = CURLE_OPERATION_TIMEDOUT,
                         .connected = true};
        assert_fails(CRI_METHOD_PULL_IMAGE, &r, GRPC_STATUS_DEADLINE_EXCEEDED, "context deadline exceeded");

        r = (GrpcResult){.status = GRPC_STATUS_UNAVAILABLE,
                         .message = "Couldn't connect to server",
                         .curl = CURLE_COULDNT_CONNECT};
        assert_fails(CRI_METHOD_VERSION, &r, GRPC_STATUS_UNAVAILABLE,
                     "connection error: desc = \"transport: Error while dialing: dial unix "
                     "/nonexistent/test-cri-client.sock: connect: no such file or directory\"");
}

Test(cri_client, a_reply_that_does_not_unpack_is_internal_and_names_the_method)
{
        static const uint8_t garbage[] = {0x0a, 0x7f, 'x'}; /* a string longer than the bytes */
        GrpcResult r = {.status = GRPC_STATUS_OK, .message = "", .data = garbage, .size = sizeof(garbage)};
        CriError e = {};
        void *resp = NULL;

        cr_assert_eq(cri_client_parse_reply(CRI_METHOD_LIST_CONTAINERS, NULL, &r, &resp, &e), 0);
        cr_assert_null(resp);
        cr_assert_eq(e.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(e.message,
                         "rpc error: code = Internal desc = /runtime.v1.RuntimeService/ListContainers: "
                         "grpc: failed to unmarshal the received message");
        cri_error_done(&e);
}

Test(cri_client, replies_lacking_what_the_kubelet_requires_are_internal)
{
        Runtime__V1__VersionResponse v = RUNTIME__V1__VERSION_RESPONSE__INIT;
        Runtime__V1__StatusResponse s = RUNTIME__V1__STATUS_RESPONSE__INIT;
        Runtime__V1__RuntimeStatus rs = RUNTIME__V1__RUNTIME_STATUS__INIT;
        Runtime__V1__RuntimeCondition cond = RUNTIME__V1__RUNTIME_CONDITION__INIT, *conds[] = {&cond};
        Runtime__V1__ContainerStatusResponse cs = RUNTIME__V1__CONTAINER_STATUS_RESPONSE__INIT;
        Runtime__V1__ContainerStatus st = RUNTIME__V1__CONTAINER_STATUS__INIT;
        Runtime__V1__ContainerMetadata md = RUNTIME__V1__CONTAINER_METADATA__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
        Runtime__V1__PodSandboxStatusResponse ps = RUNTIME__V1__POD_SANDBOX_STATUS_RESPONSE__INIT;
        uint8_t buf[256];
        GrpcResult r;

        v.version = "v1";
        r = ok_reply(&v, buf, sizeof(buf));
        assert_fails(CRI_METHOD_VERSION, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.RuntimeService/Version: not all fields are set in VersionResponse "
                     "(missing RuntimeName, RuntimeApiVersion, RuntimeVersion)");

        cond.type = "RuntimeReady";
        rs.conditions = conds;
        rs.n_conditions = 1;
        s.status = &rs;
        r = ok_reply(&s, buf, sizeof(buf));
        assert_fails(
            CRI_METHOD_STATUS, &r, GRPC_STATUS_INTERNAL,
            "/runtime.v1.RuntimeService/Status: RuntimeReady or NetworkReady condition are not set");

        r = ok_reply(NULL, buf, sizeof(buf));
        assert_fails(CRI_METHOD_RUN_POD_SANDBOX, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.RuntimeService/RunPodSandbox: PodSandboxId is not set");
        assert_fails(CRI_METHOD_CREATE_CONTAINER, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.RuntimeService/CreateContainer: ContainerId is not set");
        assert_fails(CRI_METHOD_PULL_IMAGE, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.ImageService/PullImage: imageRef of image is not set");
        assert_fails(CRI_METHOD_CONTAINER_STATUS, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.RuntimeService/ContainerStatus: container status is nil");
        r = ok_reply(&ps, buf, sizeof(buf));
        assert_fails(CRI_METHOD_POD_SANDBOX_STATUS, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.RuntimeService/PodSandboxStatus: status is not set");

        md.name = "main";
        spec.image = "docker.io/library/busybox:latest";
        st.id = "c1";
        st.metadata = &md;
        st.created_at = 1;
        st.image = &spec;
        cs.status = &st;
        r = ok_reply(&cs, buf, sizeof(buf));
        assert_fails(CRI_METHOD_CONTAINER_STATUS, &r, GRPC_STATUS_INTERNAL,
                     "/runtime.v1.RuntimeService/ContainerStatus: status.ImageRef is not set");
}

Test(cri_client, a_good_reply_unpacks_and_an_absent_image_is_no_error)
{
        Runtime__V1__VersionResponse v = RUNTIME__V1__VERSION_RESPONSE__INIT;
        const Runtime__V1__VersionResponse *got;
        const Runtime__V1__ImageStatusResponse *img;
        uint8_t buf[256];
        CriError e = {};
        GrpcResult r;
        void *resp = NULL;

        v.version = "0.1.0";
        v.runtime_name = "containerd";
        v.runtime_version = "1.6.20";
        v.runtime_api_version = "v1";
        r = ok_reply(&v, buf, sizeof(buf));
        cr_assert_eq(cri_client_parse_reply(CRI_METHOD_VERSION, NULL, &r, &resp, &e), 0);
        cr_assert_null(e.message);
        got = resp;
        cr_assert_eq(got->base.descriptor, &runtime__v1__version_response__descriptor);
        cr_assert_str_eq(got->runtime_name, "containerd");
        cr_assert_str_eq(got->runtime_api_version, "v1");
        protobuf_c_message_free_unpacked(resp, NULL);

        r = ok_reply(NULL, buf, sizeof(buf));
        cr_assert_eq(cri_client_parse_reply(CRI_METHOD_IMAGE_STATUS, NULL, &r, &resp, &e), 0);
        img = resp;
        cr_assert_not_null(img);
        cr_assert_null(img->image);
        protobuf_c_message_free_unpacked(resp, NULL);
}

/* --- calls on sockets that refuse or never answer --- */

typedef struct Done {
        bool called;
        unsigned calls;
        int status;
        char message[512];
        usec_t at;
} Done;

static void on_done(const CriError *error, const void *response, void *userdata)
{
        Done *d = userdata;

        d->called = true;
        d->calls++;
        cr_assert((error == NULL) != (response == NULL));
        d->status = error ? error->status : 0;
        snprintf(d->message, sizeof(d->message), "%s", error ? error->message : "");
        d->at = now_usec(CLOCK_MONOTONIC);
}

static sd_event *event;
static CurlLoop *loop;

static void setup_loop(void)
{
        make_dir();
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(curl_loop_new(&loop, event), 0);
}

static void teardown_loop(void)
{
        curl_loop_free(loop);
        sd_event_unref(event);
        remove_dir();
}

static CriClient *client_at(const char *path, usec_t request_timeout)
{
        CriClientOptions o = {.endpoint = path, .request_timeout = request_timeout};
        _cleanup_free_ char *err = NULL;
        CriClient *c = NULL;

        cr_assert_eq(cri_client_new(&c, loop, &o, &err), 0, "%s", err);
        return c;
}

Test(cri_client, new_names_a_missing_socket_before_any_call, .init = setup_loop, .fini = teardown_loop)
{
        char path[128], want[192], file[128];
        CriClientOptions o = {.endpoint = path};
        _cleanup_free_ char *err = NULL;
        CriClient *c = NULL;

        snprintf(path, sizeof(path), "%s/containerd.sock", dir);
        cr_assert_eq(cri_client_new(&c, loop, &o, &err), -ENOENT);
        cr_assert_null(c);
        snprintf(want, sizeof(want), "CRI endpoint unix://%s: no such socket", path);
        cr_assert_str_eq(err, want);
        touch("file", file, sizeof(file));
        o.endpoint = file;
        cr_assert_eq(cri_client_new(&c, loop, &o, &err), -ENOTSOCK);
        cr_assert_not_null(strstr(err, "not a socket"), "%s", err);
        o.endpoint = "tcp://127.0.0.1:1";
        cr_assert_eq(cri_client_new(&c, loop, &o, &err), -EPROTONOSUPPORT);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

Test(cri_client, a_refused_dial_is_unavailable_in_grpc_go_words, .init = setup_loop, .fini = teardown_loop)
{
        char path[128], want[512];
        _cleanup_(cri_client_freep) CriClient *c = NULL;
        Done d = {};

        unix_socket("refusing.sock", false, path, sizeof(path));
        c = client_at(path, 0);
        snprintf(want, sizeof(want), "unix://%s", path);
        cr_assert_str_eq(cri_client_get_endpoint(c), want);
        cr_assert_eq(cri_client_version(c, 0, on_done, &d, NULL), 0);
        cr_assert_not(d.called, "done must not run inside the start call");
        cr_assert_eq(cri_client_in_flight(c), 1);
        cr_assert(event_run_until_set(event, &d.called, 5 * USEC_PER_SEC));
        cr_assert_eq(d.status, GRPC_STATUS_UNAVAILABLE);
        snprintf(want, sizeof(want),
                 "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while "
                 "dialing: dial unix %s: connect: connection refused\"",
                 path);
        cr_assert_str_eq(d.message, want);
        cr_assert_eq(cri_client_in_flight(c), 0);
}

Test(cri_client, a_call_past_its_deadline_is_deadline_exceeded, .init = setup_loop, .fini = teardown_loop)
{
        char path[128];
        int fd = unix_socket("silent.sock", true, path, sizeof(path));
        _cleanup_(cri_client_freep) CriClient *c = client_at(path, 300 * USEC_PER_MSEC);
        usec_t start = now_usec(CLOCK_MONOTONIC);
        Done d = {}, e = {};
        char *cmd[] = {"true", NULL};

        /* the request timeout of the client, and a deadline of the call's own */
        cr_assert_eq(cri_client_list_containers(c, NULL, 0, on_done, &d, NULL), 0);
        cr_assert_eq(
            cri_client_exec_sync(c, "c1", cmd, USEC_PER_SEC, 200 * USEC_PER_MSEC, on_done, &e, NULL), 0);
        cr_assert(event_run_until_set(event, &d.called, 5 * USEC_PER_SEC));
        cr_assert(e.called);
        cr_assert_eq(d.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        cr_assert_str_eq(d.message, "rpc error: code = DeadlineExceeded desc = context deadline exceeded");
        cr_assert_eq(e.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        cr_assert_geq(d.at - start, 290 * USEC_PER_MSEC);
        cr_assert_geq(e.at - start, 190 * USEC_PER_MSEC);
        cr_assert_lt(e.at, d.at);
        safe_close(fd);
}

Test(cri_client, cancel_and_free_call_nothing_back, .init = setup_loop, .fini = teardown_loop)
{
        char path[128];
        int fd = unix_socket("silent.sock", true, path, sizeof(path));
        CriClient *c = client_at(path, 200 * USEC_PER_MSEC);
        CriCall *call = NULL;
        Done d = {}, e = {}, f = {};

        cr_assert_eq(cri_client_status(c, false, 0, on_done, &d, &call), 0);
        cr_assert_eq(cri_client_stop_container(c, "c1", 30, 0, on_done, &e, NULL), 0);
        cr_assert_eq(cri_client_pull_image(c, "busybox", NULL, NULL, 0, on_done, &f, NULL), 0);
        cr_assert_eq(cri_client_in_flight(c), 3);
        cr_assert_eq(curl_loop_in_flight(loop), 3);
        cri_client_cancel(call);
        cri_client_cancel(NULL);
        cr_assert_eq(cri_client_in_flight(c), 2);
        /* the others wait out their longer deadlines; freeing the client ends them */
        event_run_for(event, 400 * USEC_PER_MSEC);
        cr_assert_eq(cri_client_in_flight(c), 2);
        cri_client_free(c);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_not(d.called);
        cr_assert_not(e.called);
        cr_assert_not(f.called);
        safe_close(fd);
}

Test(cri_client, calls_refuse_missing_arguments_and_foreign_requests, .init = setup_loop,
     .fini = teardown_loop)
{
        char path[128];
        int fd = unix_socket("silent.sock", true, path, sizeof(path));
        _cleanup_(cri_client_freep) CriClient *c = client_at(path, 0);
        Runtime__V1__VersionRequest v = RUNTIME__V1__VERSION_REQUEST__INIT;
        Runtime__V1__ContainerConfig cc = RUNTIME__V1__CONTAINER_CONFIG__INIT;
        char *empty[] = {NULL};
        Done d = {};

        cr_assert_eq(cri_client_call(c, CRI_METHOD_STATUS, &v, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_call(c, _CRI_METHOD_MAX, &v, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_call(c, CRI_METHOD_VERSION, &v, 0, NULL, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_start_container(c, NULL, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_run_pod_sandbox(c, NULL, NULL, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_create_container(c, "p", &cc, NULL, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_exec_sync(c, "c", empty, 0, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_stop_container(c, "c", -1, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_image_status(c, NULL, false, 0, on_done, &d, NULL), -EINVAL);
        cr_assert_eq(cri_client_in_flight(c), 0);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
        safe_close(fd);
}

/* --- the GetContainerEvents stream, against a runtime that says what a test scripts --- */

Test(cri_client, event_messages_use_upstream_field_numbers)
{
        Runtime__V1__ContainerEventResponse ev = RUNTIME__V1__CONTAINER_EVENT_RESPONSE__INIT;
        Runtime__V1__PodSandboxStatus ps = RUNTIME__V1__POD_SANDBOX_STATUS__INIT;
        Runtime__V1__ContainerStatus cs = RUNTIME__V1__CONTAINER_STATUS__INIT, *statuses[] = {&cs};
        /* container_id 1, container_event_type 2 (DELETED 3), created_at 3, pod_sandbox_status 4
         * holding id 1, containers_statuses 5 holding id 1 */
        static const uint8_t want[] = {0x0a, 0x01, 'c', 0x10, 0x03, 0x18, 0x05, 0x22, 0x03,
                                       0x0a, 0x01, 'p', 0x2a, 0x03, 0x0a, 0x01, 'c'};
        uint8_t buf[64];

        ev.container_id = "c";
        ev.container_event_type = RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT;
        ev.created_at = 5;
        ps.id = "p";
        ev.pod_sandbox_status = &ps;
        cs.id = "c";
        ev.containers_statuses = statuses;
        ev.n_containers_statuses = 1;
        cr_assert_eq(pack(&ev, buf, sizeof(buf)), sizeof(want));
        cr_assert_arr_eq(buf, want, sizeof(want));
        cr_assert_str_eq(cri_client_method_path(CRI_METHOD_GET_CONTAINER_EVENTS),
                         "/runtime.v1.RuntimeService/GetContainerEvents");
}

/* An HTTP/2 runtime of one connection in a thread, written frame by frame (HPACK without
 * Huffman or indexing): it reads the request up to its END_STREAM, answers with the bytes
 * the test scripted, and keeps the connection until the client closes it. */
typedef struct Runtime {
        int fd;
        pthread_t thread;
        uint8_t out[2048];
        size_t out_size;
        /* what it saw, read after the join */
        bool got_request;
        uint32_t stream_id;
        size_t body_size;
} Runtime;

#define H2_DATA 0x0
#define H2_HEADERS 0x1
#define H2_SETTINGS 0x4
#define H2_END_STREAM 0x1
#define H2_END_HEADERS 0x4

static size_t h2_frame(uint8_t *out, uint8_t type, uint8_t flags, uint32_t stream, const void *payload,
                       size_t size)
{
        out[0] = (uint8_t)(size >> 16);
        out[1] = (uint8_t)(size >> 8);
        out[2] = (uint8_t)size;
        out[3] = type;
        out[4] = flags;
        out[5] = (uint8_t)(stream >> 24);
        out[6] = (uint8_t)(stream >> 16);
        out[7] = (uint8_t)(stream >> 8);
        out[8] = (uint8_t)stream;
        if (size > 0)
                memcpy(out + 9, payload, size);
        return 9 + size;
}

/* A literal header field without indexing, its name new: 0x00, name, value (both < 128). */
static size_t hpack_literal(uint8_t *out, const char *name, const char *value)
{
        size_t n = strlen(name), v = strlen(value);

        out[0] = 0;
        out[1] = (uint8_t)n;
        memcpy(out + 2, name, n);
        out[2 + n] = (uint8_t)v;
        memcpy(out + 3 + n, value, v);
        return 3 + n + v;
}

/* ":status: 200" (static table entry 8) and content-type application/grpc, then grpc-status
 * and grpc-message when status is set: a trailers-only reply. */
static void runtime_headers(Runtime *rt, const char *status, const char *message)
{
        uint8_t block[256];
        size_t n = 0;

        block[n++] = 0x88;
        n += hpack_literal(block + n, "content-type", "application/grpc");
        if (status)
                n += hpack_literal(block + n, "grpc-status", status);
        if (message)
                n += hpack_literal(block + n, "grpc-message", message);
        rt->out_size += h2_frame(rt->out + rt->out_size, H2_HEADERS,
                                 H2_END_HEADERS | (status ? H2_END_STREAM : 0), 1, block, n);
}

static void runtime_data(Runtime *rt, const void *data, size_t size)
{
        cr_assert_leq(rt->out_size + 9 + size, sizeof(rt->out));
        rt->out_size += h2_frame(rt->out + rt->out_size, H2_DATA, 0, 1, data, size);
}

static void runtime_trailers(Runtime *rt, const char *status, const char *message)
{
        uint8_t block[256];
        size_t n = hpack_literal(block, "grpc-status", status);

        if (message)
                n += hpack_literal(block + n, "grpc-message", message);
        rt->out_size +=
            h2_frame(rt->out + rt->out_size, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, 1, block, n);
}

/* Reads frames until one ends the client's stream; false when the connection ends first. */
static bool read_request(Runtime *rt, int fd)
{
        static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        uint8_t buf[8192];
        size_t have = 0, at = sizeof(preface) - 1;

        for (;;) {
                ssize_t k;

                while (have >= at + 9) {
                        size_t len = (size_t)buf[at] << 16 | (size_t)buf[at + 1] << 8 | buf[at + 2];
                        uint8_t type = buf[at + 3], flags = buf[at + 4];

                        if (have < at + 9 + len)
                                break;
                        if (type == H2_DATA)
                                rt->body_size += len;
                        if ((type == H2_HEADERS || type == H2_DATA) && (flags & H2_END_STREAM)) {
                                rt->stream_id = ((uint32_t)buf[at + 5] << 24 | (uint32_t)buf[at + 6] << 16 |
                                                 (uint32_t)buf[at + 7] << 8 | buf[at + 8]) &
                                                0x7fffffffU;
                                return true;
                        }
                        at += 9 + len;
                }
                if (have == sizeof(buf))
                        return false;
                k = recv(fd, buf + have, sizeof(buf) - have, 0);
                if (k <= 0)
                        return false;
                have += (size_t)k;
        }
}

static void *runtime_serve(void *userdata)
{
        Runtime *rt = userdata;
        uint8_t hello[2 * 9], drain[4096];
        struct pollfd p;
        int fd = accept4(rt->fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return NULL;
        rt->got_request = read_request(rt, fd);
        if (rt->got_request) {
                /* our SETTINGS, and the acknowledgement of the client's */
                h2_frame(hello, H2_SETTINGS, 0, 0, NULL, 0);
                h2_frame(hello + 9, H2_SETTINGS, 0x1, 0, NULL, 0);
                (void)loopback_send_all(fd, hello, sizeof(hello));
                (void)loopback_send_all(fd, rt->out, rt->out_size);
        }
        /* until the client hangs up, so that nothing it sends is answered with a reset */
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        while (poll(&p, 1, 5000) > 0 && recv(fd, drain, sizeof(drain), 0) > 0)
                ;
        close(fd);
        return NULL;
}

static Runtime rt;

static void setup_runtime(void)
{
        setup_loop();
        rt = (Runtime){.fd = -EBADF};
}

/* The client's connections close with the loop; then the runtime's thread ends. */
static void teardown_runtime(void)
{
        curl_loop_free(loop);
        loop = NULL;
        if (rt.fd >= 0) {
                cr_assert_eq(pthread_join(rt.thread, NULL), 0);
                rt.fd = safe_close(rt.fd);
        }
        sd_event_unref(event);
        remove_dir();
}

/* An event's message, framed. */
static size_t framed_event(const Runtime__V1__ContainerEventResponse *ev, uint8_t *out, size_t size)
{
        size_t n = pack(ev, out + 5, size - 5);

        out[0] = 0;
        out[1] = (uint8_t)(n >> 24);
        out[2] = (uint8_t)(n >> 16);
        out[3] = (uint8_t)(n >> 8);
        out[4] = (uint8_t)n;
        return n + 5;
}

typedef struct Events {
        bool called;
        int status;
        char message[512];
        unsigned n, n_at_done;
        char ids[4][16];
        int types[4];
        int64_t created[4];
        char sandbox[4][16];
        char first_status[4][16];
        CriClient *free_client; /* freed from inside the first on_event */
} Events;

static void on_event(const Runtime__V1__ContainerEventResponse *ev, void *userdata)
{
        Events *e = userdata;

        cr_assert_not(e->called, "an event after the end");
        cr_assert_lt(e->n, 4);
        cr_assert_eq(ev->base.descriptor, &runtime__v1__container_event_response__descriptor);
        snprintf(e->ids[e->n], sizeof(e->ids[0]), "%s", ev->container_id);
        e->types[e->n] = ev->container_event_type;
        e->created[e->n] = ev->created_at;
        snprintf(e->sandbox[e->n], sizeof(e->sandbox[0]), "%s",
                 ev->pod_sandbox_status ? ev->pod_sandbox_status->id : "(none)");
        snprintf(e->first_status[e->n], sizeof(e->first_status[0]), "%s",
                 ev->n_containers_statuses > 0 ? ev->containers_statuses[0]->id : "(none)");
        e->n++;
        if (e->free_client)
                e->free_client = cri_client_free(e->free_client);
}

static void on_events_done(const CriError *error, const void *response, void *userdata)
{
        Events *e = userdata;

        cr_assert_not(e->called, "done twice");
        cr_assert_null(response, "a stream's end has no response");
        e->called = true;
        e->n_at_done = e->n;
        e->status = error ? error->status : 0;
        snprintf(e->message, sizeof(e->message), "%s", error ? error->message : "");
}

/* Starts the runtime at dir/runtime.sock, which answers in a thread with what rt.out holds, and
 * a client of it that watches its events into e. */
static CriClient *watch(Events *e, usec_t request_timeout, CriCall **ret)
{
        char path[128];
        CriClient *c;

        rt.fd = unix_socket("runtime.sock", true, path, sizeof(path));
        cr_assert_eq(pthread_create(&rt.thread, NULL, runtime_serve, &rt), 0);
        c = client_at(path, request_timeout);
        cr_assert_eq(cri_client_get_container_events(c, on_event, on_events_done, e, ret), 0);
        cr_assert_not(e->called, "done must not run inside the start call");
        cr_assert_eq(cri_client_in_flight(c), 1);
        return c;
}

/* Two events: c1 started in sandbox p1 with its status, c2 deleted without a sandbox. */
static void script_two_events(bool split)
{
        Runtime__V1__ContainerEventResponse a = RUNTIME__V1__CONTAINER_EVENT_RESPONSE__INIT,
                                            b = RUNTIME__V1__CONTAINER_EVENT_RESPONSE__INIT;
        Runtime__V1__PodSandboxStatus ps = RUNTIME__V1__POD_SANDBOX_STATUS__INIT;
        Runtime__V1__PodSandboxMetadata md = RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
        Runtime__V1__ContainerStatus cs = RUNTIME__V1__CONTAINER_STATUS__INIT, *statuses[] = {&cs};
        uint8_t buf[512];
        size_t n;

        md.name = "web-0";
        md.namespace_ = "default";
        md.uid = "u1";
        ps.id = "p1";
        ps.metadata = &md;
        ps.created_at = 1;
        cs.id = "c1";
        cs.state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
        a.container_id = "c1";
        a.container_event_type = RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT;
        a.created_at = INT64_C(1700000000123456789);
        a.pod_sandbox_status = &ps;
        a.containers_statuses = statuses;
        a.n_containers_statuses = 1;
        b.container_id = "c2";
        b.container_event_type = RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT;
        b.created_at = 2;
        n = framed_event(&a, buf, sizeof(buf));
        if (split) {
                runtime_data(&rt, buf, n);
                n = framed_event(&b, buf, sizeof(buf));
                /* the second over two DATA frames */
                runtime_data(&rt, buf, 3);
                runtime_data(&rt, buf + 3, n - 3);
        } else {
                n += framed_event(&b, buf + n, sizeof(buf) - n);
                runtime_data(&rt, buf, n);
        }
}

Test(cri_client, container_events_arrive_unpacked_until_the_runtime_ends_the_stream, .init = setup_runtime,
     .fini = teardown_runtime)
{
        _cleanup_(cri_client_freep) CriClient *c = NULL;
        CriCall *call = NULL;
        Events e = {};

        runtime_headers(&rt, NULL, NULL);
        script_two_events(true);
        runtime_trailers(&rt, "0", NULL);
        c = watch(&e, 0, &call);
        cr_assert_not_null(call);
        cr_assert(event_run_until_set(event, &e.called, 5 * USEC_PER_SEC));
        cr_assert_eq(e.status, 0, "%s", e.message);
        cr_assert_eq(e.n_at_done, 2);
        cr_assert_str_eq(e.ids[0], "c1");
        cr_assert_eq(e.types[0], RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT);
        cr_assert_eq(e.created[0], INT64_C(1700000000123456789));
        cr_assert_str_eq(e.sandbox[0], "p1");
        cr_assert_str_eq(e.first_status[0], "c1");
        cr_assert_str_eq(e.ids[1], "c2");
        cr_assert_eq(e.types[1], RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT);
        cr_assert_str_eq(e.sandbox[1], "(none)");
        cr_assert_str_eq(e.first_status[1], "(none)");
        cr_assert_eq(cri_client_in_flight(c), 0);
}

Test(cri_client, an_event_that_does_not_unpack_ends_the_stream_with_internal, .init = setup_runtime,
     .fini = teardown_runtime)
{
        /* a string longer than the bytes */
        static const uint8_t garbage[] = {0, 0, 0, 0, 3, 0x0a, 0x7f, 'x'};
        _cleanup_(cri_client_freep) CriClient *c = NULL;
        Events e = {};

        runtime_headers(&rt, NULL, NULL);
        script_two_events(false);
        runtime_data(&rt, garbage, sizeof(garbage));
        /* and the runtime holds the stream open */
        c = watch(&e, 0, NULL);
        cr_assert(event_run_until_set(event, &e.called, 5 * USEC_PER_SEC));
        cr_assert_eq(e.status, GRPC_STATUS_INTERNAL);
        cr_assert_str_eq(e.message,
                         "rpc error: code = Internal desc = /runtime.v1.RuntimeService/GetContainerEvents: "
                         "grpc: failed to unmarshal the received message");
        cr_assert_eq(e.n_at_done, 2);
        cr_assert_eq(cri_client_in_flight(c), 0);
        cr_assert_eq(curl_loop_in_flight(loop), 0, "the stream is stopped");
        event_run_for(event, 100 * USEC_PER_MSEC);
}

Test(cri_client, a_runtime_without_container_events_answers_unimplemented, .init = setup_runtime,
     .fini = teardown_runtime)
{
        _cleanup_(cri_client_freep) CriClient *c = NULL;
        Events e = {};

        /* containerd 1.6 */
        runtime_headers(&rt, "12",
                        "unknown method GetContainerEvents for service runtime.v1.RuntimeService");
        c = watch(&e, 0, NULL);
        cr_assert(event_run_until_set(event, &e.called, 5 * USEC_PER_SEC));
        cr_assert_eq(e.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(e.message,
                         "rpc error: code = Unimplemented desc = unknown method GetContainerEvents for "
                         "service runtime.v1.RuntimeService");
        cr_assert_eq(e.n, 0);
}

Test(cri_client, a_watch_outlives_the_request_timeout_until_cancelled, .init = setup_runtime,
     .fini = teardown_runtime)
{
        _cleanup_(cri_client_freep) CriClient *c = NULL;
        CriCall *call = NULL;
        Events e = {};

        runtime_headers(&rt, NULL, NULL);
        script_two_events(false);
        c = watch(&e, 200 * USEC_PER_MSEC, &call);
        event_run_for(event, 700 * USEC_PER_MSEC);
        cr_assert_not(e.called, "%d %s", e.status, e.message);
        cr_assert_eq(e.n, 2);
        cri_client_cancel(call);
        cr_assert_eq(cri_client_in_flight(c), 0);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_not(e.called);
}

Test(cri_client, an_event_handler_may_free_the_client, .init = setup_runtime, .fini = teardown_runtime)
{
        Events e = {};

        runtime_headers(&rt, NULL, NULL);
        script_two_events(false);
        runtime_trailers(&rt, "0", NULL);
        e.free_client = watch(&e, 0, NULL);
        event_run_for(event, 500 * USEC_PER_MSEC);
        cr_assert_null(e.free_client);
        cr_assert_eq(e.n, 1, "no event after the client is gone");
        cr_assert_not(e.called);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

Test(cri_client, container_events_refuse_missing_callbacks_and_unary_calls, .init = setup_loop,
     .fini = teardown_loop)
{
        char path[128];
        int fd = unix_socket("silent.sock", true, path, sizeof(path));
        _cleanup_(cri_client_freep) CriClient *c = client_at(path, 0);
        Runtime__V1__GetEventsRequest req = RUNTIME__V1__GET_EVENTS_REQUEST__INIT;
        Events e = {};
        Done d = {};

        cr_assert_eq(cri_client_get_container_events(c, NULL, on_events_done, &e, NULL), -EINVAL);
        cr_assert_eq(cri_client_get_container_events(c, on_event, NULL, &e, NULL), -EINVAL);
        cr_assert_eq(cri_client_get_container_events(NULL, on_event, on_events_done, &e, NULL), -EINVAL);
        /* a stream read as a unary reply would be misframed */
        cr_assert_eq(cri_client_call(c, CRI_METHOD_GET_CONTAINER_EVENTS, &req, 0, on_done, &d, NULL),
                     -EINVAL);
        cr_assert_eq(cri_client_in_flight(c), 0);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
        safe_close(fd);
}
