/* delete: by name, KIND/NAME, -f FILE, --all or -l; DeleteOptions from --grace-period,
 * --now, --force and --cascade; then, as kubectl does, waits until the objects are gone. */
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

static char *delete_options(const CliArgs *a)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        int64_t grace = a->grace_period;
        const char *cascade = a->cascade ? a->cascade : "background";

        if (!o)
                return NULL;
        if (a->now)
                grace = 1;
        if (a->force && grace < 0)
                grace = 0;
        if (grace == 0 && !a->force)
                grace = 1; /* kubectl turns --grace-period=0 into 1 unless --force */
        cJSON_AddStringToObject(o, "kind", "DeleteOptions");
        cJSON_AddStringToObject(o, "apiVersion", "v1");
        if (grace >= 0)
                cJSON_AddNumberToObject(o, "gracePeriodSeconds", (double)grace);
        cJSON_AddStringToObject(o, "propagationPolicy",
                                streq(cascade, "foreground") ? "Foreground"
                                : streq(cascade, "orphan")   ? "Orphan"
                                                             : "Background");
        return json_print(o);
}

/* Returns 1 when the object was deleted, 0 when it was not found (and ignored), -1 on error. */
static int delete_one(CliHttp *h, const CliArgs *a, CliObjectRef *v, const char *body)
{
        _cleanup_free_ char *path = cli_http_path(v->kind, v->ns, v->name),
                            *res = cli_kind_resource_name(v->kind);
        CliResponse resp;
        int r;

        if (!path || !res)
                return -1;
        r = cli_http_request(h, "DELETE", path, body, &resp);
        if (r < 0)
                return -1;
        if (resp.status == 404 && a->ignore_not_found) {
                cli_response_done(&resp);
                return 0;
        }
        if (resp.status < 200 || resp.status >= 300) {
                cli_report_response(&resp);
                cli_response_done(&resp);
                return -1;
        }
        _cleanup_json_ cJSON *obj = resp.body ? cJSON_Parse(resp.body) : NULL;
        const char *uid = json_str(obj, "metadata.uid");
        if (uid && !streq_ptr(json_str(obj, "kind"), "Status"))
                v->uid = strdup(uid);
        cli_response_done(&resp);
        printf("%s \"%s\" %sdeleted\n", res, v->name, a->force ? "force " : "");
        return 1;
}

/* Polls until the object is gone; 0, or 1 after printing the timeout. */
static int wait_gone(CliHttp *h, const CliObjectRef *v, usec_t deadline)
{
        _cleanup_free_ char *path = cli_http_path(v->kind, v->ns, v->name);

        while (path && !cli_interrupted) {
                CliResponse resp;
                if (cli_http_request(h, "GET", path, NULL, &resp) < 0)
                        return 1;
                long status = resp.status;
                _cleanup_json_ cJSON *obj = status == 200 && resp.body ? cJSON_Parse(resp.body) : NULL;
                cli_response_done(&resp);
                /* gone, or replaced by a new object of the same name (a StatefulSet's pod) */
                if (status == 404 || (v->uid && obj && !streq_ptr(json_str(obj, "metadata.uid"), v->uid)))
                        return 0;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                cli_sleep(CLI_WAIT_POLL_USEC);
        }
        fprintf(stderr, "error: timed out waiting for the condition on %s/%s\n", v->kind->plural, v->name);
        return 1;
}

int cli_verb_delete(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *body = NULL;
        _cleanup_free_ bool *deleted = NULL;
        CliObjectRefs vs = {};
        int rc = 0;

        if (a->force && a->grace_period != 0 && a->grace_period != -1) {
                fprintf(stderr, "error: --force requires --grace-period=0\n");
                return 1;
        }
        if (a->cascade && !streq(a->cascade, "background") && !streq(a->cascade, "foreground") &&
            !streq(a->cascade, "orphan") && !streq(a->cascade, "true") && !streq(a->cascade, "false")) {
                fprintf(stderr,
                        "error: invalid cascade value (%s). Must be \"background\", \"foreground\", or "
                        "\"orphan\"\n",
                        a->cascade);
                return 1;
        }
        if (cli_connect(a, &h) < 0 || (rc = cli_collect_objects(h, a, &vs)) < 0) {
                cli_object_refs_done(&vs);
                return 1;
        }
        if (rc == 1 && vs.n == 0)
                fprintf(stderr, "No resources found\n");
        rc = 0;
        body = delete_options(a);
        deleted = calloc(vs.n + 1, sizeof(bool));
        if (!body || !deleted) {
                cli_object_refs_done(&vs);
                return 1;
        }
        if (a->force)
                fprintf(stderr,
                        "Warning: Immediate deletion does not wait for confirmation that the running "
                        "resource has been terminated. The resource may continue to run on the cluster "
                        "indefinitely.\n");
        for (size_t i = 0; i < vs.n; i++) {
                int r = delete_one(h, a, &vs.v[i], body);
                deleted[i] = r > 0;
                rc |= r < 0;
        }
        if (a->wait) {
                usec_t timeout =
                    a->timeout_set && a->timeout > 0 ? a->timeout : CLI_DELETE_DEFAULT_TIMEOUT_USEC;
                usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;
                cli_catch_sigint();
                for (size_t i = 0; i < vs.n; i++)
                        if (deleted[i])
                                rc |= wait_gone(h, &vs.v[i], deadline);
        }
        cli_object_refs_done(&vs);
        return rc;
}
