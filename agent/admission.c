/* Agent-side admission of objects (see admission.h). */
#include "admission.h"
#include "json-util.h"

/* Where the pod spec sits in each kind that carries one. */
static const char *pod_spec_path(const char *kind)
{
        static const struct {
                const char *kind, *path;
        } table[] = {
            {"Pod", "spec"},
            {"Job", "spec.template.spec"},
            {"StatefulSet", "spec.template.spec"},
            {"DaemonSet", "spec.template.spec"},
            {"CronJob", "spec.jobTemplate.spec.template.spec"},
        };

        for (size_t i = 0; kind && i < ELEMENTSOF(table); i++)
                if (streq(kind, table[i].kind))
                        return table[i].path;
        return NULL;
}

static int check_commands(const cJSON *spec, const char *spec_path, const char *field, FieldErrors *errs)
{
        const cJSON *c;
        size_t i = 0;
        int n = 0;

        cJSON_ArrayForEach (c, json_path(spec, field)) {
                char path[256];

                if (cJSON_GetArraySize(json_path(c, "command")) == 0) {
                        snprintf(path, sizeof(path), "%s.%s[%zu].command", spec_path, field, i);
                        field_error_add(errs, FIELD_ERROR_REQUIRED, path, NULL,
                                        "the host runtime runs no image entrypoint: set a command");
                        n++;
                }
                i++;
        }
        return n;
}

int admission_check(const AdmissionContext *ctx, const cJSON *obj, FieldErrors *errs)
{
        const char *kind = json_str(obj, "kind"), *path = pod_spec_path(kind);
        const cJSON *spec;
        int n;

        /* the agent owns these: volumes come from claims, classes from its config */
        if (streq_ptr(kind, "PersistentVolume") || streq_ptr(kind, "StorageClass")) {
                field_error_add(errs, FIELD_ERROR_FORBIDDEN, "kind", NULL,
                                streq(kind, "StorageClass")
                                    ? "storage classes come from the agent's config (storageClasses)"
                                    : "persistent volumes are provisioned by the agent for "
                                      "PersistentVolumeClaims, from its storage classes");
                return errs->oom ? -ENOMEM : 1;
        }
        /* a StatefulSet's history: written by its controller only */
        if (streq_ptr(kind, "ControllerRevision")) {
                field_error_add(errs, FIELD_ERROR_FORBIDDEN, "kind", NULL,
                                "controller revisions are written by the StatefulSet controller");
                return errs->oom ? -ENOMEM : 1;
        }

        if (!path || !ctx->host_runtime)
                return 0;
        spec = json_path(obj, path);
        if (!spec)
                return 0;
        n = check_commands(spec, path, "initContainers", errs) +
            check_commands(spec, path, "containers", errs);
        return errs->oom ? -ENOMEM : n;
}
