/* configMap and secret volume sources projected from stored objects, with the kubelet's
 * messages for what is missing. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"

#include "atomic-writer.h"

typedef struct Result {
        int r;
        ProjectedFile *files;
        size_t n;
        char *error;
} Result;

static void result_done(Result *res)
{
        projected_files_free(res->files, res->n);
        free(res->error);
}

static Result build(const char *source, const char *object, bool secret)
{
        _cleanup_json_ cJSON *s = cJSON_Parse(source);
        _cleanup_json_ cJSON *o = object ? cJSON_Parse(object) : NULL;
        Result res = {};

        cr_assert_not_null(s, "bad test JSON: %s", source);
        cr_assert(!object || o, "bad test JSON: %s", object);
        res.r = projection_build(s, o, secret, &res.files, &res.n, &res.error);
        return res;
}

static const ProjectedFile *find(const Result *res, const char *path)
{
        for (size_t i = 0; i < res->n; i++)
                if (streq(res->files[i].path, path))
                        return &res->files[i];
        cr_assert_fail("no file %s in the payload", path);
        return NULL;
}

static void assert_file(const Result *res, const char *path, const char *content, mode_t mode)
{
        const ProjectedFile *f = find(res, path);

        cr_assert_eq(f->size, strlen(content), "%s", path);
        cr_assert_arr_eq(f->data, content, f->size, "%s", path);
        cr_assert_eq(f->mode, mode, "%s: mode %o, want %o", path, (unsigned)f->mode, (unsigned)mode);
}

static void assert_error(const Result *res, int r, const char *msg)
{
        cr_assert_eq(res->r, r, "got %d (%s)", res->r, res->error ? res->error : "no message");
        cr_assert_str_eq(res->error, msg);
        cr_assert_eq(res->n, 0);
}

Test(projection, configmap_without_items_projects_every_key_with_mode_0644)
{
        _cleanup_(result_done) Result res =
            build("{\"name\":\"cm\"}", "{\"data\":{\"a\":\"1\",\"app.conf\":\"x=y\\n\"}}", false);

        cr_assert_eq(res.r, 0);
        cr_assert_eq(res.n, 2);
        assert_file(&res, "a", "1", 0644);
        assert_file(&res, "app.conf", "x=y\n", 0644);
}

Test(projection, items_pick_keys_and_place_them)
{
        _cleanup_(result_done) Result res =
            build("{\"name\":\"cm\",\"items\":[{\"key\":\"app.conf\",\"path\":\"conf/app.conf\"}]}",
                  "{\"data\":{\"a\":\"1\",\"app.conf\":\"x=y\"}}", false);

        cr_assert_eq(res.r, 0);
        cr_assert_eq(res.n, 1);
        assert_file(&res, "conf/app.conf", "x=y", 0644);
}

Test(projection, default_mode_and_item_mode)
{
        /* 256 = 0400, 511 = 0777, 292 = 0444: JSON carries the decimal value */
        _cleanup_(result_done) Result all =
            build("{\"name\":\"cm\",\"defaultMode\":256}", "{\"data\":{\"a\":\"1\",\"b\":\"2\"}}", false);
        _cleanup_(result_done) Result items = build(
            "{\"name\":\"cm\",\"defaultMode\":292,\"items\":[{\"key\":\"a\",\"path\":\"a\",\"mode\":511},"
            "{\"key\":\"b\",\"path\":\"sub/b\"}]}",
            "{\"data\":{\"a\":\"1\",\"b\":\"2\"}}", false);

        cr_assert_eq(all.r, 0);
        assert_file(&all, "a", "1", 0400);
        assert_file(&all, "b", "2", 0400);
        cr_assert_eq(items.r, 0);
        cr_assert_eq(items.n, 2);
        assert_file(&items, "a", "1", 0777);
        assert_file(&items, "sub/b", "2", 0444);
}

Test(projection, optional_missing_object_gives_an_empty_payload)
{
        _cleanup_(result_done) Result cm = build("{\"name\":\"cm\",\"optional\":true}", NULL, false);
        _cleanup_(result_done) Result sec =
            build("{\"secretName\":\"s\",\"optional\":true,\"items\":[{\"key\":\"k\",\"path\":\"k\"}]}",
                  NULL, true);

        cr_assert_eq(cm.r, 0);
        cr_assert_eq(cm.n, 0);
        cr_assert_null(cm.files);
        cr_assert_null(cm.error);
        cr_assert_eq(sec.r, 0);
        cr_assert_eq(sec.n, 0);
}

Test(projection, optional_missing_key_is_skipped)
{
        _cleanup_(result_done) Result res =
            build("{\"name\":\"cm\",\"optional\":true,\"items\":["
                  "{\"key\":\"nope\",\"path\":\"x\"},{\"key\":\"a\",\"path\":\"y\"}]}",
                  "{\"data\":{\"a\":\"1\"}}", false);

        cr_assert_eq(res.r, 0);
        cr_assert_eq(res.n, 1);
        assert_file(&res, "y", "1", 0644);
}

Test(projection, missing_objects_fail_in_the_kubelets_words)
{
        _cleanup_(result_done) Result cm = build("{\"name\":\"x\"}", NULL, false);
        _cleanup_(result_done) Result sec = build("{\"secretName\":\"creds\"}", NULL, true);
        _cleanup_(result_done) Result off =
            build("{\"secretName\":\"creds\",\"optional\":false}", NULL, true);

        assert_error(&cm, -ENOENT, "configmap \"x\" not found");
        assert_error(&sec, -ENOENT, "secret \"creds\" not found");
        assert_error(&off, -ENOENT, "secret \"creds\" not found");
}

Test(projection, missing_keys_fail_in_the_kubelets_words)
{
        _cleanup_(result_done) Result cm = build("{\"name\":\"x\",\"items\":[{\"key\":\"a\",\"path\":\"a\"},"
                                                 "{\"key\":\"k\",\"path\":\"k\"}]}",
                                                 "{\"data\":{\"a\":\"1\"}}", false);
        _cleanup_(result_done) Result sec =
            build("{\"secretName\":\"s\",\"items\":[{\"key\":\"pw\",\"path\":\"p\"}]}",
                  "{\"data\":{\"user\":\"YQ==\"}}", true);

        assert_error(&cm, -ENOENT, "configmap references non-existent config key: k");
        assert_error(&sec, -ENOENT, "references non-existent secret key: pw");
}

Test(projection, configmap_binary_data_is_decoded)
{
        static const char bin[] = {'\0', '\xff', '\n'};
        _cleanup_(result_done) Result all =
            build("{\"name\":\"cm\"}", "{\"data\":{\"t\":\"text\"},\"binaryData\":{\"b\":\"AP8K\"}}", false);
        _cleanup_(result_done) Result items =
            build("{\"name\":\"cm\",\"items\":[{\"key\":\"b\",\"path\":\"bin/b\",\"mode\":384}]}",
                  "{\"binaryData\":{\"b\":\"AP8K\"}}", false);
        const ProjectedFile *f;

        cr_assert_eq(all.r, 0);
        cr_assert_eq(all.n, 2);
        assert_file(&all, "t", "text", 0644);
        f = find(&all, "b");
        cr_assert_eq(f->size, sizeof(bin));
        cr_assert_arr_eq(f->data, bin, sizeof(bin));
        cr_assert_eq(items.r, 0);
        f = find(&items, "bin/b");
        cr_assert_eq(f->size, sizeof(bin));
        cr_assert_arr_eq(f->data, bin, sizeof(bin));
        cr_assert_eq(f->mode, 0600);
}

Test(projection, secret_data_is_base64_decoded)
{
        _cleanup_(result_done) Result all =
            build("{\"secretName\":\"s\"}",
                  "{\"data\":{\"user\":\"YWRtaW4=\",\"pw\":\"c2VjcmV0\",\"empty\":\"\"}}", true);
        _cleanup_(result_done) Result items = build(
            "{\"secretName\":\"s\",\"defaultMode\":256,\"items\":[{\"key\":\"pw\",\"path\":\"db/pw\"}]}",
            "{\"data\":{\"user\":\"YWRtaW4=\",\"pw\":\"c2VjcmV0\"}}", true);

        cr_assert_eq(all.r, 0);
        cr_assert_eq(all.n, 3);
        assert_file(&all, "user", "admin", 0644);
        assert_file(&all, "pw", "secret", 0644);
        assert_file(&all, "empty", "", 0644);
        cr_assert_eq(items.r, 0);
        cr_assert_eq(items.n, 1);
        assert_file(&items, "db/pw", "secret", 0400);
}

Test(projection, secrets_ignore_binary_data_and_names_of_configmaps)
{
        /* a secret source names its object with secretName; binaryData is not a Secret field */
        _cleanup_(result_done) Result res =
            build("{\"name\":\"wrong\",\"secretName\":\"s\"}",
                  "{\"data\":{\"a\":\"YQ==\"},\"binaryData\":{\"b\":\"Yg==\"}}", true);
        _cleanup_(result_done) Result missing =
            build("{\"name\":\"wrong\",\"secretName\":\"s\"}", NULL, true);

        cr_assert_eq(res.r, 0);
        cr_assert_eq(res.n, 1);
        assert_file(&res, "a", "a", 0644);
        assert_error(&missing, -ENOENT, "secret \"s\" not found");
}

Test(projection, bad_base64_is_an_error)
{
        _cleanup_(result_done) Result sec =
            build("{\"secretName\":\"s\"}", "{\"data\":{\"pw\":\"not base64!\"}}", true);
        _cleanup_(result_done) Result bin =
            build("{\"name\":\"cm\"}", "{\"binaryData\":{\"b\":\"abc\"}}", false);

        assert_error(&sec, -EINVAL, "secret \"s\": value of key pw is not valid base64");
        assert_error(&bin, -EINVAL, "configmap \"cm\": value of key b is not valid base64");
}

Test(projection, bad_modes_and_paths_are_errors)
{
        _cleanup_(result_done) Result mode =
            build("{\"name\":\"cm\",\"defaultMode\":512}", "{\"data\":{}}", false);
        _cleanup_(result_done) Result item_mode =
            build("{\"name\":\"cm\",\"items\":[{\"key\":\"a\",\"path\":\"a\",\"mode\":-1}]}",
                  "{\"data\":{\"a\":\"1\"}}", false);
        _cleanup_(result_done) Result path =
            build("{\"name\":\"cm\",\"items\":[{\"key\":\"a\",\"path\":\"../etc/x\"}]}",
                  "{\"data\":{\"a\":\"1\"}}", false);
        _cleanup_(result_done) Result key =
            build("{\"name\":\"cm\"}", "{\"data\":{\"..data\":\"1\"}}", false);
        _cleanup_(result_done) Result nopath =
            build("{\"name\":\"cm\",\"items\":[{\"key\":\"a\"}]}", "{\"data\":{\"a\":\"1\"}}", false);
        _cleanup_(result_done) Result notstr = build("{\"name\":\"cm\"}", "{\"data\":{\"a\":1}}", false);

        assert_error(
            &mode, -EINVAL,
            "defaultMode: Invalid value: must be a number between 0 and 0777 (octal), both inclusive");
        assert_error(
            &item_mode, -EINVAL,
            "items[0].mode: Invalid value: must be a number between 0 and 0777 (octal), both inclusive");
        assert_error(&path, -EINVAL, "invalid path: must not contain '..': ../etc/x");
        assert_error(&key, -EINVAL, "invalid path: must not start with '..': ..data");
        assert_error(&nopath, -EINVAL, "items[0]: key and path are required");
        assert_error(&notstr, -EINVAL, "configmap \"cm\": value of key a is not a string");
}
