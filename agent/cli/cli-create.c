/* `berth create job NAME --from=cronjob/CRONJOB`: runs a CronJob by hand as kubectl does,
 * by posting a Job built from the CronJob's jobTemplate (annotated as a manual
 * instantiation and owned by the CronJob). */
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

static int copy_map(cJSON *meta, const char *key, const cJSON *from)
{
        cJSON *dup;

        if (!cJSON_IsObject(from))
                return 0;
        dup = cJSON_Duplicate(from, true);
        if (!dup)
                return -ENOMEM;
        return json_set(meta, key, dup);
}

static int build_metadata(cJSON *meta, const cJSON *cronjob, const char *name, const char *ns)
{
        const cJSON *tmeta = json_path(cronjob, "spec.jobTemplate.metadata");
        const cJSON *tann = json_path(tmeta, "annotations");
        const char *uid = json_str(cronjob, "metadata.uid");
        cJSON *ann, *refs, *ref;
        int r;

        if (json_set_string(meta, "name", name) < 0 || (ns && json_set_string(meta, "namespace", ns) < 0))
                return -ENOMEM;
        r = copy_map(meta, "labels", json_path(tmeta, "labels"));
        if (r < 0)
                return r;
        /* kubectl sets the marker first and then copies the template's annotations over it. */
        ann = json_ensure_object(meta, "annotations");
        if (!ann || json_set_string(ann, "cronjob.kubernetes.io/instantiate", "manual") < 0)
                return -ENOMEM;
        for (const cJSON *a = tann ? tann->child : NULL; a; a = a->next)
                if (cJSON_IsString(a) && json_set_string(ann, a->string, a->valuestring) < 0)
                        return -ENOMEM;

        /* kubectl marks the CronJob as controller but, unlike NewControllerRef, leaves
         * blockOwnerDeletion unset (it would need the cronjobs/finalizers permission). */
        refs = cJSON_AddArrayToObject(meta, "ownerReferences");
        ref = cJSON_CreateObject();
        if (!refs || !ref)
                return cJSON_Delete(ref), -ENOMEM;
        cJSON_AddItemToArray(refs, ref);
        if (json_set_string(ref, "apiVersion", "batch/v1") < 0 ||
            json_set_string(ref, "kind", "CronJob") < 0 ||
            json_set_string(ref, "name", json_str(cronjob, "metadata.name") ?: "") < 0 ||
            (uid && json_set_string(ref, "uid", uid) < 0) || json_set_bool(ref, "controller", true) < 0)
                return -ENOMEM;
        return 0;
}

int cli_create_job_from_cronjob(const cJSON *cronjob, const char *name, const char *ns, cJSON **ret)
{
        const cJSON *spec = json_path(cronjob, "spec.jobTemplate.spec");
        _cleanup_json_ cJSON *job = NULL;
        cJSON *meta, *dup;
        int r;

        if (!cJSON_IsObject(spec))
                return -EINVAL;
        job = cJSON_CreateObject();
        if (!job || json_set_string(job, "apiVersion", "batch/v1") < 0 ||
            json_set_string(job, "kind", "Job") < 0)
                return -ENOMEM;
        meta = json_ensure_object(job, "metadata");
        if (!meta)
                return -ENOMEM;
        r = build_metadata(meta, cronjob, name, ns);
        if (r < 0)
                return r;
        dup = cJSON_Duplicate(spec, true);
        if (!dup || json_set(job, "spec", dup) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(job);
        return 0;
}

/* "cronjob/NAME" (any name of the CronJob kind). Returns the name or NULL after printing. */
static const char *from_cronjob(const char *from)
{
        const char *slash = strchr(from, '/');
        _cleanup_free_ char *kind = NULL;
        const KindInfo *k;

        if (!slash || isempty(slash + 1)) {
                fprintf(stderr, "error: --from must be of the form cronjob/NAME, got \"%s\"\n", from);
                return NULL;
        }
        kind = strndup(from, slash - from);
        if (!kind)
                return NULL;
        k = cli_kind_resolve(kind);
        if (!k)
                return NULL;
        if (!streq(k->kind, "CronJob")) {
                fputs("error: from must be an existing cronjob\n", stderr);
                return NULL;
        }
        return slash + 1;
}

static int post_job(CliHttp *h, const cJSON *job, const char *ns, const char *name)
{
        _cleanup_free_ char *path = NULL, *body = json_print(job);
        const KindInfo *k = kind_by_kind("Job");
        CliResponse resp;
        int r;

        path = k ? cli_http_path(k, ns, NULL) : NULL;
        if (!path || !body)
                return -ENOMEM;
        r = cli_http_request(h, "POST", path, body, &resp);
        if (r < 0)
                return r;
        if (resp.status < 200 || resp.status >= 300) {
                _cleanup_json_ cJSON *st = cli_response_json(&resp);
                const char *msg = json_str(st, "message");
                if (msg)
                        fprintf(stderr, "error: failed to create job: %s\n", msg);
                else
                        cli_report_response(&resp);
                cli_response_done(&resp);
                return -EIO;
        }
        cli_response_done(&resp);
        printf("job.batch/%s created\n", name);
        return 0;
}

int cli_verb_create(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_json_ cJSON *cj = NULL, *job = NULL;
        _cleanup_free_ char *path = NULL;
        const char *ns = cli_args_namespace(a), *cj_name;
        CliResponse resp;
        int r;

        if (a->n_pos < 1 || !streq(a->pos[0], "job")) {
                fprintf(stderr, "error: unknown command \"%s\" for \"berth create\" (only \"create job\")\n",
                        a->n_pos > 0 ? a->pos[0] : "");
                return 1;
        }
        if (a->n_pos != 2) {
                fprintf(stderr, "error: exactly one NAME is required, got %zu\n", a->n_pos - 1);
                return 1;
        }
        if (isempty(a->from)) {
                fputs("error: --from=cronjob/NAME must be specified (berth does not support --image)\n",
                      stderr);
                return 1;
        }
        cj_name = from_cronjob(a->from);
        if (!cj_name)
                return 1;
        if (cli_connect(a, &h) < 0)
                return 1;
        path = cli_http_path(kind_by_kind("CronJob"), ns, cj_name);
        if (!path)
                return 1;
        r = cli_http_get_json(h, path, &cj, &resp);
        if (r > 0) {
                cli_report_response(&resp);
                cli_response_done(&resp);
        }
        if (r != 0)
                return 1;
        r = cli_create_job_from_cronjob(cj, a->pos[1], ns, &job);
        if (r == -EINVAL)
                fprintf(stderr, "error: cronjob \"%s\" has no spec.jobTemplate.spec\n", cj_name);
        if (r < 0)
                return 1;
        return post_job(h, job, ns, a->pos[1]) < 0 ? 1 : 0;
}
