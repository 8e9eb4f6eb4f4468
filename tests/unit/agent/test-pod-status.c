#include <criterion/criterion.h>

#include "json-util.h"
#include "pod-internal.h"

static RuntimeContainer exited(const char *uid, const char *name, unsigned attempt, int code)
{
        return (RuntimeContainer){.id = (char *)"abc",
                                  .pod_uid = (char *)uid,
                                  .container_name = (char *)name,
                                  .attempt = attempt,
                                  .state = CONTAINER_EXITED,
                                  .exit_code = code,
                                  .started_at = 1 * USEC_PER_SEC,
                                  .finished_at = 2 * USEC_PER_SEC,
                                  .reason = (char *)(code == 0 ? "Completed" : "Error")};
}

static RuntimeContainer running(const char *uid, const char *name, unsigned attempt)
{
        return (RuntimeContainer){.id = (char *)"def",
                                  .pod_uid = (char *)uid,
                                  .container_name = (char *)name,
                                  .attempt = attempt,
                                  .state = CONTAINER_RUNNING,
                                  .started_at = 3 * USEC_PER_SEC};
}

static cJSON *status_of(const char *pod_json, RuntimeContainer *c, size_t n, bool init_done)
{
        _cleanup_json_ cJSON *pod = cJSON_Parse(pod_json);
        PodStatusInput in = {.pod = pod,
                             .containers = c,
                             .n_containers = n,
                             .init_done = init_done,
                             .now = 100 * USEC_PER_SEC};
        cJSON *st = NULL;

        cr_assert_not_null(pod);
        cr_assert_eq(pod_status_build(&in, &st), 0);
        return st;
}

#define POD(policy)                                                                                         \
        "{\"metadata\":{\"uid\":\"u\"},\"spec\":{\"restartPolicy\":\"" policy "\",\"containers\":"          \
        "[{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\",\"image\":\"i\"}]}}"

Test(pod_status, is_pending_until_every_container_has_run)
{
        RuntimeContainer c[] = {running("u", "a", 0)};
        _cleanup_json_ cJSON *st = status_of(POD("Always"), c, 1, true);

        cr_assert_str_eq(json_str(st, "phase"), "Pending");
        cr_assert_str_eq(json_str(json_path(st, "containerStatuses")->child->next, "state.waiting.reason"),
                         "ContainerCreating");
}

Test(pod_status, is_running_and_ready_with_all_containers_up)
{
        RuntimeContainer c[] = {running("u", "a", 0), running("u", "b", 2), exited("u", "b", 1, 1)};
        _cleanup_json_ cJSON *st = status_of(POD("Always"), c, 3, true);
        const cJSON *b = json_path(st, "containerStatuses")->child->next;

        cr_assert_str_eq(json_str(st, "phase"), "Running");
        cr_assert_eq(json_int(b, "restartCount", -1), 2);
        cr_assert_eq(json_int(b, "lastState.terminated.exitCode", -1), 1);
        cr_assert_str_eq(json_str(json_path(st, "conditions")->child->next->next->next, "type"), "Ready");
        cr_assert_str_eq(json_str(json_path(st, "conditions")->child->next->next->next, "status"), "True");
}

Test(pod_status, ends_succeeded_or_failed_by_policy)
{
        RuntimeContainer ok[] = {exited("u", "a", 0, 0), exited("u", "b", 0, 0)};
        RuntimeContainer bad[] = {exited("u", "a", 0, 0), exited("u", "b", 0, 3)};
        _cleanup_json_ cJSON *s1 = status_of(POD("Never"), ok, 2, true);
        _cleanup_json_ cJSON *s2 = status_of(POD("Never"), bad, 2, true);
        _cleanup_json_ cJSON *s3 = status_of(POD("OnFailure"), bad, 2, true);
        _cleanup_json_ cJSON *s4 = status_of(POD("Always"), ok, 2, true);

        cr_assert_str_eq(json_str(s1, "phase"), "Succeeded");
        cr_assert_str_eq(json_str(s2, "phase"), "Failed");
        cr_assert_str_eq(json_str(s3, "phase"), "Running"); /* will restart b */
        cr_assert_str_eq(json_str(s4, "phase"), "Running");
        cr_assert_eq(
            json_int(json_path(s2, "containerStatuses")->child->next, "state.terminated.exitCode", -1), 3);
}

Test(pod_status, stays_pending_while_init_containers_run)
{
        RuntimeContainer c[] = {running("u", "init", 0)};
        _cleanup_json_ cJSON *st = status_of("{\"metadata\":{\"uid\":\"u\"},\"spec\":{\"initContainers\":[{"
                                             "\"name\":\"init\",\"image\":\"i\"}],"
                                             "\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}",
                                             c, 1, false);

        cr_assert_str_eq(json_str(st, "phase"), "Pending");
        cr_assert_str_eq(json_str(json_path(st, "conditions")->child->next, "status"), "False");
        cr_assert_str_eq(json_str(json_path(st, "conditions")->child->next, "reason"),
                         "ContainersNotInitialized");
        cr_assert_str_eq(json_str(json_path(st, "initContainerStatuses")->child, "name"), "init");
}

Test(pod_status, computes_the_qos_class)
{
        _cleanup_json_ cJSON *g = status_of("{\"metadata\":{\"uid\":\"u\"},\"spec\":{\"containers\":[{"
                                            "\"name\":\"a\",\"image\":\"i\",\"resources\":"
                                            "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}",
                                            NULL, 0, true);
        _cleanup_json_ cJSON *b = status_of("{\"metadata\":{\"uid\":\"u\"},\"spec\":{\"containers\":[{"
                                            "\"name\":\"a\",\"image\":\"i\",\"resources\":"
                                            "{\"requests\":{\"cpu\":\"1\"}}}]}}",
                                            NULL, 0, true);
        _cleanup_json_ cJSON *e = status_of(POD("Always"), NULL, 0, true);
        /* quantities compare by value, not by how they are written */
        _cleanup_json_ cJSON *g2 = status_of("{\"metadata\":{\"uid\":\"u\"},\"spec\":{\"containers\":[{"
                                             "\"name\":\"a\",\"image\":\"i\",\"resources\":"
                                             "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
                                             "\"requests\":{\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}}]}}",
                                             NULL, 0, true);

        cr_assert_str_eq(json_str(g2, "qosClass"), "Guaranteed");
        cr_assert_str_eq(json_str(g, "qosClass"), "Guaranteed");
        cr_assert_str_eq(json_str(b, "qosClass"), "Burstable");
        cr_assert_str_eq(json_str(e, "qosClass"), "BestEffort");
}

Test(pod_status, shows_a_started_container_as_creating_until_its_command_runs)
{
        RuntimeContainer c[] = {running("u", "a", 0), running("u", "b", 0)};
        c[1].state = CONTAINER_CREATED;
        _cleanup_json_ cJSON *st = status_of(POD("Always"), c, 2, true);

        cr_assert_str_eq(json_str(json_path(st, "containerStatuses")->child->next, "state.waiting.reason"),
                         "ContainerCreating");
        cr_assert_str_eq(json_str(st, "phase"), "Pending");
}
