/* berth.yaml(5)'s tables against the code that reads the config: every documented key loads
 * with its documented type, default and values; every key config.c and storage-class.c
 * accept is documented (read from their sources until config.c exports its key table). */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "cli-doc.h"
#include "config.h"
#include "storage-class.h"

/* Loads text as a config file over the defaults; returns config_load()'s result. */
static int load(Config *c, const char *text, char **ret_error)
{
        char path[] = "/tmp/test-cli-man-config-XXXXXX";
        int fd, r;

        cr_assert_eq(config_init(c), 0);
        fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        close(fd);
        r = write_string_file(path, text);
        if (r >= 0)
                r = config_load(c, path, false, ret_error);
        unlink(path);
        return r;
}

/* "key: value", or for "runtime.type" "runtime: {type: value}". */
static char *doc(const char *key, const char *value)
{
        const char *dot = strchr(key, '.');
        char *s = NULL;

        if (dot)
                cr_assert_geq(asprintf(&s, "%.*s: {%s: %s}\n", (int)(dot - key), key, dot + 1, value), 0);
        else
                cr_assert_geq(asprintf(&s, "%s: %s\n", key, value), 0);
        return s;
}

static const char *sample(const CliConfigField *f)
{
        if (f->values)
                return f->values[0];
        if (streq(f->type, "string"))
                return "/x";
        if (streq(f->type, "mapping"))
                return "{}";
        if (streq(f->type, "list"))
                return "[]";
        if (streq(f->type, "boolean"))
                return "true";
        if (streq(f->type, "integer"))
                return "5";
        if (streq(f->type, "quantity"))
                return "1Gi";
        cr_assert_fail("%s: unknown type %s", f->key, f->type);
        return NULL;
}

Test(cli_man_config, every_documented_key_loads_with_its_type_and_no_other)
{
        size_t n;
        const CliConfigField *f = cli_man_config_fields(&n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *good = doc(f[i].key, sample(&f[i])),
                                    *wrong = doc(f[i].key, streq(f[i].type, "string") ? "[1]" : "x"),
                                    *err = NULL, *err2 = NULL;
                Config c;

                cr_expect_eq(load(&c, good, &err), 0, "%s: %s", good, err);
                config_done(&c);
                cr_expect_lt(load(&c, wrong, &err2), 0, "%s loads", wrong);
                config_done(&c);
        }
}

Test(cli_man_config, every_default_loads_and_the_values_listed_are_the_checked_ones)
{
        size_t n;
        const CliConfigField *f = cli_man_config_fields(&n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *err = NULL, *bad_err = NULL;
                Config c;

                if (f[i].def) {
                        _cleanup_free_ char *d = doc(f[i].key, f[i].def), *check = NULL;
                        cr_expect_eq(load(&c, d, &err), 0, "%s: %s", d, err);
                        cr_expect_eq(config_check(&c, &check), 0, "%s: %s", d, check);
                        config_done(&c);
                }
                for (const char *const *v = f[i].values; v && *v; v++) {
                        _cleanup_free_ char *d = doc(f[i].key, *v), *check = NULL;
                        cr_assert_eq(load(&c, d, &err), 0, "%s: %s", d, err);
                        cr_expect_eq(config_check(&c, &check), 0, "%s: %s", d, check);
                        config_done(&c);
                }
                if (f[i].values) {
                        _cleanup_free_ char *d = doc(f[i].key, "not-a-value");
                        cr_assert_eq(load(&c, d, &bad_err), 0, "%s: %s", d, bad_err);
                        cr_expect_lt(config_check(&c, &err), 0, "%s passes", d);
                        config_done(&c);
                }
        }
}

Test(cli_man_config, the_documented_defaults_are_config_inits)
{
        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
            {"stateDir", offsetof(Config, state_dir)},
            {"manifestsDir", offsetof(Config, manifests_dir)},
            {"socket", offsetof(Config, socket_path)},
            {"logDir", offsetof(Config, log_dir)},
            {"metricsAddress", offsetof(Config, metrics_address)},
            {"runtime.type", offsetof(Config, runtime_type)},
            {"runtime.endpoint", offsetof(Config, runtime_endpoint)},
            {"coordinator.type", offsetof(Config, coordinator_type)},
            {"defaultStorageClass", offsetof(Config, default_storage_class)},
            {"logLevel", offsetof(Config, log_level)},
            {"cgroupRoot", offsetof(Config, cgroup_root)},
        };
        char buf[32];
        Config c;

        cr_assert_eq(config_init(&c), 0);
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                const char *def = cli_man_config_default(strings[i].key);
                const char *have = *(char **)((char *)&c + strings[i].offset);
                cr_assert_not_null(def, "%s has no documented default", strings[i].key);
                cr_expect_str_eq(streq(def, "\"\"") ? "" : def, have ?: "", "%s", strings[i].key);
        }
        snprintf(buf, sizeof(buf), "%u", c.events_max);
        cr_expect_str_eq(cli_man_config_default("eventsMax"), buf);
        cr_expect_str_eq(cli_man_config_default("seccompDefault"), c.seccomp_default ? "true" : "false");
        cr_expect_str_eq(cli_man_config_default("labels"), "{}");
        cr_expect_eq(cJSON_GetArraySize(c.labels), 0);
        cr_expect_str_eq(cli_man_config_default("storageClasses"), "{}");
        cr_expect_eq(cJSON_GetArraySize(c.storage_classes), 0);
        cr_expect_null(cli_man_config_default("noSuchKey"));
        cr_expect_str_eq(CLI_DOC_CONFIG_PATH, CONFIG_DEFAULT_PATH);
        config_done(&c);
}

/* The string literals of a source file between start and the next end, that look like keys. */
static size_t literals(const char *file, const char *start, const char *end, char ***ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *root = getenv("BERTH_SOURCE_ROOT"), *p, *stop;
        size_t n = 0;

        cr_assert_not_null(root, "meson sets BERTH_SOURCE_ROOT");
        path = strjoin(root, "/", file, NULL);
        cr_assert_eq(read_full_file(path, 1024 * 1024, &text, NULL), 0, "%s", path);
        p = strstr(text, start);
        cr_assert_not_null(p, "no \"%s\" in %s", start, file);
        stop = strstr(p, end);
        cr_assert_not_null(stop);
        *ret = NULL;
        /* every "word" whose first letter is lower case: a message has spaces, a key has none */
        for (p = strchr(p, '"'); p && p < stop; p = strchr(p + 1, '"')) {
                size_t len = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
                if (len == 0 || p[1 + len] != '"' || p[1] < 'a' || p[1] > 'z')
                        continue;
                cr_assert_eq(strv_push_copy(ret, &n, strndupa(p + 1, len)), 0);
                p += 1 + len;
        }
        return n;
}

static bool documented(const CliConfigField *f, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++) {
                const char *dot = strrchr(f[i].key, '.');
                if (streq(f[i].key, key) || (dot && streq(dot + 1, key)))
                        return true;
        }
        return false;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

Test(cli_man_config, every_key_the_loader_reads_is_documented)
{
        size_t n, i;
        const CliConfigField *f = cli_man_config_fields(&n);

        for (i = 0; config_key(i); i++) {
                bool found = false;
                for (size_t j = 0; j < n; j++)
                        found = found || streq(f[j].key, config_key(i));
                cr_expect(found, "config.c reads \"%s\", berth.yaml(5) does not have it", config_key(i));
        }
        cr_expect_gt(i, 10);
}

static int parse_class(const char *json, char **ret_error)
{
        _cleanup_(storage_class_table_done) StorageClassTable t = {};
        cJSON *classes = cJSON_Parse(json);
        int r;

        cr_assert_not_null(classes, "%s", json);
        r = storage_class_table_parse(classes, NULL, "/var/lib/berth", &t, ret_error);
        cJSON_Delete(classes);
        return r;
}

static char *class_json(const char *key, const char *value)
{
        char *s = NULL;

        if (streq(key, "type"))
                cr_assert_geq(asprintf(&s, "{\"c\": {\"type\": \"%s\", \"path\": \"/x\"}}", value), 0);
        else if (streq(key, "path"))
                cr_assert_geq(asprintf(&s, "{\"c\": {\"type\": \"dir\", \"path\": \"%s\"}}", value), 0);
        else if (streq(value, "true") || streq(value, "false"))
                cr_assert_geq(
                    asprintf(&s, "{\"c\": {\"type\": \"dir\", \"path\": \"/x\", \"%s\": %s}}", key, value),
                    0);
        else
                cr_assert_geq(asprintf(&s, "{\"c\": {\"type\": \"dir\", \"path\": \"/x\", \"%s\": \"%s\"}}",
                                       key, value),
                              0);
        return s;
}

Test(cli_man_config, every_storage_class_key_is_the_parsers)
{
        size_t n, n_keys;
        const CliConfigField *f = cli_man_config_storage_class_fields(&n);
        _cleanup_free_ char *unknown_err = NULL;
        char **keys;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *good = class_json(f[i].key, sample(&f[i])), *err = NULL;
                cr_expect_eq(parse_class(good, &err), 0, "%s: %s", good, err);
                for (const char *const *v = f[i].values; v && *v; v++) {
                        _cleanup_free_ char *j = class_json(f[i].key, *v), *verr = NULL;
                        cr_expect_eq(parse_class(j, &verr), 0, "%s: %s", j, verr);
                }
                if (f[i].values) {
                        _cleanup_free_ char *j = class_json(f[i].key, "not-a-value"), *verr = NULL;
                        cr_expect_lt(parse_class(j, &verr), 0, "%s parses", j);
                }
                if (f[i].required) {
                        _cleanup_free_ char *j = NULL, *rerr = NULL;
                        cr_assert_geq(asprintf(&j, "{\"c\": {\"%s\": \"/x\"}}",
                                               streq(f[i].key, "type") ? "path" : "type"),
                                      0);
                        cr_expect_lt(parse_class(j, &rerr), 0, "%s parses without %s", j, f[i].key);
                }
        }
        cr_expect_lt(
            parse_class("{\"c\": {\"type\": \"dir\", \"path\": \"/x\", \"frob\": 1}}", &unknown_err), 0);
        n_keys = literals("agent/controllers/storage-class.c", "known[] = {", "};", &keys);
        cr_expect_eq(n_keys, n, "storage-class.c knows %zu keys, berth.yaml(5) %zu", n_keys, n);
        for (size_t i = 0; i < n_keys; i++)
                cr_expect(documented(f, n, keys[i]), "storage-class.c reads \"%s\", berth.yaml(5) does not",
                          keys[i]);
        strv_free(keys, n_keys);
}
