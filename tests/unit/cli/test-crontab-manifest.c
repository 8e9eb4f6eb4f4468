/* Tests of crontab-manifest.c: real-world crontabs (a user crontab, /etc/crontab, a cron.d
 * file, and lines cron reads in its own way) translated against a fake passwd database, the
 * CronJobs and the reports compared with fixture files exactly; the printed YAML parses back
 * into the same objects, and validates. Set CRONTAB_FIXTURES_UPDATE=1 to rewrite the
 * expected files (then review them). */
#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "crontab.h"
#include "json-util.h"
#include "manifest.h"

typedef struct FakeUser {
        const char *name, *home;
        uint32_t uid, gid;
        uint32_t groups[4];
        size_t n_groups;
} FakeUser;

static const FakeUser users[] = {
    {"root", "/root", 0, 0, {}, 0},
    {"alice", "/home/alice", 1000, 1000, {24, 27}, 2},
    {"www-data", "/var/www", 33, 33, {}, 0},
    {"nobody", "/nonexistent", 65534, 65534, {}, 0},
};

static int fake_user(void *userdata, const char *name, CrontabUser *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(users); i++) {
                const FakeUser *u = &users[i];

                if (!streq(u->name, name))
                        continue;
                *ret = (CrontabUser){
                    .name = strdup(u->name), .home = strdup(u->home), .uid = u->uid, .gid = u->gid};
                ret->groups = calloc(4, sizeof(uint32_t));
                cr_assert(ret->name && ret->home && ret->groups);
                memcpy(ret->groups, u->groups, sizeof(u->groups));
                ret->n_groups = u->n_groups;
                return 0;
        }
        return -ENOENT;
}

static bool fake_is_dir(void *userdata, const char *path)
{
        return !streq(path, "/nonexistent");
}

static const CrontabHost host = {.user = fake_user, .is_dir = fake_is_dir};

static char *fixture_path(const char *name)
{
        const char *dir = getenv("CLI_FIXTURES");
        char *p = strjoin(dir ? dir : "tests/unit/cli/fixtures", "/crontab/", name, NULL);

        cr_assert_not_null(p);
        return p;
}

static char *read_fixture(const char *name, size_t *ret_size)
{
        _cleanup_free_ char *path = fixture_path(name);
        char *data = NULL;
        size_t size = 0;

        cr_assert_eq(read_full_file(path, 1 << 20, &data, &size), 0, "cannot read %s", path);
        if (ret_size)
                *ret_size = size;
        return data;
}

/* The printed form: each CronJob as YAML, "---" between them. */
static char *print_docs(const cJSON *docs)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        const cJSON *doc;

        cr_assert_not_null(f);
        cJSON_ArrayForEach (doc, docs) {
                if (doc != docs->child)
                        fputs("---\n", f);
                cr_assert_eq(cli_yaml_print(f, doc), 0);
        }
        cr_assert_eq(fclose(f), 0);
        return buf;
}

static char *print_diags(const CrontabDiags *d, const char *source)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        crontab_diags_print(f, d, source);
        cr_assert_eq(fclose(f), 0);
        return buf;
}

static void expect_fixture(const char *name, const char *got)
{
        _cleanup_free_ char *path = fixture_path(name), *want = NULL;

        if (getenv("CRONTAB_FIXTURES_UPDATE")) {
                FILE *f = fopen(path, "we");
                cr_assert_not_null(f);
                fputs(got, f);
                cr_assert_eq(fclose(f), 0);
        }
        want = read_fixture(name, NULL);
        cr_assert_str_eq(got, want, "%s differs; got:\n%s", name, got);
}

/* The YAML parses back into the very objects, each of which berth accepts. */
static void expect_round_trip(const char *yaml, const cJSON *docs)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(manifest_parse("out.yaml", yaml, strlen(yaml), &set, &err), 0, "%s", err);
        cr_assert_eq(manifest_set_size(set), (size_t)cJSON_GetArraySize(docs));
        for (size_t i = 0; i < manifest_set_size(set); i++) {
                cJSON *obj = manifest_doc_object(manifest_set_get(set, i));
                _cleanup_json_ cJSON *copy = cJSON_Duplicate(obj, true);
                FieldErrors errs;

                cr_assert(cJSON_Compare(obj, cJSON_GetArrayItem(docs, (int)i), true), "document %zu changed",
                          i);
                field_errors_init(&errs);
                cr_assert_eq(manifest_default(copy), 0);
                cr_expect_eq(manifest_validate(copy, &errs), 0, "document %zu is invalid", i);
                field_errors_done(&errs);
        }
}

/* Translates fixture <name> (as source, owned by owner unless system) and compares the
 * CronJobs with <name>.yaml and the reports with <name>.err. Returns the CronJobs. */
static cJSON *translate(const char *name, const char *source, bool system, const char *owner,
                        const char *prefix)
{
        _cleanup_free_ char *data = NULL, *yaml = NULL, *report = NULL, *yname = NULL, *ename = NULL;
        _cleanup_(crontab_freep) Crontab *c = NULL;
        CrontabImport o = {.source = source, .prefix = prefix, .owner = owner, .host = &host};
        CrontabDiags d = {};
        cJSON *docs = cJSON_CreateArray();
        size_t size;

        data = read_fixture(name, &size);
        cr_assert_eq(crontab_parse(data, size, system, &d, &c), 0);
        cr_assert_eq(crontab_manifest_build(c, &o, &d, docs), 0);
        cr_assert_not(d.oom);
        yaml = print_docs(docs);
        report = print_diags(&d, source);
        crontab_diags_done(&d);
        yname = strjoin(name, ".yaml", NULL);
        ename = strjoin(name, ".err", NULL);
        expect_fixture(yname, yaml);
        expect_fixture(ename, report);
        expect_round_trip(yaml, docs);
        return docs;
}

Test(crontab_manifest, translates_a_user_crontab)
{
        _cleanup_json_ cJSON *docs = translate("user.crontab", "crontab", false, "alice", "alice");

        cr_expect_eq(cJSON_GetArraySize(docs), 19);
}

Test(crontab_manifest, translates_the_system_crontab_with_its_user_column)
{
        _cleanup_json_ cJSON *docs = translate("system.crontab", "/etc/crontab", true, NULL, "crontab");

        cr_expect_eq(cJSON_GetArraySize(docs), 7);
}

Test(crontab_manifest, translates_a_cron_d_file)
{
        _cleanup_json_ cJSON *docs =
            translate("packages.cron.d", "/etc/cron.d/packages", true, NULL, "packages");

        cr_expect_eq(cJSON_GetArraySize(docs), 8);
}

Test(crontab_manifest, reports_what_cron_reads_its_own_way_and_leaves_out_what_it_cannot_translate)
{
        _cleanup_json_ cJSON *docs = translate("tricky.crontab", "crontab", false, "alice", "alice");

        cr_expect_eq(cJSON_GetArraySize(docs), 7);
}
