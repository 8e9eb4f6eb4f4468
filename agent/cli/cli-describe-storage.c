/* describe pages of the storage kinds: PersistentVolumeClaim (with the pods that use it),
 * PersistentVolume and StorageClass, as kubectl prints them. */
#include <ctype.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

/* A []string as Go's %v prints it: "[a b]", "[]" when empty. */
static void go_string_list(FILE *f, const cJSON *list)
{
        const cJSON *c;

        fputc('[', f);
        cJSON_ArrayForEach (c, list)
                fprintf(f, "%s%s", c == list->child ? "" : " ", cJSON_IsString(c) ? c->valuestring : "");
        fputs("]\n", f);
}

static void finalizers_line(FILE *f, const cJSON *obj)
{
        fputs("Finalizers:\t", f);
        go_string_list(f, json_path(obj, "metadata.finalizers"));
}

/* "Status: Bound", or "Terminating (lasts 5m)" once deletion started. */
static void storage_status_line(FILE *f, const cJSON *obj, usec_t now)
{
        const char *deleted = json_str(obj, "metadata.deletionTimestamp");
        char age[32];

        if (!deleted) {
                fprintf(f, "Status:\t%s\n", json_str(obj, "status.phase") ?: "Pending");
                return;
        }
        cli_age(deleted, now, age, sizeof(age));
        fprintf(f, "Status:\tTerminating (lasts %s)\n", age);
}

static bool pod_mounts_claim(const cJSON *pod, const char *claim)
{
        const cJSON *v;

        cJSON_ArrayForEach (v, json_path(pod, "spec.volumes"))
                if (streq_ptr(json_str(v, "persistentVolumeClaim.claimName"), claim))
                        return true;
        return false;
}

/* The pods (of the claim's namespace) naming the claim in a volume or owning it (generic
 * ephemeral volumes), as kubectl's getPodsForPVC finds them: each once, sorted by name. */
static void used_by_lines(FILE *f, const cJSON *pvc, const cJSON *pods)
{
        size_t n = 0, size = (size_t)cJSON_GetArraySize(pods);
        _cleanup_free_ const char **names = size > 0 ? calloc(size, sizeof(char *)) : NULL;
        const char *claim = json_str(pvc, "metadata.name");
        const cJSON *p, *o;

        cJSON_ArrayForEach (p, pods) {
                bool owner = false;

                cJSON_ArrayForEach (o, json_path(pvc, "metadata.ownerReferences"))
                        owner = owner || (streq_ptr(json_str(o, "kind"), "Pod") && json_str(o, "uid") &&
                                          streq_ptr(json_str(o, "uid"), json_str(p, "metadata.uid")));
                if (names && json_str(p, "metadata.name") && (pod_mounts_claim(p, claim) || owner))
                        names[n++] = json_str(p, "metadata.name");
        }
        fputs("Used By:\t", f);
        if (size > 0 && !names) {
                fputs("<unknown>\n", f);
                return;
        }
        if (n == 0) {
                fputs("<none>\n", f);
                return;
        }
        qsort(names, n, sizeof(char *), strptr_compare);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s\n", i ? "\t" : "", names[i]);
}

static void claim_conditions(FILE *f, const cJSON *conds)
{
        /* Go's zero time.Time, which kubectl prints for an unset probe time */
        static const char zero[] = "Mon, 01 Jan 0001 00:00:00 +0000";
        const cJSON *c;

        if (cJSON_GetArraySize(conds) == 0)
                return;
        fputs("Conditions:\n"
              "  Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n"
              "  ----\t------\t-----------------\t------------------\t------\t-------\n",
              f);
        cJSON_ArrayForEach (c, conds) {
                char probe[64], transition[64];

                cli_describe_rfc1123z(json_str(c, "lastProbeTime"), probe, sizeof(probe));
                cli_describe_rfc1123z(json_str(c, "lastTransitionTime"), transition, sizeof(transition));
                fprintf(f, "  %s \t%s \t%s \t%s \t%s \t%s\n", json_str(c, "type") ?: "",
                        json_str(c, "status") ?: "", probe[0] ? probe : zero,
                        transition[0] ? transition : zero, json_str(c, "reason") ?: "",
                        json_str(c, "message") ?: "");
        }
}

/* kubectl's describePersistentVolumeClaim; pods are the claim's namespace's. */
void cli_describe_pvc(FILE *f, const cJSON *pvc, const cJSON *pods, usec_t now)
{
        const char *volume = json_str(pvc, "spec.volumeName"), *mode = json_str(pvc, "spec.volumeMode");
        const char *capacity = "";
        const cJSON *ds = json_path(pvc, "spec.dataSource");
        char modes[32] = "";

        fprintf(f, "Name:\t%s\n", json_str(pvc, "metadata.name") ?: "");
        fprintf(f, "Namespace:\t%s\n", json_str(pvc, "metadata.namespace") ?: "");
        fprintf(f, "StorageClass:\t%s\n", cli_storage_class_name(pvc));
        storage_status_line(f, pvc, now);
        fprintf(f, "Volume:\t%s\n", volume ?: "");
        cli_describe_labels(f, 0, "Labels", json_path(pvc, "metadata.labels"));
        cli_describe_annotations(f, "Annotations", json_path(pvc, "metadata.annotations"));
        finalizers_line(f, pvc);
        /* what is bound, not what was asked: nothing until the claim has a volume */
        if (!isempty(volume)) {
                capacity = json_str(pvc, "status.capacity.storage") ?: "0";
                cli_access_modes(json_path(pvc, "status.accessModes"), modes, sizeof(modes));
        }
        fprintf(f, "Capacity:\t%s\nAccess Modes:\t%s\n", capacity, modes);
        if (mode)
                fprintf(f, "VolumeMode:\t%s\n", mode);
        if (cJSON_IsObject(ds)) {
                fputs("DataSource:\n", f);
                if (json_str(ds, "apiGroup"))
                        fprintf(f, "  APIGroup:\t%s\n", json_str(ds, "apiGroup"));
                fprintf(f, "  Kind:\t%s\n  Name:\t%s\n", json_str(ds, "kind") ?: "",
                        json_str(ds, "name") ?: "");
        }
        used_by_lines(f, pvc, pods);
        claim_conditions(f, json_path(pvc, "status.conditions"));
}

/* " [a, b]" (nothing for no values), then the end of the line. */
static void values_line(FILE *f, const cJSON *values)
{
        const cJSON *v;

        if (cJSON_GetArraySize(values) > 0) {
                fputs(" [", f);
                cJSON_ArrayForEach (v, values)
                        fprintf(f, "%s%s", v == values->child ? "" : ", ",
                                cJSON_IsString(v) ? v->valuestring : "");
                fputc(']', f);
        }
        fputc('\n', f);
}

/* "Node Affinity:" with the required node selector terms, kubectl's printVolumeNodeAffinity. */
static void volume_node_affinity(FILE *f, const cJSON *pv)
{
        const cJSON *req = json_path(pv, "spec.nodeAffinity.required"), *term, *expr;
        int i = 0;

        fputs("Node Affinity:\t", f);
        if (!cJSON_IsObject(req)) {
                fputs("<none>\n", f);
                return;
        }
        fputs("\n  Required Terms:\t", f);
        if (cJSON_GetArraySize(json_path(req, "nodeSelectorTerms")) == 0) {
                fputs("<none>\n", f);
                return;
        }
        fputc('\n', f);
        cJSON_ArrayForEach (term, json_path(req, "nodeSelectorTerms")) {
                const cJSON *exprs = json_path(term, "matchExpressions");

                fprintf(f, "    Term %d:\t", i++);
                if (cJSON_GetArraySize(exprs) == 0)
                        fputs("<none>\n", f);
                cJSON_ArrayForEach (expr, exprs) {
                        const cJSON *values = json_path(expr, "values");

                        if (expr != exprs->child)
                                fputs("    \t", f);
                        fprintf(f, "%s ", json_str(expr, "key") ?: "");
                        for (const char *op = json_str(expr, "operator") ?: ""; *op; op++)
                                fputc(tolower((unsigned char)*op), f);
                        values_line(f, values);
                }
        }
}

static void volume_source(FILE *f, const cJSON *pv)
{
        const cJSON *local = json_path(pv, "spec.local"), *host = json_path(pv, "spec.hostPath");

        fputs("Source:\n", f);
        if (cJSON_IsObject(host))
                fprintf(f,
                        "    Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n    "
                        "HostPathType:\t%s\n",
                        json_str(host, "path") ?: "", json_str(host, "type") ?: "<none>");
        else if (cJSON_IsObject(local))
                fprintf(f,
                        "    Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n"
                        "    Path:\t%s\n",
                        json_str(local, "path") ?: "");
        else
                fputs("  <unknown>\n", f);
}

/* kubectl's describePersistentVolume. */
void cli_describe_pv(FILE *f, const cJSON *pv, usec_t now)
{
        const cJSON *claim = json_path(pv, "spec.claimRef");
        char modes[32];

        fprintf(f, "Name:\t%s\n", json_str(pv, "metadata.name") ?: "");
        cli_describe_labels(f, 0, "Labels", json_path(pv, "metadata.labels"));
        cli_describe_annotations(f, "Annotations", json_path(pv, "metadata.annotations"));
        finalizers_line(f, pv);
        fprintf(f, "StorageClass:\t%s\n", cli_storage_class_name(pv));
        storage_status_line(f, pv, now);
        if (cJSON_IsObject(claim))
                fprintf(f, "Claim:\t%s/%s\n", json_str(claim, "namespace") ?: "",
                        json_str(claim, "name") ?: "");
        else
                fputs("Claim:\t\n", f);
        fprintf(f, "Reclaim Policy:\t%s\n", json_str(pv, "spec.persistentVolumeReclaimPolicy") ?: "");
        cli_access_modes(json_path(pv, "spec.accessModes"), modes, sizeof(modes));
        fprintf(f, "Access Modes:\t%s\n", modes);
        if (json_str(pv, "spec.volumeMode"))
                fprintf(f, "VolumeMode:\t%s\n", json_str(pv, "spec.volumeMode"));
        fprintf(f, "Capacity:\t%s\n", json_str(pv, "spec.capacity.storage") ?: "0");
        volume_node_affinity(f, pv);
        fprintf(f, "Message:\t%s\n", json_str(pv, "status.message") ?: "");
        volume_source(f, pv);
}

static void allowed_topologies(FILE *f, const cJSON *terms)
{
        const cJSON *term, *expr;
        int i = 0;

        fputs("AllowedTopologies:\t", f);
        if (cJSON_GetArraySize(terms) == 0) {
                fputs("<none>\n", f);
                return;
        }
        fputc('\n', f);
        cJSON_ArrayForEach (term, terms) {
                const cJSON *exprs = json_path(term, "matchLabelExpressions");

                fprintf(f, "  Term %d:\t", i++);
                if (cJSON_GetArraySize(exprs) == 0)
                        fputs("<none>\n", f);
                cJSON_ArrayForEach (expr, exprs) {
                        const cJSON *values = json_path(expr, "values");

                        fprintf(f, "%s%s in", expr == exprs->child ? "" : "  \t",
                                json_str(expr, "key") ?: "");
                        values_line(f, values);
                }
        }
}

/* kubectl's describeStorageClass; reclaimPolicy and volumeBindingMode show the API server's
 * defaults when unset, as they would on a cluster. */
void cli_describe_storageclass(FILE *f, const cJSON *sc)
{
        _cleanup_free_ char *ann = cli_format_labels(json_path(sc, "metadata.annotations"));
        _cleanup_free_ char *params = cli_format_labels(json_path(sc, "parameters"));
        const cJSON *expand = json_path(sc, "allowVolumeExpansion"), *opts = json_path(sc, "mountOptions"),
                    *o;

        fprintf(f, "Name:\t%s\n", json_str(sc, "metadata.name") ?: "");
        fprintf(f, "IsDefaultClass:\t%s\n", cli_storage_class_is_default(sc) ? "Yes" : "No");
        fprintf(f, "Annotations:\t%s\n", ann ?: "");
        fprintf(f, "Provisioner:\t%s\n", json_str(sc, "provisioner") ?: "");
        fprintf(f, "Parameters:\t%s\n", params ?: "");
        fprintf(f, "AllowVolumeExpansion:\t%s\n",
                !cJSON_IsBool(expand)  ? "<unset>"
                : cJSON_IsTrue(expand) ? "True"
                                       : "False");
        if (cJSON_GetArraySize(opts) == 0)
                fputs("MountOptions:\t<none>\n", f);
        else {
                fputs("MountOptions:\n", f);
                cJSON_ArrayForEach (o, opts)
                        fprintf(f, "  %s\n", cJSON_IsString(o) ? o->valuestring : "");
        }
        fprintf(f, "ReclaimPolicy:\t%s\n", json_str(sc, "reclaimPolicy") ?: "Delete");
        fprintf(f, "VolumeBindingMode:\t%s\n", json_str(sc, "volumeBindingMode") ?: "Immediate");
        if (cJSON_IsArray(json_path(sc, "allowedTopologies")))
                allowed_topologies(f, json_path(sc, "allowedTopologies"));
}
