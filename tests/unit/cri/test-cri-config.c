/* Tests of cri/cri-config.c: the PodSandboxConfig and ContainerConfig made from Pod objects,
 * against the kubelet's rules (hostname, DNS, ports, labels, namespaces, security contexts,
 * resources, QoS, seccomp). Every tree made is freed with cri_config_free(), so that ASan
 * checks the single-tree contract. Pods are written with ' for " to keep them readable. */
#include <criterion/criterion.h>
#include <string.h>

#include "cri-config.h"
#include "json-util.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#define LOGDIR "/var/log/pods/ns_web_u-1"
#define SECCOMP_ROOT "/var/lib/berth/seccomp"

/* LeakSanitizer's report at a criterion worker's exit fails nothing, nor does an assertion in
 * a .fini: each test checks for leaks itself once its body (and its cleanups) returned, so that
 * a tree that does not free as one fails here. */
static void check_leaks(void)
{
#ifdef __SANITIZE_ADDRESS__
        cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (see the report above)");
#endif
}

#define LEAK_CHECKED_TEST(suite, name)                                                                      \
        static void suite##_##name##_body(void);                                                            \
        Test(suite, name)                                                                                   \
        {                                                                                                   \
                suite##_##name##_body();                                                                    \
                check_leaks();                                                                              \
        }                                                                                                   \
        static void suite##_##name##_body(void)

static cJSON *json(const char *text)
{
        _cleanup_free_ char *s = strdup(text);
        cJSON *j;

        cr_assert_not_null(s);
        for (char *c = s; *c; c++)
                if (*c == '\'')
                        *c = '"';
        j = cJSON_Parse(s);
        cr_assert_not_null(j, "bad JSON: %s", s);
        return j;
}

/* A pod "web" in "ns" with uid "u-1" and the given spec fields. */
static cJSON *pod_spec(const char *spec_fields)
{
        _cleanup_free_ char *s = strjoin("{'metadata':{'name':'web','namespace':'ns','uid':'u-1'},'spec':{",
                                         spec_fields, "}}", NULL);

        cr_assert_not_null(s);
        return json(s);
}

static const char *map_get(void *const *entries, size_t n, const char *key)
{
        return cri_map_get(entries, n, key);
}
#define MAP(msg, field, key) map_get((void *const *)(msg)->field, (msg)->n_##field, key)

static void free_sandbox(Runtime__V1__PodSandboxConfig **c)
{
        cri_config_free(*c);
}

static void free_container(Runtime__V1__ContainerConfig **c)
{
        cri_config_free(*c);
}

#define _cleanup_sandbox_ _cleanup_(free_sandbox)
#define _cleanup_container_ _cleanup_(free_container)

static Runtime__V1__PodSandboxConfig *sandbox_of(const cJSON *pod, const char *resolv_conf)
{
        CriSandboxParams p = {.pod = pod,
                              .attempt = 2,
                              .log_directory = LOGDIR,
                              .instance = "berth",
                              .resolv_conf = resolv_conf};
        Runtime__V1__PodSandboxConfig *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r = cri_sandbox_config_new(&p, &c, &error);

        cr_assert_eq(r, 0, "%d: %s", r, error ?: "");
        cr_assert_not_null(c);
        return c;
}

/* -EINVAL with a message that contains what */
static void assert_sandbox_fails(const char *spec_fields, const char *what)
{
        _cleanup_json_ cJSON *pod = pod_spec(spec_fields);
        CriSandboxParams p = {.pod = pod, .log_directory = LOGDIR, .instance = "berth"};
        Runtime__V1__PodSandboxConfig *c = NULL;
        _cleanup_free_ char *error = NULL;

        cr_assert_eq(cri_sandbox_config_new(&p, &c, &error), -EINVAL, "%s", spec_fields);
        cr_assert_null(c);
        cr_assert_not_null(error, "%s", spec_fields);
        cr_assert_not_null(strstr(error, what), "'%s' not in '%s'", what, error);
}

LEAK_CHECKED_TEST(cri_sandbox_config, metadata_log_directory_and_default_namespace)
{
        _cleanup_json_ cJSON *pod = json("{'metadata':{'name':'web','uid':'u-1'},'spec':{}}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

        cr_assert_str_eq(c->metadata->name, "web");
        cr_assert_str_eq(c->metadata->uid, "u-1");
        cr_assert_str_eq(c->metadata->namespace_, "default");
        cr_assert_eq(c->metadata->attempt, 2);
        cr_assert_str_eq(c->log_directory, LOGDIR);
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_NAMESPACE), "default");
}

LEAK_CHECKED_TEST(cri_sandbox_config, refuses_a_pod_without_name_or_uid)
{
        _cleanup_json_ cJSON *pod = json("{'metadata':{'name':'web'},'spec':{}}");
        CriSandboxParams p = {.pod = pod};
        Runtime__V1__PodSandboxConfig *c = NULL;
        _cleanup_free_ char *error = NULL;

        cr_assert_eq(cri_sandbox_config_new(&p, &c, &error), -EINVAL);
        cr_assert_str_eq(error, "metadata.uid: Required value");
}

LEAK_CHECKED_TEST(cri_sandbox_config, hostname_rules)
{
        static const struct {
                const char *spec, *want;
        } cases[] = {
            {"'hostname':'h1'", "h1"},
            {"", "web"},
            /* the FQDN goes to /etc/hosts, not to the hostname */
            {"'hostname':'h1','subdomain':'sub'", "h1"},
            {"'hostNetwork':true,'hostname':'h1'", ""},
            /* 63 characters at most, without a trailing '-' or '.' */
            {"'hostname':'aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff12.-xyz'",
             "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff12"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *pod = pod_spec(cases[i].spec);
                _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

                cr_assert_str_eq(c->hostname, cases[i].want, "%s", cases[i].spec);
        }
}

LEAK_CHECKED_TEST(cri_sandbox_config, dns_cluster_first_without_resolv_conf_is_empty)
{
        _cleanup_json_ cJSON *pod = pod_spec("'dnsPolicy':'ClusterFirst'");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

        /* an empty config: the runtime copies the host's resolv.conf */
        cr_assert_not_null(c->dns_config);
        cr_assert_eq(c->dns_config->n_servers + c->dns_config->n_searches + c->dns_config->n_options, 0);
}

LEAK_CHECKED_TEST(cri_sandbox_config, dns_none_takes_the_pods_config_only)
{
        _cleanup_json_ cJSON *pod =
            pod_spec("'dnsPolicy':'None','dnsConfig':{'nameservers':['10.0.0.10'],'searches':['a.example'],"
                     "'options':[{'name':'ndots','value':'2'},{'name':'edns0'}]}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c =
            sandbox_of(pod, "nameserver 192.0.2.1\nsearch lan\n");
        Runtime__V1__DNSConfig *d = c->dns_config;

        cr_assert_eq(d->n_servers, 1);
        cr_assert_str_eq(d->servers[0], "10.0.0.10");
        cr_assert_eq(d->n_searches, 1);
        cr_assert_str_eq(d->searches[0], "a.example");
        cr_assert_eq(d->n_options, 2);
        cr_assert_str_eq(d->options[0], "ndots:2");
        cr_assert_str_eq(d->options[1], "edns0");
}

LEAK_CHECKED_TEST(cri_sandbox_config, dns_default_merges_the_node_and_the_pod)
{
        static const char resolv[] = "# generated\n"
                                     "nameserver 192.0.2.1\n"
                                     "nameserver 192.0.2.2\n"
                                     "search old.example\n"
                                     "search lan. .\n"
                                     "options ndots:1 rotate\n";
        _cleanup_json_ cJSON *pod = pod_spec(
            "'dnsPolicy':'ClusterFirst','dnsConfig':{'nameservers':['192.0.2.2','192.0.2.3','192.0.2.4'],"
            "'searches':['lan','b.example'],'options':[{'name':'ndots','value':'3'}]}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, resolv);
        Runtime__V1__DNSConfig *d = c->dns_config;

        /* duplicates once, then cut to 3 servers as the kubelet does */
        cr_assert_eq(d->n_servers, 3);
        cr_assert_str_eq(d->servers[0], "192.0.2.1");
        cr_assert_str_eq(d->servers[1], "192.0.2.2");
        cr_assert_str_eq(d->servers[2], "192.0.2.3");
        cr_assert_eq(d->n_searches, 2);
        cr_assert_str_eq(d->searches[0], "lan");
        cr_assert_str_eq(d->searches[1], "b.example");
        /* the pod's ndots replaces the node's */
        cr_assert_eq(d->n_options, 2);
        cr_assert_str_eq(d->options[0], "ndots:3");
        cr_assert_str_eq(d->options[1], "rotate");
}

LEAK_CHECKED_TEST(cri_sandbox_config, dns_refuses_what_the_api_server_refuses)
{
        static const struct {
                const char *spec, *what;
        } cases[] = {
            {"'dnsPolicy':'None'", "spec.dnsConfig: Required value"},
            {"'dnsPolicy':'None','dnsConfig':{'searches':['a']}",
             "spec.dnsConfig.nameservers: Required value"},
            {"'dnsConfig':{'nameservers':['1.1.1.1','1.1.1.2','1.1.1.3','1.1.1.4']}",
             "must not have more than 3 nameservers"},
            {"'dnsConfig':{'searches':['a','b','c','d','e','f','g','h','i','j','k','l','m','n','o','p','q',"
             "'r','s','t','u','v','w','x','y','z','a1','b1','c1','d1','e1','f1','g1']}",
             "must not have more than 32 search paths"},
            {"'dnsConfig':{'options':[{'value':'1'}]}", "spec.dnsConfig.options.name: Required value"},
            {"'dnsPolicy':'Cluster'", "spec.dnsPolicy: Unsupported value: \"Cluster\""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_sandbox_fails(cases[i].spec, cases[i].what);
}

LEAK_CHECKED_TEST(cri_sandbox_config, ports_of_regular_containers_with_protocols)
{
        _cleanup_json_ cJSON *pod =
            pod_spec("'initContainers':[{'name':'i','ports':[{'containerPort':9,'hostPort':9}]}],"
                     "'containers':[{'name':'a','ports':[{'containerPort':80,'hostPort':8080},"
                     "{'containerPort':53,'hostPort':5353,'protocol':'UDP','hostIP':'127.0.0.1'},"
                     "{'containerPort':80,'hostPort':8080}]},"
                     "{'name':'b','ports':[{'containerPort':9000},{'containerPort':36412,'hostPort':36412,'"
                     "protocol':'SCTP'}]}]");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);
        Runtime__V1__PortMapping **m = c->port_mappings;

        /* the init container's port is not mapped, the repeated one once */
        cr_assert_eq(c->n_port_mappings, 4);
        cr_assert_eq(m[0]->container_port, 80);
        cr_assert_eq(m[0]->host_port, 8080);
        cr_assert_eq(m[0]->protocol, RUNTIME__V1__PROTOCOL__TCP);
        cr_assert_str_eq(m[0]->host_ip, "");
        cr_assert_eq(m[1]->protocol, RUNTIME__V1__PROTOCOL__UDP);
        cr_assert_str_eq(m[1]->host_ip, "127.0.0.1");
        cr_assert_eq(m[1]->host_port, 5353);
        /* without hostPort: sent as the kubelet sends it, and not mapped by the runtime */
        cr_assert_eq(m[2]->container_port, 9000);
        cr_assert_eq(m[2]->host_port, 0);
        cr_assert_eq(m[3]->protocol, RUNTIME__V1__PROTOCOL__SCTP);
}

LEAK_CHECKED_TEST(cri_sandbox_config, host_network_ports_are_the_nodes)
{
        _cleanup_json_ cJSON *pod =
            pod_spec("'hostNetwork':true,'containers':[{'name':'a','ports':[{'containerPort':8080}]}]");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

        cr_assert_eq(c->n_port_mappings, 1);
        cr_assert_eq(c->port_mappings[0]->host_port, 8080);
}

LEAK_CHECKED_TEST(cri_sandbox_config, bad_ports_name_the_field)
{
        static const struct {
                const char *spec, *what;
        } cases[] = {
            {"'containers':[{'name':'a'},{'name':'b','ports':[{'containerPort':1,'protocol':'ICMP'}]}]",
             "spec.containers[1].ports[0].protocol: Unsupported value: \"ICMP\""},
            {"'containers':[{'name':'a','ports':[{'containerPort':80},{'containerPort':0}]}]",
             "spec.containers[0].ports[1].containerPort"},
            {"'containers':[{'name':'a','ports':[{'containerPort':80,'hostPort':70000}]}]",
             "spec.containers[0].ports[0].hostPort"},
            {"'containers':[{'name':'a','ports':[{'containerPort':'80'}]}]",
             "spec.containers[0].ports[0].containerPort"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_sandbox_fails(cases[i].spec, cases[i].what);
}

LEAK_CHECKED_TEST(cri_sandbox_config, labels_and_annotations)
{
        _cleanup_json_ cJSON *pod =
            json("{'metadata':{'name':'web','namespace':'ns','uid':'u-1',"
                 "'labels':{'app':'web','io.kubernetes.pod.name':'spoof','n':1},"
                 "'annotations':{'note':'x','io.berth/start-at':'2024-01-01T00:00:00Z'}},'spec':{}}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

        cr_assert_eq(c->n_labels, 5);
        cr_assert_str_eq(MAP(c, labels, "app"), "web");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_NAME), "web");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_NAMESPACE), "ns");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_UID), "u-1");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_INSTANCE), "berth");
        cr_assert_null(MAP(c, labels, "n"));
        cr_assert_eq(c->n_annotations, 2);
        cr_assert_str_eq(MAP(c, annotations, "note"), "x");
        cr_assert_null(MAP(c, annotations, "app"));
}

LEAK_CHECKED_TEST(cri_sandbox_config, namespace_options)
{
        static const struct {
                const char *spec;
                Runtime__V1__NamespaceMode network, pid, ipc;
        } cases[] = {
            {"", RUNTIME__V1__NAMESPACE_MODE__POD, RUNTIME__V1__NAMESPACE_MODE__CONTAINER,
             RUNTIME__V1__NAMESPACE_MODE__POD},
            {"'hostNetwork':true", RUNTIME__V1__NAMESPACE_MODE__NODE, RUNTIME__V1__NAMESPACE_MODE__CONTAINER,
             RUNTIME__V1__NAMESPACE_MODE__POD},
            {"'hostPID':true", RUNTIME__V1__NAMESPACE_MODE__POD, RUNTIME__V1__NAMESPACE_MODE__NODE,
             RUNTIME__V1__NAMESPACE_MODE__POD},
            {"'hostIPC':true", RUNTIME__V1__NAMESPACE_MODE__POD, RUNTIME__V1__NAMESPACE_MODE__CONTAINER,
             RUNTIME__V1__NAMESPACE_MODE__NODE},
            {"'shareProcessNamespace':true", RUNTIME__V1__NAMESPACE_MODE__POD,
             RUNTIME__V1__NAMESPACE_MODE__POD, RUNTIME__V1__NAMESPACE_MODE__POD},
            {"'shareProcessNamespace':false", RUNTIME__V1__NAMESPACE_MODE__POD,
             RUNTIME__V1__NAMESPACE_MODE__CONTAINER, RUNTIME__V1__NAMESPACE_MODE__POD},
            {"'hostPID':true,'shareProcessNamespace':true", RUNTIME__V1__NAMESPACE_MODE__POD,
             RUNTIME__V1__NAMESPACE_MODE__NODE, RUNTIME__V1__NAMESPACE_MODE__POD},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *pod = pod_spec(cases[i].spec);
                _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);
                Runtime__V1__NamespaceOption *ns = c->linux->security_context->namespace_options;

                cr_assert_not_null(ns, "%s", cases[i].spec);
                cr_assert_eq(ns->network, cases[i].network, "%s", cases[i].spec);
                cr_assert_eq(ns->pid, cases[i].pid, "%s", cases[i].spec);
                cr_assert_eq(ns->ipc, cases[i].ipc, "%s", cases[i].spec);
        }
}

LEAK_CHECKED_TEST(cri_sandbox_config, sysctls_and_cgroup_parent)
{
        _cleanup_json_ cJSON *pod =
            pod_spec("'securityContext':{'sysctls':[{'name':'net.ipv4.ip_unprivileged_port_start',"
                     "'value':'0'},{'name':'kernel.shm_rmid_forced','value':'1'}]}");
        CriSandboxParams p = {.pod = pod, .log_directory = LOGDIR, .cgroup_parent = "berth.slice"};
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = NULL;

        cr_assert_eq(cri_sandbox_config_new(&p, &c, NULL), 0);
        cr_assert_str_eq(c->linux->cgroup_parent, "berth.slice");
        cr_assert_eq(c->linux->n_sysctls, 2);
        cr_assert_str_eq(MAP(c->linux, sysctls, "net.ipv4.ip_unprivileged_port_start"), "0");
        cr_assert_str_eq(MAP(c->linux, sysctls, "kernel.shm_rmid_forced"), "1");
        /* no instance: no instance label */
        cr_assert_null(MAP(c, labels, CRI_LABEL_INSTANCE));
}

LEAK_CHECKED_TEST(cri_sandbox_config, security_context_users_and_groups)
{
        _cleanup_json_ cJSON *pod = pod_spec("'securityContext':{'runAsUser':1000,'runAsGroup':3000,'"
                                             "fsGroup':2000,'supplementalGroups':[4,5]}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);
        Runtime__V1__LinuxSandboxSecurityContext *sc = c->linux->security_context;

        cr_assert_not_null(sc->run_as_user);
        cr_assert_eq(sc->run_as_user->value, 1000);
        cr_assert_not_null(sc->run_as_group);
        cr_assert_eq(sc->run_as_group->value, 3000);
        cr_assert_eq(sc->n_supplemental_groups, 3);
        cr_assert_eq(sc->supplemental_groups[0], 2000);
        cr_assert_eq(sc->supplemental_groups[1], 4);
        cr_assert_eq(sc->supplemental_groups[2], 5);
}

LEAK_CHECKED_TEST(cri_sandbox_config, root_is_written_and_nothing_is_not)
{
        _cleanup_json_ cJSON *root = pod_spec("'securityContext':{'runAsUser':0}");
        _cleanup_json_ cJSON *none = pod_spec("'securityContext':{}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *a = sandbox_of(root, NULL);
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *b = sandbox_of(none, NULL);

        cr_assert_not_null(a->linux->security_context->run_as_user);
        cr_assert_eq(a->linux->security_context->run_as_user->value, 0);
        cr_assert_null(b->linux->security_context->run_as_user);
        cr_assert_null(b->linux->security_context->run_as_group);
}

LEAK_CHECKED_TEST(cri_sandbox_config, privileged_anywhere_makes_the_sandbox_privileged)
{
        static const struct {
                const char *spec;
                bool privileged;
        } cases[] = {
            {"'containers':[{'name':'a'}]", false},
            {"'containers':[{'name':'a','securityContext':{'privileged':false}}]", false},
            {"'containers':[{'name':'a'},{'name':'b','securityContext':{'privileged':true}}]", true},
            {"'initContainers':[{'name':'i','securityContext':{'privileged':true}}],'containers':[{'name':'"
             "a'}]",
             true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *pod = pod_spec(cases[i].spec);
                _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

                cr_assert_eq(c->linux->security_context->privileged, cases[i].privileged, "%s",
                             cases[i].spec);
        }
}

LEAK_CHECKED_TEST(cri_sandbox_config, sandbox_seccomp_is_always_runtime_default)
{
        _cleanup_json_ cJSON *pod = pod_spec("'securityContext':{'seccompProfile':{'type':'Unconfined'}}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

        cr_assert_not_null(c->linux->security_context->seccomp);
        cr_assert_eq(c->linux->security_context->seccomp->profile_type,
                     RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault);
}

/* --- containers --- */

typedef struct Fixture {
        cJSON *pod;
        char *argv[5];
        char *env[5];
        RuntimeContainerConfig cfg;
        CriContainerParams p;
} Fixture;

static void fixture_done(Fixture *f)
{
        cJSON_Delete(f->pod);
}

/* The first container of a pod of the given spec fields, as pod-spec.c would configure it. */
static void fixture_init(Fixture *f, const char *spec_fields)
{
        *f = (Fixture){.argv = {"sh", "-c", "echo hi", NULL}, .env = {"PATH=/bin", "A=b=c", "E=", NULL}};
        f->pod = pod_spec(spec_fields);
        f->cfg = (RuntimeContainerConfig){
            .pod_uid = "u-1",
            .pod_name = "web",
            .pod_namespace = "ns",
            .container_name = "c",
            .attempt = 3,
            .image = "busybox",
            .argv = f->argv,
            .n_command = 1,
            .env = f->env,
            .log_path = LOGDIR "/c/3.log",
            .pod = f->pod,
            .container = cJSON_GetArrayItem(json_path(f->pod, "spec.containers"), 0),
        };
        cr_assert_not_null(f->cfg.container, "no container in %s", spec_fields);
        f->p = (CriContainerParams){
            .cfg = &f->cfg, .log_directory = LOGDIR, .instance = "berth", .seccomp_root = SECCOMP_ROOT};
}

#define _cleanup_fixture_ _cleanup_(fixture_done)

static Runtime__V1__ContainerConfig *container_of(Fixture *f)
{
        Runtime__V1__ContainerConfig *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r = cri_container_config_new(&f->p, &c, &error);

        cr_assert_eq(r, 0, "%d: %s", r, error ?: "");
        cr_assert_not_null(c);
        return c;
}

static void assert_container_fails(Fixture *f, const char *what)
{
        Runtime__V1__ContainerConfig *c = NULL;
        _cleanup_free_ char *error = NULL;

        cr_assert_eq(cri_container_config_new(&f->p, &c, &error), -EINVAL);
        cr_assert_null(c);
        cr_assert_not_null(error);
        cr_assert_not_null(strstr(error, what), "'%s' not in '%s'", what, error);
}

#define ONE_CONTAINER "'containers':[{'name':'c','image':'busybox'}]"

LEAK_CHECKED_TEST(cri_container_config, metadata_image_and_working_dir)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f, ONE_CONTAINER);
        f.p.image = "docker.io/library/busybox:latest";
        f.cfg.working_dir = "/srv";
        c = container_of(&f);
        cr_assert_str_eq(c->metadata->name, "c");
        cr_assert_eq(c->metadata->attempt, 3);
        cr_assert_str_eq(c->image->image, "docker.io/library/busybox:latest");
        cr_assert_str_eq(c->image->user_specified_image, "busybox");
        cr_assert_str_eq(c->working_dir, "/srv");
}

LEAK_CHECKED_TEST(cri_container_config, command_and_args_split_by_n_command)
{
        static const struct {
                size_t n_command, want_command, want_args;
        } cases[] = {
            {0, 0, 3}, /* the image's entrypoint with argv as its args */
            {1, 1, 2},
            {3, 3, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

                fixture_init(&f, ONE_CONTAINER);
                f.cfg.n_command = cases[i].n_command;
                c = container_of(&f);
                cr_assert_eq(c->n_command, cases[i].want_command, "case %zu", i);
                cr_assert_eq(c->n_args, cases[i].want_args, "case %zu", i);
                for (size_t k = 0; k < c->n_command; k++)
                        cr_assert_str_eq(c->command[k], f.argv[k]);
                for (size_t k = 0; k < c->n_args; k++)
                        cr_assert_str_eq(c->args[k], f.argv[c->n_command + k]);
        }
}

LEAK_CHECKED_TEST(cri_container_config, a_command_longer_than_argv_is_refused)
{
        _cleanup_fixture_ Fixture f;

        fixture_init(&f, ONE_CONTAINER);
        f.cfg.n_command = 4;
        assert_container_fails(&f, "a command of 4 words in an argv of 3");
}

LEAK_CHECKED_TEST(cri_container_config, envs_split_at_the_first_equals)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f, ONE_CONTAINER);
        c = container_of(&f);
        cr_assert_eq(c->n_envs, 3);
        cr_assert_str_eq(c->envs[0]->key, "PATH");
        cr_assert_str_eq(c->envs[0]->value, "/bin");
        cr_assert_str_eq(c->envs[1]->key, "A");
        cr_assert_str_eq(c->envs[1]->value, "b=c");
        cr_assert_str_eq(c->envs[2]->key, "E");
        cr_assert_str_eq(c->envs[2]->value, "");
}

LEAK_CHECKED_TEST(cri_container_config, mounts_and_propagation)
{
        static const RuntimeMount mounts[] = {
            {.host_path = "/var/lib/berth/v/a", .container_path = "/data"},
            {.host_path = "/etc/hosts", .container_path = "/etc/hosts", .read_only = true},
            {.host_path = "/mnt",
             .container_path = "/mnt",
             .propagation = RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER},
            {.host_path = "/run/x",
             .container_path = "/x",
             .propagation = RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL},
        };
        static const Runtime__V1__MountPropagation want[] = {
            RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE,
            RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE,
            RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER,
            RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL,
        };
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f, ONE_CONTAINER);
        f.cfg.mounts = mounts;
        f.cfg.n_mounts = ELEMENTSOF(mounts);
        c = container_of(&f);
        cr_assert_eq(c->n_mounts, ELEMENTSOF(mounts));
        for (size_t i = 0; i < ELEMENTSOF(mounts); i++) {
                cr_assert_str_eq(c->mounts[i]->host_path, mounts[i].host_path);
                cr_assert_str_eq(c->mounts[i]->container_path, mounts[i].container_path);
                cr_assert_eq(c->mounts[i]->readonly, mounts[i].read_only);
                cr_assert_eq(c->mounts[i]->propagation, want[i], "mount %zu", i);
        }
        cr_assert_eq(c->n_devices, 0);
}

LEAK_CHECKED_TEST(cri_container_config, labels_and_annotations)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f,
                     "'terminationGracePeriodSeconds':45,'containers':[{'name':'c',"
                     "'terminationMessagePath':'/dev/termination-log','terminationMessagePolicy':'File'}]");
        c = container_of(&f);
        cr_assert_eq(c->n_labels, 5);
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_CONTAINER_NAME), "c");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_NAME), "web");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_NAMESPACE), "ns");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_POD_UID), "u-1");
        cr_assert_str_eq(MAP(c, labels, CRI_LABEL_INSTANCE), "berth");
        cr_assert_str_eq(MAP(c, annotations, CRI_ANNOTATION_RESTART_COUNT), "3");
        cr_assert_str_eq(MAP(c, annotations, CRI_ANNOTATION_TERMINATION_MESSAGE_PATH),
                         "/dev/termination-log");
        cr_assert_str_eq(MAP(c, annotations, CRI_ANNOTATION_TERMINATION_MESSAGE_POLICY), "File");
        cr_assert_str_eq(MAP(c, annotations, CRI_ANNOTATION_TERMINATION_GRACE), "45");
}

LEAK_CHECKED_TEST(cri_container_config, termination_grace_defaults_to_30)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f, ONE_CONTAINER);
        c = container_of(&f);
        cr_assert_str_eq(MAP(c, annotations, CRI_ANNOTATION_TERMINATION_GRACE), "30");
        cr_assert_null(MAP(c, annotations, CRI_ANNOTATION_TERMINATION_MESSAGE_PATH));
}

LEAK_CHECKED_TEST(cri_container_config, log_path_is_relative_to_the_log_directory)
{
        static const struct {
                const char *dir, *path, *want;
        } cases[] = {
            {LOGDIR, LOGDIR "/c/3.log", "c/3.log"},
            {LOGDIR "/", LOGDIR "/c/3.log", "c/3.log"},
            {"/", "/c/0.log", "c/0.log"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

                fixture_init(&f, ONE_CONTAINER);
                f.p.log_directory = cases[i].dir;
                f.cfg.log_path = cases[i].path;
                c = container_of(&f);
                cr_assert_str_eq(c->log_path, cases[i].want);
        }
}

LEAK_CHECKED_TEST(cri_container_config, a_log_path_outside_the_log_directory_is_refused)
{
        static const char *const paths[] = {
            "/tmp/c/3.log", LOGDIR "2/c/3.log", /* a sibling whose name starts like the directory */
            LOGDIR,         LOGDIR "/../other/c/3.log", "c/3.log",
        };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_fixture_ Fixture f;

                fixture_init(&f, ONE_CONTAINER);
                f.cfg.log_path = paths[i];
                assert_container_fails(&f, "is not below the pod's log directory");
        }
}

LEAK_CHECKED_TEST(cri_container_config, cpu_shares_and_quota)
{
        static const struct {
                int64_t limit, request, quota, shares;
        } cases[] = {
            {250, 250, 25000, 256},  {0, 0, 0, 2}, /* MilliCPUToShares(0) */
            {0, 100, 0, 102},        {2000, 1000, 200000, 1024},
            {5, 1, 1000, 2}, /* the minimum quota and shares */
            {0, 1000000, 0, 262144},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

                fixture_init(&f, ONE_CONTAINER);
                f.cfg.cpu_limit_milli = cases[i].limit;
                f.cfg.cpu_request_milli = cases[i].request;
                c = container_of(&f);
                cr_assert_eq(c->linux->resources->cpu_period, 100000);
                cr_assert_eq(c->linux->resources->cpu_quota, cases[i].quota, "case %zu", i);
                cr_assert_eq(c->linux->resources->cpu_shares, cases[i].shares, "case %zu", i);
        }
}

LEAK_CHECKED_TEST(cri_container_config, memory_limit)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f, ONE_CONTAINER);
        f.cfg.memory_limit_bytes = 64 << 20;
        c = container_of(&f);
        cr_assert_eq(c->linux->resources->memory_limit_in_bytes, 64 << 20);
}

LEAK_CHECKED_TEST(cri_container_config, oom_score_adj_by_qos_class)
{
        static const struct {
                const char *spec;
                int64_t want;
        } cases[] = {
            /* Guaranteed: equal quantities, written differently */
            {"'containers':[{'name':'c','resources':{'limits':{'cpu':'1','memory':'64Mi'},"
             "'requests':{'cpu':'1000m','memory':'67108864'}}}]",
             -997},
            /* limits alone are the requests too */
            {"'containers':[{'name':'c','resources':{'limits':{'cpu':'250m','memory':'64Mi'}}},"
             "{'name':'d','resources':{'limits':{'cpu':0.5,'memory':'1Gi'}}}]",
             -997},
            {"'containers':[{'name':'c','resources':{'requests':{'cpu':'250m'}}}]", 999},
            {"'containers':[{'name':'c','resources':{'limits':{'cpu':'1','memory':'64Mi'},"
             "'requests':{'cpu':'500m','memory':'64Mi'}}}]",
             999},
            /* an init container without limits makes the pod Burstable */
            {"'initContainers':[{'name':'i','resources':{'requests':{'memory':'1Mi'}}}],"
             "'containers':[{'name':'c','resources':{'limits':{'cpu':'1','memory':'64Mi'}}}]",
             999},
            {"'containers':[{'name':'c'},{'name':'d','resources':{}}]", 1000},
            /* zero quantities and other resources do not count */
            {"'containers':[{'name':'c','resources':{'requests':{'cpu':'0','ephemeral-storage':'1Gi'}}}]",
             1000},
            /* a node-critical pod is killed last whatever its class */
            {"'priorityClassName':'system-node-critical','priority':2000001000,'containers':[{'name':'c'}]",
             -997},
            {"'priorityClassName':'system-node-critical','containers':[{'name':'c'}]", 1000},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

                fixture_init(&f, cases[i].spec);
                c = container_of(&f);
                cr_assert_eq(c->linux->resources->oom_score_adj, cases[i].want, "%s: %" PRId64,
                             cases[i].spec, c->linux->resources->oom_score_adj);
        }
}

LEAK_CHECKED_TEST(cri_container_config, a_resource_that_is_no_quantity_is_refused)
{
        _cleanup_fixture_ Fixture f;

        fixture_init(&f, "'containers':[{'name':'c','resources':{'limits':{'memory':'lots'}}}]");
        assert_container_fails(&f, "not quantities");
}

LEAK_CHECKED_TEST(cri_container_config, capabilities_readonly_rootfs_and_no_new_privs)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;
        Runtime__V1__LinuxContainerSecurityContext *sc;

        fixture_init(
            &f,
            "'containers':[{'name':'c','securityContext':{'capabilities':{'add':['NET_ADMIN','SYS_TIME'],"
            "'drop':['ALL']},'readOnlyRootFilesystem':true,'allowPrivilegeEscalation':false}}]");
        c = container_of(&f);
        sc = c->linux->security_context;
        cr_assert_not_null(sc->capabilities);
        cr_assert_eq(sc->capabilities->n_add_capabilities, 2);
        cr_assert_str_eq(sc->capabilities->add_capabilities[0], "NET_ADMIN");
        cr_assert_str_eq(sc->capabilities->add_capabilities[1], "SYS_TIME");
        cr_assert_eq(sc->capabilities->n_drop_capabilities, 1);
        cr_assert_str_eq(sc->capabilities->drop_capabilities[0], "ALL");
        cr_assert(sc->readonly_rootfs);
        cr_assert(sc->no_new_privs);
        cr_assert_not(sc->privileged);
}

LEAK_CHECKED_TEST(cri_container_config, no_new_privs_only_when_escalation_is_forbidden)
{
        static const struct {
                const char *spec;
                bool want;
        } cases[] = {
            {ONE_CONTAINER, false},
            {"'containers':[{'name':'c','securityContext':{'allowPrivilegeEscalation':true}}]", false},
            {"'containers':[{'name':'c','securityContext':{'allowPrivilegeEscalation':false}}]", true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

                fixture_init(&f, cases[i].spec);
                f.cfg.no_new_privs = true; /* the host backend's default is not the kubelet's */
                c = container_of(&f);
                cr_assert_eq(c->linux->security_context->no_new_privs, cases[i].want, "%s", cases[i].spec);
                cr_assert_null(c->linux->security_context->capabilities);
        }
}

LEAK_CHECKED_TEST(cri_container_config, users_groups_and_namespaces)
{
        static gid_t gids[] = {4, 5};
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;
        Runtime__V1__LinuxContainerSecurityContext *sc;

        fixture_init(&f, "'hostPID':true,'securityContext':{'runAsGroup':3000,'fsGroup':2000},"
                         "'containers':[{'name':'c','securityContext':{'runAsUser':1000}}]");
        f.cfg.set_uid = f.cfg.set_gid = true;
        f.cfg.uid = 1000;
        f.cfg.gid = 3000;
        f.cfg.supplementary_gids = gids;
        f.cfg.n_supplementary_gids = ELEMENTSOF(gids);
        c = container_of(&f);
        sc = c->linux->security_context;
        cr_assert_eq(sc->run_as_user->value, 1000);
        cr_assert_eq(sc->run_as_group->value, 3000);
        cr_assert_eq(sc->n_supplemental_groups, 3);
        cr_assert_eq(sc->supplemental_groups[0], 2000);
        cr_assert_eq(sc->supplemental_groups[1], 4);
        cr_assert_eq(sc->supplemental_groups[2], 5);
        cr_assert_eq(sc->namespace_options->pid, RUNTIME__V1__NAMESPACE_MODE__NODE);
        cr_assert_eq(sc->namespace_options->network, RUNTIME__V1__NAMESPACE_MODE__POD);
}

LEAK_CHECKED_TEST(cri_container_config, the_hosts_fallback_group_is_not_sent)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;

        fixture_init(&f, "'containers':[{'name':'c','securityContext':{'runAsUser':0}}]");
        /* pod-spec.c's gid = uid when runAsGroup is not written */
        f.cfg.set_uid = f.cfg.set_gid = true;
        c = container_of(&f);
        cr_assert_not_null(c->linux->security_context->run_as_user);
        cr_assert_eq(c->linux->security_context->run_as_user->value, 0);
        cr_assert_null(c->linux->security_context->run_as_group);
}

LEAK_CHECKED_TEST(cri_container_config, seccomp_profiles)
{
        static const struct {
                const char *spec;
                bool runtime_default;
                Runtime__V1__SecurityProfile__ProfileType want;
                const char *ref;
        } cases[] = {
            {"'containers':[{'name':'c','securityContext':{'seccompProfile':{'type':'RuntimeDefault'}}}]",
             false, RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault, ""},
            {"'securityContext':{'seccompProfile':{'type':'Unconfined'}}," ONE_CONTAINER, true,
             RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined, ""},
            /* the container's profile wins over the pod's */
            {"'securityContext':{'seccompProfile':{'type':'Unconfined'}},'containers':[{'name':'c',"
             "'securityContext':{'seccompProfile':{'type':'Localhost','localhostProfile':'profiles/"
             "a.json'}}}]",
             false, RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost, SECCOMP_ROOT "/profiles/a.json"},
            {"'securityContext':{'seccompProfile':{'type':'Localhost','localhostProfile':'b.json'}}"
             "," ONE_CONTAINER,
             false, RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost, SECCOMP_ROOT "/b.json"},
            /* none written: the agent's default */
            {ONE_CONTAINER, true, RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault, ""},
            {ONE_CONTAINER, false, RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined, ""},
            /* privileged: unconfined whatever is written */
            {"'containers':[{'name':'c','securityContext':{'privileged':true,"
             "'seccompProfile':{'type':'RuntimeDefault'}}}]",
             true, RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;
                Runtime__V1__SecurityProfile *sp;

                fixture_init(&f, cases[i].spec);
                f.cfg.seccomp_runtime_default = cases[i].runtime_default;
                c = container_of(&f);
                sp = c->linux->security_context->seccomp;
                cr_assert_not_null(sp, "%s", cases[i].spec);
                cr_assert_eq(sp->profile_type, cases[i].want, "%s", cases[i].spec);
                cr_assert_str_eq(sp->localhost_ref, cases[i].ref, "%s", cases[i].spec);
        }
}

LEAK_CHECKED_TEST(cri_container_config, bad_localhost_profiles_are_refused)
{
        static const struct {
                const char *profile, *what;
        } cases[] = {
            {"{'type':'Localhost'}", "localhostProfile: Required value"},
            {"{'type':'Localhost','localhostProfile':'/etc/a.json'}", "must be a relative path"},
            {"{'type':'Localhost','localhostProfile':'../a.json'}", "must be a relative path"},
            {"{'type':'Localhost','localhostProfile':'x/../../a.json'}", "must be a relative path"},
            {"{'type':'Strict'}", "seccompProfile.type: Unsupported value: \"Strict\""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_free_ char *spec = strjoin(
                    "'containers':[{'name':'c','securityContext':{'seccompProfile':", cases[i].profile,
                    "}}]", NULL);

                fixture_init(&f, spec);
                assert_container_fails(&f, cases[i].what);
        }
}

LEAK_CHECKED_TEST(cri_container_config, a_localhost_profile_needs_a_root)
{
        _cleanup_fixture_ Fixture f;

        fixture_init(&f, "'containers':[{'name':'c','securityContext':{'seccompProfile':{'type':'Localhost',"
                         "'localhostProfile':'a..b.json'}}}]");
        f.p.seccomp_root = NULL;
        assert_container_fails(&f, "no seccomp profile root");
}

LEAK_CHECKED_TEST(cri_container_config, masked_and_readonly_paths)
{
        static const struct {
                const char *spec;
                size_t masked, readonly;
        } cases[] = {
            {ONE_CONTAINER, 11, 5},
            {"'containers':[{'name':'c','securityContext':{'procMount':'Default'}}]", 11, 5},
            {"'containers':[{'name':'c','securityContext':{'procMount':'Unmasked'}}]", 0, 0},
            {"'containers':[{'name':'c','securityContext':{'privileged':true}}]", 0, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_fixture_ Fixture f;
                _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;
                Runtime__V1__LinuxContainerSecurityContext *sc;
                bool kcore = false, sys = false;

                fixture_init(&f, cases[i].spec);
                c = container_of(&f);
                sc = c->linux->security_context;
                cr_assert_eq(sc->n_masked_paths, cases[i].masked, "%s", cases[i].spec);
                cr_assert_eq(sc->n_readonly_paths, cases[i].readonly, "%s", cases[i].spec);
                for (size_t k = 0; k < sc->n_masked_paths; k++)
                        kcore = kcore || streq(sc->masked_paths[k], "/proc/kcore");
                for (size_t k = 0; k < sc->n_readonly_paths; k++)
                        sys = sys || streq(sc->readonly_paths[k], "/proc/sys");
                cr_assert_eq(kcore, cases[i].masked > 0);
                cr_assert_eq(sys, cases[i].readonly > 0);
                cr_assert_eq(sc->privileged,
                             cases[i].masked == 0 && strstr(cases[i].spec, "privileged") != NULL);
        }
}

LEAK_CHECKED_TEST(cri_container_config, refuses_a_config_without_its_pod)
{
        _cleanup_fixture_ Fixture f;

        fixture_init(&f, ONE_CONTAINER);
        f.cfg.pod = NULL;
        assert_container_fails(&f, "no pod");
}

LEAK_CHECKED_TEST(cri_container_config, the_tree_packs_into_a_create_request)
{
        _cleanup_fixture_ Fixture f;
        _cleanup_container_ Runtime__V1__ContainerConfig *c = NULL;
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *s = NULL;
        Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT, *back;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;

        fixture_init(&f, ONE_CONTAINER);
        c = container_of(&f);
        s = sandbox_of(f.pod, NULL);
        req.pod_sandbox_id = "sb";
        req.config = c;
        req.sandbox_config = s;
        size = runtime__v1__create_container_request__get_packed_size(&req);
        buf = malloc(size);
        cr_assert_not_null(buf);
        cr_assert_eq(runtime__v1__create_container_request__pack(&req, buf), size);
        back = runtime__v1__create_container_request__unpack(NULL, size, buf);
        cr_assert_not_null(back);
        cr_assert_str_eq(back->config->log_path, "c/3.log");
        cr_assert_str_eq(MAP(back->sandbox_config, labels, CRI_LABEL_POD_UID), "u-1");
        runtime__v1__create_container_request__free_unpacked(back, NULL);
}

LEAK_CHECKED_TEST(cri_config, map_get_on_a_generated_map)
{
        _cleanup_json_ cJSON *pod = json("{'metadata':{'name':'web','namespace':'ns','uid':'u-1',"
                                         "'labels':{'a':'1','b':''}},'spec':{}}");
        _cleanup_sandbox_ Runtime__V1__PodSandboxConfig *c = sandbox_of(pod, NULL);

        cr_assert_str_eq(cri_map_get((void *const *)c->labels, c->n_labels, "a"), "1");
        cr_assert_str_eq(cri_map_get((void *const *)c->labels, c->n_labels, "b"), "");
        cr_assert_null(cri_map_get((void *const *)c->labels, c->n_labels, "c"));
        cr_assert_null(cri_map_get(NULL, 0, "a"));
        cri_config_free(NULL);
}
