/* scale: sets spec.replicas of StatefulSets named by KIND NAME, KIND/NAME, -f FILE, or KIND
 * with --all or -l. Each object is read, checked against --current-replicas, and written back
 * with its resourceVersion, so a write that lost to a concurrent change is refused (409) and
 * retried on the new version, as kubectl's scaler does; --timeout then waits for the pods. */
#include <inttypes.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

/* An integer flag given as text; pflag's message when it is not one. */
static int parse_count(const char *flag, const char *s, int64_t *ret, char **ret_error)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end || v < INT32_MIN || v > INT32_MAX) {
                asprintf_safe(ret_error, "invalid argument \"%s\" for \"--%s\" flag", s, flag);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int cli_scale_parse_options(const CliArgs *a, int64_t *ret_replicas, int64_t *ret_current, char **ret_error)
{
        int64_t replicas, current = -1;

        *ret_error = NULL;
        if (!a->replicas) {
                /* cobra's answer to a flag marked required */
                *ret_error = strdup("required flag(s) \"replicas\" not set");
                return -EINVAL;
        }
        if (parse_count("replicas", a->replicas, &replicas, ret_error) < 0)
                return -EINVAL;
        if (a->current_replicas &&
            parse_count("current-replicas", a->current_replicas, &current, ret_error) < 0)
                return -EINVAL;
        if (replicas < 0) {
                *ret_error =
                    strdup("The --replicas=COUNT flag is required, and COUNT must be greater than or "
                           "equal to 0");
                return -EINVAL;
        }
        if (current < -1) {
                *ret_error = strdup("The --current-replicas must specify an integer of -1 or greater");
                return -EINVAL;
        }
        *ret_replicas = replicas;
        *ret_current = current;
        return 0;
}

int cli_scale_set_replicas(cJSON *obj, int64_t replicas, int64_t current, char **ret_error)
{
        /* the scale subresource reads an unset spec.replicas as 0 */
        int64_t was = json_int(obj, "spec.replicas", 0);
        cJSON *spec;

        *ret_error = NULL;
        if (current != -1 && was != current) {
                asprintf_safe(ret_error, "Expected replicas to be %" PRIi64 ", was %" PRIi64, current, was);
                return -ESTALE;
        }
        spec = json_ensure_object(obj, "spec");
        if (!spec || json_set_int(spec, "replicas", replicas) < 0)
                return -ENOMEM;
        return 0;
}

bool cli_scale_synced(const cJSON *obj, int64_t replicas)
{
        int64_t spec = json_int(obj, "spec.replicas", 0), status = json_int(obj, "status.replicas", 0);

        /* spec.replicas set by someone else since: nothing left to wait for */
        if (spec != replicas)
                return true;
        return status == replicas;
}

/* One read-check-write round: 0 when written, 1 after printing an error, -ESTALE when the
 * object changed between the read and the write. */
static int write_once(CliHttp *h, const CliObjectRef *t, const char *path, int64_t replicas, int64_t current)
{
        _cleanup_json_ cJSON *obj = NULL;
        _cleanup_free_ char *err = NULL, *body = NULL;
        CliResponse resp = {};
        int r = cli_http_get_json(h, path, &obj, &resp);

        if (r > 0)
                cli_report_response(&resp);
        cli_response_done(&resp);
        if (r != 0)
                return 1;
        if (!streq(t->kind->kind, "StatefulSet")) {
                /* the kind has no scale subresource: kubectl's answer from the apiserver */
                fprintf(stderr,
                        "Error from server (NotFound): the server could not find the requested resource\n");
                return 1;
        }
        r = cli_scale_set_replicas(obj, replicas, current, &err);
        if (r < 0) {
                fprintf(stderr, "error: %s\n", err ?: "out of memory");
                return 1;
        }
        /* the object as read, resourceVersion included: the agent refuses it if it changed */
        body = json_print(obj);
        if (!body || cli_http_request(h, "PUT", path, body, &resp) < 0)
                return 1;
        if (resp.status == 409) {
                _cleanup_json_ cJSON *status = cli_response_json(&resp);

                if (streq_ptr(json_str(status, "reason"), "Conflict"))
                        r = -ESTALE;
        }
        if (r != -ESTALE && (resp.status < 200 || resp.status >= 300))
                r = cli_report_response(&resp);
        cli_response_done(&resp);
        return r;
}

/* Polls until the pods follow (kubectl's WaitForScaleHasDesiredReplicas). */
static int wait_synced(CliHttp *h, const CliObjectRef *t, const char *path, int64_t replicas,
                       usec_t deadline)
{
        for (;;) {
                _cleanup_json_ cJSON *obj = NULL;
                CliResponse resp = {};
                int r = cli_http_get_json(h, path, &obj, &resp);

                if (r > 0)
                        cli_report_response(&resp);
                cli_response_done(&resp);
                if (r != 0)
                        return 1;
                if (cli_scale_synced(obj, replicas))
                        return 0;
                if (cli_interrupted || now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                cli_sleep(CLI_WAIT_POLL_USEC);
        }
        fprintf(stderr, "error: timed out waiting for \"%s\" to be synced\n", t->name);
        return 1;
}

static int scale_one(CliHttp *h, const CliArgs *a, const CliObjectRef *t, int64_t replicas, int64_t current)
{
        _cleanup_free_ char *path = cli_http_path(t->kind, t->ns, t->name),
                            *res = cli_kind_resource_name(t->kind);
        usec_t give_up = now_usec(CLOCK_MONOTONIC) + CLI_SCALE_RETRY_USEC;
        int r;

        if (!path || !res)
                return 1;
        while ((r = write_once(h, t, path, replicas, current)) == -ESTALE) {
                if (cli_interrupted || now_usec(CLOCK_MONOTONIC) >= give_up) {
                        fprintf(stderr, "error: timed out waiting for the condition\n");
                        return 1;
                }
                cli_sleep(CLI_WAIT_POLL_USEC);
        }
        if (r != 0)
                return 1;
        if (a->timeout_set && a->timeout > 0 &&
            wait_synced(h, t, path, replicas, now_usec(CLOCK_MONOTONIC) + a->timeout) != 0)
                return 1;
        printf("%s/%s scaled\n", res, t->name);
        return 0;
}

int cli_verb_scale(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *err = NULL;
        CliObjectRefs ts = {};
        int64_t replicas, current;
        int rc = 0;

        if (cli_scale_parse_options(a, &replicas, &current, &err) < 0) {
                fprintf(stderr, "error: %s\n", err ?: "out of memory");
                return 1;
        }
        if (cli_connect(a, &h) < 0 || cli_collect_objects(h, a, &ts) < 0) {
                cli_object_refs_done(&ts);
                return 1;
        }
        if (ts.n == 0) {
                fprintf(stderr, "error: no objects passed to scale\n");
                cli_object_refs_done(&ts);
                return 1;
        }
        cli_catch_sigint();
        /* as kubectl, the first failure ends the command */
        for (size_t i = 0; rc == 0 && i < ts.n; i++)
                rc = scale_one(h, a, &ts.v[i], replicas, current);
        cli_object_refs_done(&ts);
        return rc;
}
