/* Tests of cri/cri-client.c without a runtime: image reference normalisation, endpoints, the
 * wire format of the generated CRI messages against upstream's field numbers, how replies
 * and failures read, and calls on unix sockets that refuse or never answer (deadline,
 * cancellation, freeing the client with calls in flight). tests/unit/cri/cri-client-live.c
 * runs the calls against a real containerd. */
#include <criterion/criterion.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "cri-client.h"
#include "event-run.h"

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
