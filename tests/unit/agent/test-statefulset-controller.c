#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "manifest.h"
#include "statefulset-internal.h"

static char dir[] = "/tmp/berth-test-sts-XXXXXX";
static Store *store;
static sd_event *loop;
static StatefulSetController *sc;

static void on_change(Store *s, StoreChange ch, const cJSON *obj, void *u)
{
        (void)s;
        statefulset_controller_on_store_change(u, ch, obj);
}

static void setup(void)
{
        StatefulSetControllerOptions o = {.node_name = "n1"};

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(statefulset_controller_new(&sc, loop, store, &o), 0);
        store_set_on_change(store, on_change, sc);
}

static void teardown(void)
{
        statefulset_controller_free(sc);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}

TestSuite(statefulset, .init = setup, .fini = teardown);

#define LONG_AGO "2020-01-01T00:00:00Z"

static void drain(void)
{
        for (int i = 0; i < 500; i++)
                if (sd_event_run(loop, 0) <= 0)
                        break;
}

#define TEMPLATE(image)                                                                                     \
        "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"                                                 \
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"restartPolicy\":\"Always\"," \
        "\"containers\":[{\"name\":\"main\",\"image\":\"" image "\"}]}}"

#define CLAIMS                                                                                              \
        "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\",\"labels\":{\"tier\":\"db\"}},"         \
        "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}" \
        "}]"

/* A set "web" as the manifest module leaves it: with SetDefaults_StatefulSet applied. */
static void create_set(const char *spec)
{
        _cleanup_free_ char *s =
            strjoin("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":"
                    "\"web\",\"namespace\":\"default\"},\"spec\":",
                    spec, "}", NULL);
        _cleanup_json_ cJSON *j = cJSON_Parse(s);

        cr_assert_not_null(j, "bad test json: %s", s);
        cr_assert_eq(manifest_default(j), 0);
        cr_assert_eq(store_create(store, j, NULL), 0);
        drain();
}

static cJSON *get(const char *kind, const char *name)
{
        cJSON *o = NULL;

        return store_get(store, kind, "default", name, &o) < 0 ? NULL : o;
}

static bool exists(const char *kind, const char *name)
{
        _cleanup_json_ cJSON *o = get(kind, name);

        return o != NULL;
}

static bool terminating(const char *pod)
{
        _cleanup_json_ cJSON *o = get("Pod", pod);

        return o && json_str(o, "metadata.deletionTimestamp");
}

static void pod_status(const char *pod, const char *phase, const char *ready, const char *since)
{
        char buf[512];
        _cleanup_json_ cJSON *st = NULL;

        snprintf(buf, sizeof buf,
                 "{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
                 "\"lastTransitionTime\":\"%s\"}]}",
                 phase, ready, since);
        st = cJSON_Parse(buf);
        cr_assert_eq(store_update_status(store, "Pod", "default", pod, st), 0, "no pod %s", pod);
        drain();
}

static void ready(const char *pod)
{
        pod_status(pod, "Running", "True", LONG_AGO);
}

/* The pod controller's part of a deletion: the marked pod goes away. */
static void finish_delete(const char *pod)
{
        cr_assert(terminating(pod), "%s is not being deleted", pod);
        cr_assert_eq(store_delete(store, "Pod", "default", pod, NULL), 0);
        drain();
}

static int64_t status_int(const char *field)
{
        _cleanup_json_ cJSON *set = get("StatefulSet", "web");

        return json_int(json_path(set, "status"), field, -1);
}

static char *status_str(const char *field)
{
        _cleanup_json_ cJSON *set = get("StatefulSet", "web");

        return strdup(json_str(json_path(set, "status"), field) ?: "");
}

static void edit_spec(const char *field, const char *value_json)
{
        _cleanup_json_ cJSON *set = get("StatefulSet", "web");

        cr_assert_not_null(set);
        cr_assert_eq(json_set(json_path(set, "spec"), field, cJSON_Parse(value_json)), 0);
        cr_assert_eq(store_update(store, set, NULL), 0);
        drain();
}

static void set_image(const char *image)
{
        _cleanup_json_ cJSON *set = get("StatefulSet", "web");
        cJSON *c = cJSON_GetArrayItem(json_path(set, "spec.template.spec.containers"), 0);

        cr_assert_eq(json_set_string(c, "image", image), 0);
        cr_assert_eq(store_update(store, set, NULL), 0);
        drain();
}

static const char *image_of(const cJSON *pod)
{
        return json_str(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "image");
}

static bool has_event(const char *reason, const char *message)
{
        _cleanup_json_ cJSON *ev = NULL;
        const cJSON *e;

        cr_assert_eq(store_list_events(store, NULL, NULL, &ev), 0);
        cJSON_ArrayForEach (e, ev)
                if (streq_ptr(json_str(e, "reason"), reason) && streq_ptr(json_str(e, "message"), message))
                        return true;
        return false;
}

static bool has_reason(const char *reason)
{
        _cleanup_json_ cJSON *ev = NULL;
        const cJSON *e;

        cr_assert_eq(store_list_events(store, NULL, NULL, &ev), 0);
        cJSON_ArrayForEach (e, ev)
                if (streq_ptr(json_str(e, "reason"), reason))
                        return true;
        return false;
}

static const char *label(const cJSON *obj, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(obj, "metadata.labels"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* n replicas, all created and Running+Ready (OrderedReady: one after the other). */
static void bring_up(int n)
{
        char name[32];

        for (int i = 0; i < n; i++) {
                snprintf(name, sizeof name, "web-%d", i);
                cr_assert(exists("Pod", name), "%s was not created", name);
                ready(name);
        }
}

Test(statefulset, ordered_ready_creates_the_next_pod_only_after_the_previous_is_ready)
{
        create_set("{\"replicas\":3,\"serviceName\":\"nginx\"," TEMPLATE("nginx:1") "}");
        cr_assert(exists("Pod", "web-0"));
        cr_assert_not(exists("Pod", "web-1"));
        cr_assert(has_event("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful"));

        pod_status("web-0", "Running", "False", LONG_AGO);
        cr_assert_not(exists("Pod", "web-1"), "web-1 must wait for web-0 to be Ready");
        ready("web-0");
        cr_assert(exists("Pod", "web-1"));
        cr_assert_not(exists("Pod", "web-2"));
        ready("web-1");
        cr_assert(exists("Pod", "web-2"));
}

Test(statefulset, pods_carry_identity_labels_hostname_subdomain_and_the_set_as_controller)
{
        create_set("{\"replicas\":1,\"serviceName\":\"nginx\"," TEMPLATE("nginx:1") "}");
        _cleanup_json_ cJSON *pod = get("Pod", "web-0"), *set = get("StatefulSet", "web");
        _cleanup_free_ char *rev = status_str("updateRevision");
        const cJSON *ref = cJSON_GetArrayItem(json_path(pod, "metadata.ownerReferences"), 0);

        cr_assert_not_null(pod);
        cr_assert_str_eq(json_str(pod, "spec.hostname"), "web-0");
        cr_assert_str_eq(json_str(pod, "spec.subdomain"), "nginx");
        cr_assert_str_eq(label(pod, "app"), "web");
        cr_assert_str_eq(label(pod, "statefulset.kubernetes.io/pod-name"), "web-0");
        cr_assert_str_eq(label(pod, "apps.kubernetes.io/pod-index"), "0");
        cr_assert(startswith(rev, "web-"));
        cr_assert_str_eq(label(pod, "controller-revision-hash"), rev);
        cr_assert_str_eq(json_str(ref, "kind"), "StatefulSet");
        cr_assert_str_eq(json_str(ref, "apiVersion"), "apps/v1");
        cr_assert_str_eq(json_str(ref, "uid"), json_str(set, "metadata.uid"));
        cr_assert(json_bool(ref, "controller", false));
}

Test(statefulset, ordinals_start_offsets_names_and_index_labels)
{
        create_set("{\"replicas\":2,\"ordinals\":{\"start\":5}," TEMPLATE("nginx:1") "}");
        cr_assert(exists("Pod", "web-5"));
        cr_assert_not(exists("Pod", "web-0"));
        ready("web-5");
        _cleanup_json_ cJSON *pod = get("Pod", "web-6");

        cr_assert_not_null(pod);
        cr_assert_str_eq(label(pod, "apps.kubernetes.io/pod-index"), "6");
        cr_assert_not(exists("Pod", "web-7"));
}

Test(statefulset, claims_are_created_before_the_pod_and_mounted_as_the_template_volume)
{
        create_set(
            "{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
            "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":"
            "\"main\",\"image\":\"nginx\"}],\"volumes\":[{\"name\":\"cfg\",\"emptyDir\":{}},{\"name\":"
            "\"data\","
            "\"emptyDir\":{}}]}}," CLAIMS "}");
        _cleanup_json_ cJSON *claim = get("PersistentVolumeClaim", "data-web-0"), *pod = get("Pod", "web-0");
        const cJSON *vols = json_path(pod, "spec.volumes");

        cr_assert_not_null(claim);
        cr_assert_str_eq(label(claim, "tier"), "db");
        cr_assert_str_eq(label(claim, "app"), "web");
        cr_assert_str_eq(json_str(claim, "spec.resources.requests.storage"), "1Gi");
        cr_assert_str_eq(json_str(claim, "spec.volumeMode"), "Filesystem");
        cr_assert_null(json_path(claim, "metadata.ownerReferences"), "Retain/Retain claims have no owner");
        cr_assert_eq(cJSON_GetArraySize(vols), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(vols, 0), "name"), "data");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(vols, 0), "persistentVolumeClaim.claimName"),
                         "data-web-0");
        cr_assert_null(json_path(cJSON_GetArrayItem(vols, 0), "emptyDir"));
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(vols, 1), "name"), "cfg");
        cr_assert(
            has_event("SuccessfulCreate", "create Claim data-web-0 Pod web-0 in StatefulSet web success"));
}

Test(statefulset, an_existing_claim_is_neither_recreated_nor_changed)
{
        _cleanup_json_ cJSON *pre =
            cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
                        "\"metadata\":{\"name\":\"data-web-0\",\"namespace\":\"default\"},"
                        "\"spec\":{\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}}");
        _cleanup_json_ cJSON *before = NULL, *after = NULL;

        cr_assert_eq(store_create(store, pre, &before), 0);
        create_set("{\"replicas\":1," TEMPLATE("nginx:1") "," CLAIMS "}");
        cr_assert(exists("Pod", "web-0"));
        after = get("PersistentVolumeClaim", "data-web-0");
        cr_assert_str_eq(json_str(after, "metadata.resourceVersion"),
                         json_str(before, "metadata.resourceVersion"));
        cr_assert_str_eq(json_str(after, "spec.resources.requests.storage"), "5Gi");
}

Test(statefulset, scale_down_deletes_from_the_highest_ordinal_one_at_a_time)
{
        create_set("{\"replicas\":3," TEMPLATE("nginx:1") "}");
        bring_up(3);
        edit_spec("replicas", "1");
        cr_assert(terminating("web-2"));
        cr_assert_not(terminating("web-1"), "web-1 must wait for web-2 to be gone");
        cr_assert(has_event("SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful"));
        finish_delete("web-2");
        cr_assert(terminating("web-1"));
        cr_assert_not(terminating("web-0"));
        finish_delete("web-1");
        cr_assert_not(terminating("web-0"));
        cr_assert_eq(status_int("replicas"), 1);
}

Test(statefulset, ordered_ready_stops_while_a_pod_is_unhealthy)
{
        create_set("{\"replicas\":3," TEMPLATE("nginx:1") "}");
        bring_up(3);
        pod_status("web-0", "Running", "False", LONG_AGO);
        edit_spec("replicas", "2");
        cr_assert_not(terminating("web-2"), "an unhealthy web-0 blocks the scale-down");
        ready("web-0");
        cr_assert(terminating("web-2"));
}

Test(statefulset, parallel_creates_and_deletes_all_at_once)
{
        create_set("{\"replicas\":3,\"podManagementPolicy\":\"Parallel\"," TEMPLATE("nginx:1") "}");
        cr_assert(exists("Pod", "web-0"));
        cr_assert(exists("Pod", "web-1"));
        cr_assert(exists("Pod", "web-2"));
        edit_spec("replicas", "0");
        cr_assert(terminating("web-0"));
        cr_assert(terminating("web-1"));
        cr_assert(terminating("web-2"));
}

Test(statefulset, rolling_update_goes_down_to_the_partition_and_recreates_below_it_at_the_current_revision)
{
        create_set("{\"replicas\":4,\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
                   "\"partition\":2}}," TEMPLATE("nginx:1") "}");
        bring_up(4);
        _cleanup_free_ char *old_rev = status_str("currentRevision");
        set_image("nginx:2");
        _cleanup_free_ char *new_rev = status_str("updateRevision");

        cr_assert_str_neq(old_rev, new_rev);
        cr_assert(terminating("web-3"));
        cr_assert_not(terminating("web-2"), "one pod at a time");
        finish_delete("web-3");
        {
                _cleanup_json_ cJSON *p3 = get("Pod", "web-3");
                cr_assert_str_eq(image_of(p3), "nginx:2");
                cr_assert_str_eq(label(p3, "controller-revision-hash"), new_rev);
        }
        cr_assert_not(terminating("web-2"), "web-2 waits for web-3 to be Ready");
        ready("web-3");
        cr_assert(terminating("web-2"));
        finish_delete("web-2");
        ready("web-2");
        cr_assert_not(terminating("web-1"));
        cr_assert_not(terminating("web-0"));
        cr_assert_eq(status_int("updatedReplicas"), 2);
        cr_assert_eq(status_int("currentReplicas"), 2);
        {
                _cleanup_free_ char *cur = status_str("currentRevision");
                cr_assert_str_eq(cur, old_rev, "the update is not complete below the partition");
        }

        /* ordinal 0 lost: recreated at the current revision, with the old template */
        cr_assert_eq(store_delete(store, "Pod", "default", "web-0", NULL), 0);
        drain();
        _cleanup_json_ cJSON *p0 = get("Pod", "web-0");
        cr_assert_not_null(p0);
        cr_assert_str_eq(image_of(p0), "nginx:1");
        cr_assert_str_eq(label(p0, "controller-revision-hash"), old_rev);
}

Test(statefulset, rolling_update_completes_and_makes_the_update_revision_current)
{
        create_set("{\"replicas\":2," TEMPLATE("nginx:1") "}");
        bring_up(2);
        set_image("nginx:2");
        _cleanup_free_ char *new_rev = status_str("updateRevision");
        finish_delete("web-1");
        ready("web-1");
        finish_delete("web-0");
        ready("web-0");
        _cleanup_free_ char *cur = status_str("currentRevision");
        cr_assert_str_eq(cur, new_rev);
        cr_assert_eq(status_int("currentReplicas"), 2);
        cr_assert_eq(status_int("updatedReplicas"), 2);
}

Test(statefulset, max_unavailable_updates_that_many_pods_at_once)
{
        create_set("{\"replicas\":4,\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
                   "\"partition\":0,\"maxUnavailable\":2}}," TEMPLATE("nginx:1") "}");
        bring_up(4);
        set_image("nginx:2");
        cr_assert(terminating("web-3"));
        cr_assert(terminating("web-2"));
        cr_assert_not(terminating("web-1"));
        finish_delete("web-3");
        /* OrderedReady: the terminating web-2 holds back the recreation of web-3 */
        cr_assert_not(exists("Pod", "web-3"));
        finish_delete("web-2");
        ready("web-2");
        cr_assert_not(terminating("web-1"), "web-3 is still unavailable");
        ready("web-3");
        cr_assert(terminating("web-1"));
        cr_assert(terminating("web-0"));
}

Test(statefulset, max_unavailable_percent_rounds_down_to_at_least_one)
{
        StsParams p = {0};
        _cleanup_json_ cJSON *set =
            cJSON_Parse("{\"spec\":{\"replicas\":5,\"updateStrategy\":{\"type\":"
                        "\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"50%\"}}}}");

        sts_params_from_set(set, &p);
        cr_assert_eq(sts_max_unavailable(&p), 2);
        cJSON_ReplaceItemInObject(json_path(set, "spec.updateStrategy.rollingUpdate"), "maxUnavailable",
                                  cJSON_CreateString("10%"));
        sts_params_from_set(set, &p);
        cr_assert_eq(sts_max_unavailable(&p), 1);
}

Test(statefulset, on_delete_gives_the_update_revision_only_to_deleted_pods)
{
        create_set("{\"replicas\":2,\"updateStrategy\":{\"type\":\"OnDelete\"}," TEMPLATE("nginx:1") "}");
        bring_up(2);
        set_image("nginx:2");
        cr_assert_not(terminating("web-1"));
        cr_assert_not(terminating("web-0"));
        cr_assert_eq(store_delete(store, "Pod", "default", "web-1", NULL), 0);
        drain();
        _cleanup_json_ cJSON *p1 = get("Pod", "web-1"), *p0 = get("Pod", "web-0");
        cr_assert_str_eq(image_of(p1), "nginx:2");
        cr_assert_str_eq(image_of(p0), "nginx:1");
}

Test(statefulset, when_scaled_delete_deletes_the_claim_of_the_removed_ordinal)
{
        create_set("{\"replicas\":2,\"persistentVolumeClaimRetentionPolicy\":{\"whenScaled\":\"Delete\","
                   "\"whenDeleted\":\"Retain\"}," TEMPLATE("nginx:1") "," CLAIMS "}");
        bring_up(2);
        edit_spec("replicas", "1");
        {
                _cleanup_json_ cJSON *claim = get("PersistentVolumeClaim", "data-web-1"),
                                     *pod = get("Pod", "web-1");
                const cJSON *ref = cJSON_GetArrayItem(json_path(claim, "metadata.ownerReferences"), 0);

                cr_assert_str_eq(json_str(ref, "kind"), "Pod");
                cr_assert_str_eq(json_str(ref, "uid"), json_str(pod, "metadata.uid"));
        }
        finish_delete("web-1");
        cr_assert_not(exists("PersistentVolumeClaim", "data-web-1"));
        cr_assert(exists("PersistentVolumeClaim", "data-web-0"));

        /* scaled up again: a fresh claim */
        edit_spec("replicas", "2");
        cr_assert(exists("Pod", "web-1"));
        cr_assert(exists("PersistentVolumeClaim", "data-web-1"));
}

Test(statefulset, when_scaled_retain_keeps_the_claim)
{
        create_set("{\"replicas\":2," TEMPLATE("nginx:1") "," CLAIMS "}");
        bring_up(2);
        edit_spec("replicas", "1");
        finish_delete("web-1");
        _cleanup_json_ cJSON *claim = get("PersistentVolumeClaim", "data-web-1");
        cr_assert_not_null(claim);
        cr_assert_null(json_path(claim, "metadata.ownerReferences"));
}

Test(statefulset, when_deleted_delete_lets_the_set_take_its_claims_along)
{
        create_set("{\"replicas\":2,\"persistentVolumeClaimRetentionPolicy\":{\"whenScaled\":\"Retain\","
                   "\"whenDeleted\":\"Delete\"}," TEMPLATE("nginx:1") "," CLAIMS "}");
        bring_up(2);
        {
                _cleanup_json_ cJSON *claim = get("PersistentVolumeClaim", "data-web-0"),
                                     *set = get("StatefulSet", "web");
                const cJSON *ref = cJSON_GetArrayItem(json_path(claim, "metadata.ownerReferences"), 0);
                cr_assert_str_eq(json_str(ref, "kind"), "StatefulSet");
                cr_assert_str_eq(json_str(ref, "uid"), json_str(set, "metadata.uid"));
        }
        cr_assert_eq(store_delete_object(store, "StatefulSet", "default", "web", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        drain();
        cr_assert_not(exists("PersistentVolumeClaim", "data-web-0"));
        cr_assert_not(exists("PersistentVolumeClaim", "data-web-1"));
        cr_assert(terminating("web-0"));
        cr_assert(terminating("web-1"));
}

Test(statefulset, when_deleted_retain_keeps_claims_and_an_orphan_delete_keeps_the_pods)
{
        create_set("{\"replicas\":1," TEMPLATE("nginx:1") "," CLAIMS "}");
        bring_up(1);
        cr_assert_eq(
            store_delete_object(store, "StatefulSet", "default", "web", -1, STORE_PROPAGATE_ORPHAN, NULL),
            0);
        drain();
        _cleanup_json_ cJSON *pod = get("Pod", "web-0");
        cr_assert_not_null(pod);
        cr_assert_null(json_str(pod, "metadata.deletionTimestamp"));
        cr_assert_null(json_path(pod, "metadata.ownerReferences"));
        cr_assert(exists("PersistentVolumeClaim", "data-web-0"));

        /* a new set of that name adopts the orphan */
        create_set("{\"replicas\":1," TEMPLATE("nginx:1") "," CLAIMS "}");
        _cleanup_json_ cJSON *adopted = get("Pod", "web-0"), *set = get("StatefulSet", "web");
        const cJSON *ref = cJSON_GetArrayItem(json_path(adopted, "metadata.ownerReferences"), 0);
        cr_assert_str_eq(json_str(ref, "uid"), json_str(set, "metadata.uid"));
}

Test(statefulset, status_counts_revisions_and_observed_generation)
{
        create_set("{\"replicas\":2," TEMPLATE("nginx:1") "}");
        bring_up(2);
        cr_assert_eq(status_int("replicas"), 2);
        cr_assert_eq(status_int("readyReplicas"), 2);
        cr_assert_eq(status_int("availableReplicas"), 2);
        cr_assert_eq(status_int("currentReplicas"), 2);
        cr_assert_eq(status_int("updatedReplicas"), 2);
        cr_assert_eq(status_int("observedGeneration"), 1);
        cr_assert_eq(status_int("collisionCount"), 0);
        cr_assert_not(has_reason("SuccessfulUpdate"), "pods that match their set are left alone");
        _cleanup_free_ char *cur = status_str("currentRevision"), *upd = status_str("updateRevision");
        cr_assert_str_eq(cur, upd);

        set_image("nginx:2");
        cr_assert_eq(status_int("observedGeneration"), 2);
        _cleanup_free_ char *upd2 = status_str("updateRevision");
        cr_assert_str_neq(upd2, upd);
        /* web-1 is being replaced: it counts as neither current nor updated */
        cr_assert_eq(status_int("currentReplicas"), 1);
        cr_assert_eq(status_int("updatedReplicas"), 0);
}

Test(statefulset, controller_revisions_are_numbered_and_a_rollback_reuses_the_old_one)
{
        create_set("{\"replicas\":1," TEMPLATE("nginx:1") "}");
        _cleanup_free_ char *r1 = status_str("updateRevision");
        _cleanup_json_ cJSON *rev1 = get("ControllerRevision", r1);

        cr_assert_not_null(rev1);
        cr_assert_eq(json_int(rev1, "revision", 0), 1);
        cr_assert_str_eq(json_str(rev1, "data.spec.template.$patch"), "replace");
        cr_assert_str_eq(label(rev1, "controller.kubernetes.io/hash"), r1 + strlen("web-"));
        cr_assert_str_eq(label(rev1, "app"), "web");
        set_image("nginx:2");
        _cleanup_free_ char *r2 = status_str("updateRevision");
        _cleanup_json_ cJSON *rev2 = get("ControllerRevision", r2);
        cr_assert_eq(json_int(rev2, "revision", 0), 2);

        set_image("nginx:1");
        _cleanup_free_ char *r3 = status_str("updateRevision");
        _cleanup_json_ cJSON *back = get("ControllerRevision", r1);
        cr_assert_str_eq(r3, r1);
        cr_assert_eq(json_int(back, "revision", 0), 3);
}

Test(statefulset, revision_history_beyond_the_limit_is_deleted)
{
        create_set("{\"replicas\":0,\"revisionHistoryLimit\":1," TEMPLATE("nginx:1") "}");
        _cleanup_free_ char *r1 = status_str("updateRevision");
        set_image("nginx:2");
        set_image("nginx:3");
        _cleanup_free_ char *r3 = status_str("updateRevision");
        _cleanup_json_ cJSON *revs = NULL;

        cr_assert_eq(store_list(store, "ControllerRevision", "default", NULL, &revs), 0);
        /* live: current and update; one more of history */
        cr_assert_eq(cJSON_GetArraySize(revs), 2, "%d revisions", cJSON_GetArraySize(revs));
        cr_assert(exists("ControllerRevision", r3));
}

Test(statefulset, a_failed_or_succeeded_pod_is_deleted_and_recreated)
{
        create_set("{\"replicas\":1," TEMPLATE("nginx:1") "}");
        _cleanup_json_ cJSON *first = get("Pod", "web-0");
        pod_status("web-0", "Failed", "False", LONG_AGO);
        cr_assert(terminating("web-0"));
        finish_delete("web-0");
        _cleanup_json_ cJSON *second = get("Pod", "web-0");
        cr_assert_not_null(second);
        cr_assert_str_neq(json_str(second, "metadata.uid"), json_str(first, "metadata.uid"));
        pod_status("web-0", "Succeeded", "False", LONG_AGO);
        cr_assert(terminating("web-0"));
}

Test(statefulset, min_ready_seconds_delays_availability_and_the_next_pod)
{
        char now[64];

        cr_assert_eq(format_rfc3339(now_usec(CLOCK_REALTIME), now, sizeof now), 0);
        create_set("{\"replicas\":2,\"minReadySeconds\":60," TEMPLATE("nginx:1") "}");
        pod_status("web-0", "Running", "True", now);
        cr_assert_not(exists("Pod", "web-1"), "web-0 is not available for 60 s");
        cr_assert_eq(status_int("readyReplicas"), 1);
        cr_assert_eq(status_int("availableReplicas"), 0);
        pod_status("web-0", "Running", "True", LONG_AGO);
        cr_assert(exists("Pod", "web-1"));
        cr_assert_eq(status_int("availableReplicas"), 1);
}

Test(statefulset, resync_enqueues_every_set)
{
        create_set("{\"replicas\":1," TEMPLATE("nginx:1") "}");
        /* the deletion is not reported: only resync brings the pod back */
        store_set_on_change(store, NULL, NULL);
        cr_assert_eq(store_delete(store, "Pod", "default", "web-0", NULL), 0);
        drain();
        cr_assert_not(exists("Pod", "web-0"));
        store_set_on_change(store, on_change, sc);
        cr_assert_eq(statefulset_controller_resync(sc), 0);
        drain();
        cr_assert(exists("Pod", "web-0"));
}
