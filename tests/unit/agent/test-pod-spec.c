#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "pod-spec.h"

static char *env3[] = {"A=1", "B=two", "A=3", NULL};

Test(pod_spec, expands_defined_variables_and_keeps_undefined_ones)
{
        char *s = expand_vars("x$(B)y $(C) $(A)", env3, 3);

        cr_assert_str_eq(s, "xtwoy $(C) 3");
        free(s);
}

Test(pod_spec, treats_double_dollar_as_an_escape)
{
        char *s = expand_vars("$$(B) $$ $x $(", env3, 3);

        cr_assert_str_eq(s, "$(B) $ $x $(");
        free(s);
}

static cJSON *load_pod(const char *json)
{
        cJSON *p = cJSON_Parse(json);

        cr_assert_not_null(p);
        return p;
}

Test(pod_spec, builds_argv_env_and_security_from_the_container)
{
        _cleanup_json_ cJSON *pod = load_pod(
            "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"u-1\",\"labels\":{\"app\":\"a\"}"
            "},"
            "\"spec\":{\"securityContext\":{\"runAsUser\":1000,\"supplementalGroups\":[4,27]},"
            "\"containers\":[{\"name\":\"c\",\"image\":"
            "\"i\","
            "\"command\":[\"/bin/echo\",\"$(NAME)\"],\"args\":[\"$(APP)-$(MISSING)\"],"
            "\"env\":[{\"name\":\"NAME\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
            "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}}},"
            "{\"name\":\"BOTH\",\"value\":\"$(NAME)/$(APP)\"}],"
            "\"resources\":{\"limits\":{\"memory\":\"64Mi\",\"cpu\":\"500m\"}},"
            "\"securityContext\":{\"runAsGroup\":2000}}]}}");
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/var/log/pods"};
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 2, &l, &err), 0);
        cr_assert_str_eq(l.argv[0], "/bin/echo");
        cr_assert_str_eq(l.argv[1], "web");
        cr_assert_str_eq(l.argv[2], "a-$(MISSING)");
        cr_assert_null(l.argv[3]);
        cr_assert_str_eq(l.env[2], "BOTH=web/a");
        cr_assert(l.config.set_uid && l.config.uid == 1000);
        cr_assert(l.config.set_gid && l.config.gid == 2000);
        cr_assert_eq(l.config.n_supplementary_gids, 2);
        cr_assert(l.config.supplementary_gids[0] == 4 && l.config.supplementary_gids[1] == 27);
        cr_assert_eq(l.config.memory_limit_bytes, 64 * 1024 * 1024);
        cr_assert_eq(l.config.cpu_limit_milli, 500);
        cr_assert(l.config.no_new_privs);
        cr_assert_not(l.config.seccomp_runtime_default);
        cr_assert_str_eq(l.config.log_path, "/var/log/pods/ns_web_u-1/c/2.log");
        container_launch_done(&l);
}

Test(pod_spec, refuses_a_container_without_command_on_the_host_runtime)
{
        _cleanup_json_ cJSON *pod =
            load_pod("{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},"
                     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}");
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l"};
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err),
            -EINVAL);
        cr_assert_not_null(strstr(err, "has no command"));
        free(err);
}

Test(pod_spec, reports_a_missing_configmap_unless_optional)
{
        _cleanup_json_ cJSON *pod =
            load_pod("{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{\"containers\":[{\"name\":"
                     "\"c\",\"image\":\"i\","
                     "\"command\":[\"true\"],\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":"
                     "{\"name\":\"cm\",\"key\":\"k\"}}},{\"name\":\"Y\",\"valueFrom\":{\"secretKeyRef\":"
                     "{\"name\":\"s\",\"key\":\"k\",\"optional\":true}}}]}]}}");
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l"};
        cJSON *env = json_path(pod, "spec.containers")->child->child;
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err),
            -EINVAL);
        cr_assert_str_eq(err, "configmap \"cm\" not found");
        free(err);
        (void)env;
        /* with the first reference optional too, the container starts without both */
        cJSON_AddTrueToObject(
            json_path(json_path(pod, "spec.containers")->child, "env")->child->child->next->child,
            "optional");
        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err), 0);
        for (char **e = l.env; *e; e++)
                cr_assert(strncmp(*e, "X=", 2) != 0 && strncmp(*e, "Y=", 2) != 0);
        container_launch_done(&l);
}

Test(pod_spec, takes_the_start_time_from_the_pod_annotation)
{
        _cleanup_json_ cJSON *pod = load_pod(
            "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"annotations\":{\"berth.dev/start-at\":"
            "\"2026-11-21T20:00:00.250Z\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\","
            "\"command\":[\"true\"]}]}}");
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l"};
        ContainerLaunch l;
        char *err = NULL;
        usec_t want;

        cr_assert_eq(parse_rfc3339("2026-11-21T20:00:00.250Z", &want), 0);
        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err), 0);
        cr_assert_eq(l.config.start_at, want);
        container_launch_done(&l);
}

Test(pod_spec, resolves_label_and_annotation_keys_with_dots)
{
        _cleanup_json_ cJSON *pod = load_pod(
            "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"batch.kubernetes.io/"
            "job-completion-index\":"
            "\"2\"},\"annotations\":{\"a.b/"
            "c\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\","
            "\"command\":[\"true\"],\"env\":[{\"name\":\"I\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
            "\"metadata.labels['batch.kubernetes.io/"
            "job-completion-index']\"}}},{\"name\":\"A\",\"valueFrom\":"
            "{\"fieldRef\":{\"fieldPath\":\"metadata.annotations['a.b/c']\"}}}]}]}}");
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l"};
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err), 0);
        cr_assert_str_eq(l.env[0], "I=2");
        cr_assert_str_eq(l.env[1], "A=x");
        container_launch_done(&l);
}

static cJSON *mount_pod(const char *volume_mounts, const char *security)
{
        _cleanup_free_ char *json = NULL;

        cr_assert(
            asprintf(&json,
                     "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{\"containers\":[{\"name\":"
                     "\"c\",\"image\":\"i\",\"command\":[\"true\"],\"volumeMounts\":%s%s}]}}",
                     volume_mounts, security) >= 0);
        return load_pod(json);
}

Test(pod_spec, builds_mounts_from_volume_mounts_in_order)
{
        _cleanup_json_ cJSON *pod =
            mount_pod("[{\"name\":\"data\",\"mountPath\":\"/data\"},"
                      "{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\",\"readOnly\":true,\"mountPropagation\":"
                      "\"HostToContainer\"},{\"name\":\"data\",\"mountPath\":\"/"
                      "other\",\"mountPropagation\":\"None\"}]",
                      "");
        PodVolumeHostPath vols[] = {{"cfg", "/state/pods/u/volumes/kubernetes.io~configmap/cfg"},
                                    {"data", "/srv/data"}};
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l", .volumes = vols, .n_volumes = 2};
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err), 0);
        cr_assert_eq(l.config.n_mounts, 3);
        cr_assert_str_eq(l.config.mounts[0].host_path, "/srv/data");
        cr_assert_str_eq(l.config.mounts[0].container_path, "/data");
        cr_assert_not(l.config.mounts[0].read_only);
        cr_assert_eq(l.config.mounts[0].propagation, RUNTIME_MOUNT_PROPAGATION_PRIVATE);
        cr_assert_str_eq(l.config.mounts[1].host_path, vols[0].host_path);
        cr_assert(l.config.mounts[1].read_only);
        cr_assert_eq(l.config.mounts[1].propagation, RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER);
        cr_assert_str_eq(l.config.mounts[2].container_path, "/other");
        container_launch_done(&l);
}

Test(pod_spec, refuses_a_mount_of_an_unknown_volume)
{
        _cleanup_json_ cJSON *pod = mount_pod("[{\"name\":\"nope\",\"mountPath\":\"/x\"}]", "");
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l"};
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err),
            -EINVAL);
        cr_assert_str_eq(err, "cannot find volume \"nope\" to mount into container \"c\"");
        cr_assert_null(l.mounts);
        free(err);
}

Test(pod_spec, allows_bidirectional_propagation_only_to_privileged_containers)
{
        _cleanup_json_ cJSON *pod =
            mount_pod("[{\"name\":\"v\",\"mountPath\":\"/x\",\"mountPropagation\":\"Bidirectional\"}]", "");
        _cleanup_json_ cJSON *priv =
            mount_pod("[{\"name\":\"v\",\"mountPath\":\"/x\",\"mountPropagation\":\"Bidirectional\"}]",
                      ",\"securityContext\":{\"privileged\":true}");
        PodVolumeHostPath vols[] = {{"v", "/srv/v"}};
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l", .volumes = vols, .n_volumes = 1};
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err),
            -EINVAL);
        cr_assert_not_null(strstr(err, "only to privileged containers"));
        free(err);
        cr_assert_eq(
            container_launch_build(&ctx, priv, json_path(priv, "spec.containers")->child, 0, &l, &err), 0);
        cr_assert_eq(l.config.mounts[0].propagation, RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL);
        container_launch_done(&l);
}

Test(pod_spec, resolves_a_sub_path_below_its_volume_and_refuses_an_escape)
{
        char root[] = "/tmp/test-pod-spec.XXXXXX";
        _cleanup_free_ char *link = NULL, *want = NULL;
        _cleanup_json_ cJSON *pod =
            mount_pod("[{\"name\":\"v\",\"mountPath\":\"/x\",\"subPath\":\"a/b\"}]", "");
        _cleanup_json_ cJSON *escape =
            mount_pod("[{\"name\":\"v\",\"mountPath\":\"/x\",\"subPath\":\"out/etc\"}]", "");
        ContainerLaunch l;
        char *err = NULL;

        cr_assert_not_null(mkdtemp(root));
        PodVolumeHostPath vols[] = {{"v", root}};
        PodSpecContext ctx = {.node_name = "n1", .log_dir = "/l", .volumes = vols, .n_volumes = 1};
        cr_assert(asprintf(&link, "%s/out", root) >= 0 && asprintf(&want, "%s/a/b", root) >= 0);
        cr_assert_eq(symlink("/", link), 0);

        cr_assert_eq(
            container_launch_build(&ctx, pod, json_path(pod, "spec.containers")->child, 0, &l, &err), 0);
        cr_assert_str_eq(l.config.mounts[0].host_path, want);
        cr_assert_eq(access(want, F_OK), 0, "the subPath directory was created");
        container_launch_done(&l);

        cr_assert_eq(
            container_launch_build(&ctx, escape, json_path(escape, "spec.containers")->child, 0, &l, &err),
            -EINVAL);
        cr_assert_not_null(strstr(err, "failed to prepare subPath for volumeMount \"v\" of container \"c\""),
                           "%s", err);
        free(err);
        cr_assert_eq(rm_rf(root), 0);
}
