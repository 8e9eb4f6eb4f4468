/* `berth create job NAME --from=cronjob/NAME`: the Job built from a CronJob, the argument
 * checks, and a run against the in-process API server. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "cli-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(cli_create);

static char *fixture(const char *name)
{
        _cleanup_free_ char *path = strjoin(getenv("CLI_FIXTURES"), "/", name, NULL);
        char *data = NULL;
        size_t size;

        cr_assert_eq(read_full_file(path, 1 << 20, &data, &size), 0, "%s", path);
        return data;
}

static cJSON *cronjob_fixture(void)
{
        _cleanup_free_ char *data = fixture("cronjob-backup.json");
        cJSON *j = cJSON_Parse(data);

        cr_assert_not_null(j);
        return j;
}

Test(cli_create, builds_the_job_kubectl_posts_from_a_cronjob)
{
        _cleanup_json_ cJSON *cj = cronjob_fixture(), *job = NULL;

        cr_assert_eq(cli_create_job_from_cronjob(cj, "backup-now", "default", &job), 0);
        cr_expect_str_eq(json_str(job, "apiVersion"), "batch/v1");
        cr_expect_str_eq(json_str(job, "kind"), "Job");
        cr_expect_str_eq(json_str(job, "metadata.name"), "backup-now");
        cr_expect_str_eq(json_str(job, "metadata.namespace"), "default");
        cr_expect_str_eq(json_str(job, "metadata.labels.app"), "backup");
        cr_expect_null(json_path(job, "metadata.labels.team"));
        cr_expect_str_eq(json_str(job, "metadata.annotations.owner"), "ops");
        /* The template's annotations are copied over kubectl's marker. */
        const cJSON *ann = json_path(job, "metadata.annotations");
        cr_expect_str_eq(cJSON_GetObjectItem(ann, "cronjob.kubernetes.io/instantiate")->valuestring,
                         "template");

        const cJSON *refs = json_path(job, "metadata.ownerReferences");
        cr_assert_eq(cJSON_GetArraySize(refs), 1);
        const cJSON *ref = cJSON_GetArrayItem(refs, 0);
        cr_expect_str_eq(json_str(ref, "apiVersion"), "batch/v1");
        cr_expect_str_eq(json_str(ref, "kind"), "CronJob");
        cr_expect_str_eq(json_str(ref, "name"), "backup");
        cr_expect_str_eq(json_str(ref, "uid"), "6c1f2e0a-1111-4222-8333-944455556666");
        cr_expect(json_bool(ref, "controller", false));
        cr_expect_null(json_path(ref, "blockOwnerDeletion"));

        cr_expect_eq(json_int(job, "spec.backoffLimit", -1), 2);
        cr_expect(cJSON_Compare(json_path(job, "spec"), json_path(cj, "spec.jobTemplate.spec"), true));
}

Test(cli_create, marks_the_job_as_manual_when_the_template_has_no_annotations)
{
        _cleanup_json_ cJSON *cj = cronjob_fixture(), *job = NULL;
        cJSON *tmeta = (cJSON *)json_path(cj, "spec.jobTemplate");

        cJSON_DeleteItemFromObject(tmeta, "metadata");
        cr_assert_eq(cli_create_job_from_cronjob(cj, "x", "default", &job), 0);
        const cJSON *ann = json_path(job, "metadata.annotations");
        cr_expect_str_eq(cJSON_GetObjectItem(ann, "cronjob.kubernetes.io/instantiate")->valuestring,
                         "manual");
        cr_expect_null(json_path(job, "metadata.labels"));
}

Test(cli_create, refuses_a_cronjob_without_a_job_template)
{
        _cleanup_json_ cJSON *cj = cJSON_Parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{}}");
        cJSON *job = NULL;

        cr_expect_eq(cli_create_job_from_cronjob(cj, "x", "default", &job), -EINVAL);
        cr_expect_null(job);
}

Test(cli_create, checks_its_arguments)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "create", "job", "--from=cronjob/backup");
        cli_test_expect(&run, 1, "", "error: exactly one NAME is required, got 0\n");
        CLI_RUN(&t, &run, "create", "job", "x");
        cli_test_expect(&run, 1, "",
                        "error: --from=cronjob/NAME must be specified (berth does not support --image)\n");
        CLI_RUN(&t, &run, "create", "job", "x", "--from=deployment/web");
        cli_test_expect(&run, 1, "", "error: the server doesn't have a resource type \"deployment\"\n");
        CLI_RUN(&t, &run, "create", "job", "x", "--from=job/web");
        cli_test_expect(&run, 1, "", "error: from must be an existing cronjob\n");
        CLI_RUN(&t, &run, "create", "job", "x", "--from=cronjob");
        cli_test_expect(&run, 1, "", NULL);
        CLI_RUN(&t, &run, "create", "pod", "x");
        cli_test_expect(&run, 1, "", NULL);
}

Test(cli_create, reports_a_missing_cronjob_as_the_server_does)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "create", "job", "x", "--from=cronjob/nope");
        cli_test_expect(&run, 1, "", "Error from server (NotFound): cronjobs.batch \"nope\" not found\n");
}

Test(cli_create, creates_a_job_owned_by_the_cronjob)
{
        _cleanup_free_ char *body = fixture("cronjob-backup.json");
        _cleanup_json_ cJSON *job = NULL;
        HttpReply r;
        ApiTestRun run;

        cli_test_create(&t, "/apis/batch/v1/namespaces/default/cronjobs", body);
        CLI_RUN(&t, &run, "create", "job", "backup-now", "--from=cronjob/backup");
        cli_test_expect(&run, 0, "job.batch/backup-now created\n", "");

        api_test_request(&t, "GET", "/apis/batch/v1/namespaces/default/jobs/backup-now", NULL, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        job = cJSON_ParseWithLength(r.body, r.body_size);
        http_reply_done(&r);
        cr_assert_not_null(job);
        const cJSON *ref = cJSON_GetArrayItem(json_path(job, "metadata.ownerReferences"), 0);
        cr_assert_not_null(ref);
        cr_expect_str_eq(json_str(ref, "kind"), "CronJob");
        cr_expect_str_eq(json_str(ref, "name"), "backup");
        cr_expect(json_bool(ref, "controller", false));
        cr_expect_str_eq(json_str(job, "metadata.labels.app"), "backup");

        CLI_RUN(&t, &run, "create", "job", "backup-now", "--from=cronjob/backup");
        cli_test_expect(&run, 1, "", NULL);
}
