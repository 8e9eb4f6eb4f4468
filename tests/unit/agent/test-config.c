#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "util.h"

static char *write_tmp(const char *content)
{
        char *path = strdup("/tmp/berth-config-XXXXXX");
        int fd = mkstemp(path);

        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        close(fd);
        return path;
}

Test(config, has_the_documented_defaults)
{
        Config c;

        cr_assert_eq(config_init(&c), 0);
        cr_assert_str_eq(c.state_dir, "/var/lib/berth");
        cr_assert_str_eq(c.manifests_dir, "/etc/berth/manifests.d");
        cr_assert_str_eq(c.socket_path, "/run/berth/berth.sock");
        cr_assert_str_eq(c.runtime_type, "host");
        cr_assert_str_eq(c.coordinator_type, "local");
        config_done(&c);
}

Test(config, loads_yaml_over_the_defaults)
{
        _cleanup_free_ char *path =
            write_tmp("nodeName: n1\nlabels:\n  zone: a\nruntime:\n  type: cri\n"
                      "  endpoint: unix:///run/containerd/containerd.sock\n"
                      "coordinator: {type: etcd, endpoints: [\"http://127.0.0.1:2379\"]}\n");
        char *err = NULL;
        Config c;

        cr_assert_eq(config_init(&c), 0);
        cr_assert_eq(config_load(&c, path, false, &err), 0, "%s", err ?: "");
        cr_assert_eq(config_check(&c, &err), 0);
        cr_assert_str_eq(c.node_name, "n1");
        cr_assert_str_eq(c.runtime_type, "cri");
        cr_assert_str_eq(c.coordinator_type, "etcd");
        cr_assert_str_eq(cJSON_GetObjectItem(c.labels, "zone")->valuestring, "a");
        config_done(&c);
        unlink(path);
}

Test(config, names_the_bad_field)
{
        _cleanup_free_ char *p1 = write_tmp("runtime:\n  type: docker\n"), *p2 = write_tmp("nodeNmae: x\n"),
                            *p3 = write_tmp("labels: [a]\n");
        char *err = NULL;
        Config c;

        cr_assert_eq(config_init(&c), 0);
        cr_assert_eq(config_load(&c, p1, false, &err), 0);
        cr_assert_eq(config_check(&c, &err), -EINVAL);
        cr_assert_not_null(strstr(err, "runtime.type: Unsupported value: \"docker\""), "%s", err);
        free(err);
        err = NULL;
        cr_assert_eq(config_load(&c, p2, false, &err), -EINVAL);
        cr_assert_not_null(strstr(err, "nodeNmae: Unknown field"), "%s", err);
        free(err);
        err = NULL;
        cr_assert_eq(config_load(&c, p3, false, &err), -EINVAL);
        cr_assert_not_null(strstr(err, "labels: Invalid value"), "%s", err);
        free(err);
        config_done(&c);
        unlink(p1);
        unlink(p2);
        unlink(p3);
}

Test(config, accepts_a_missing_default_file_but_not_a_missing_given_one)
{
        char *err = NULL;
        Config c;

        cr_assert_eq(config_init(&c), 0);
        cr_assert_eq(config_load(&c, "/nonexistent/berth.yaml", true, &err), 0);
        cr_assert_eq(config_load(&c, "/nonexistent/berth.yaml", false, &err), -ENOENT);
        cr_assert_not_null(strstr(err, "/nonexistent/berth.yaml"));
        free(err);
        config_done(&c);
}

Test(config, checks_the_coordinator)
{
        static const struct {
                const char *yaml, *error;
        } cases[] = {
            {"coordinator: {type: etcd, endpoints: [\"http://127.0.0.1:2379\"], leaseTTLSeconds: 2}\n",
             "coordinator.leaseTTLSeconds: Invalid value: 2: must be at least 3"},
            {"coordinator: {type: etcd, endpoints: [\"http://127.0.0.1:2379\"], leaseTTLSeconds: 7}\n",
             NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = write_tmp(cases[i].yaml);
                char *err = NULL;
                Config c;

                cr_assert_eq(config_init(&c), 0);
                cr_assert_eq(config_load(&c, path, false, &err), 0, "%s", err ?: "");
                if (cases[i].error) {
                        cr_assert_eq(config_check(&c, &err), -EINVAL, "%s", cases[i].yaml);
                        cr_assert_not_null(strstr(err, cases[i].error), "%s", err);
                        free(err);
                } else {
                        cr_assert_eq(config_check(&c, &err), 0, "%s", err ?: "");
                        cr_assert_eq(c.coordinator_lease_ttl, 7);
                }
                config_done(&c);
                unlink(path);
        }
}

Test(config, node_address_defaults_to_a_detected_one_and_must_be_an_address)
{
        static const struct {
                const char *yaml, *want, *error;
        } cases[] = {
            {"nodeAddress: 192.0.2.10\n", "192.0.2.10", NULL},
            {"nodeAddress: \"2001:db8::10\"\n", "2001:db8::10", NULL},
            {"nodeAddress: node-1.example\n", NULL,
             "nodeAddress: Invalid value: \"node-1.example\": must be an IPv4 or IPv6 address"},
            {"nodeAddress: 192.0.2.10/24\n", NULL, "nodeAddress: Invalid value: \"192.0.2.10/24\""},
            {"nodeAddress: \"\"\n", NULL, "nodeAddress: Invalid value: \"\""},
        };
        _cleanup_free_ char *p_bad_type = write_tmp("nodeAddress: [1]\n");
        char *err = NULL;
        Config c;

        cr_assert_eq(config_init(&c), 0);
        cr_assert_not_null(c.node_address);
        cr_expect_eq(config_check(&c, &err), 0, "%s: %s", c.node_address, err ?: "");
        cr_assert_eq(config_load(&c, p_bad_type, false, &err), -EINVAL);
        cr_expect_not_null(strstr(err, "nodeAddress: Invalid value: must be a string"), "%s", err);
        free(err);
        config_done(&c);
        unlink(p_bad_type);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = write_tmp(cases[i].yaml);

                err = NULL;
                cr_assert_eq(config_init(&c), 0);
                cr_assert_eq(config_load(&c, path, false, &err), 0, "%s", err ?: "");
                if (cases[i].error) {
                        cr_expect_eq(config_check(&c, &err), -EINVAL, "%s", cases[i].yaml);
                        cr_expect_not_null(err && strstr(err, cases[i].error), "%s", err ?: "(none)");
                        free(err);
                } else {
                        cr_expect_eq(config_check(&c, &err), 0, "%s", err ?: "");
                        cr_expect_str_eq(c.node_address, cases[i].want);
                }
                config_done(&c);
                unlink(path);
        }
}
