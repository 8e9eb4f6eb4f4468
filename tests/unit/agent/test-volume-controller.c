/* Tests for volume-controller.c and storage-class.c with directory classes (no root needed):
 * claims bound to provisioned volumes, default and missing classes, maxSize and free space,
 * pvc-protection, Delete and Retain, expansion, publication for pods, ReadWriteOncePod. The
 * loop and block classes run against real devices in tests/integration/test-pvc.sh. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

#include "event-run.h"
#include "json-util.h"
#include "volume-controller.h"

static char dir[] = "/tmp/berth-test-volctl-XXXXXX";
static Store *store;
static sd_event *loop;
static StorageClassTable classes;
static VolumeController *vc;

static void on_change(Store *s, StoreChange ch, const cJSON *obj, void *u)
{
        (void)s;
        volume_controller_on_store_change(u, ch, obj);
}

static void setup(void)
{
        _cleanup_json_ cJSON *cfg = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_geq(
            asprintf_safe(&text,
                          "{\"local\":{\"type\":\"dir\",\"path\":\"%s/dir\"},"
                          "\"keep\":{\"type\":\"dir\",\"path\":\"%s/keep\",\"reclaimPolicy\":\"Retain\"},"
                          "\"tiny\":{\"type\":\"dir\",\"path\":\"%s/tiny\",\"maxSize\":\"1Mi\","
                          "\"allowVolumeExpansion\":false}}",
                          dir, dir, dir),
            0);
        cfg = cJSON_Parse(text);
        cr_assert_not_null(cfg);
        cr_assert_eq(storage_class_table_parse(cfg, "local", dir, &classes, &err), 0, "%s", err ?: "");
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(volume_controller_new(&vc, loop, store,
                                           &(VolumeControllerOptions){
                                               .node_name = "n1", .state_dir = dir, .classes = &classes}),
                     0);
        store_set_on_change(store, on_change, vc);
}

static void teardown(void)
{
        volume_controller_free(vc);
        storage_class_table_done(&classes);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}

TestSuite(volume_controller, .init = setup, .fini = teardown);

static void settle(void)
{
        event_run_for(loop, 200 * USEC_PER_MSEC);
}

static void apply_json(const char *fmt, ...) _printf_(1, 2);
static void apply_json(const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        _cleanup_json_ cJSON *j = NULL;
        va_list ap;

        va_start(ap, fmt);
        cr_assert_geq(vasprintf(&s, fmt, ap), 0);
        va_end(ap);
        j = cJSON_Parse(s);
        cr_assert_not_null(j, "bad JSON in test: %s", s);
        cr_assert_eq(store_apply(store, j, NULL, NULL, NULL), 0);
}

static void claim(const char *name, const char *class_json, const char *size, const char *mode)
{
        apply_json(
            "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"%s\"},"
            "\"spec\":{%s%s%s\"accessModes\":[\"%s\"],\"volumeMode\":\"Filesystem\","
            "\"resources\":{\"requests\":{\"storage\":\"%s\"}}}}",
            name, class_json ? "\"storageClassName\":" : "", class_json ?: "", class_json ? "," : "",
            mode ?: "ReadWriteOnce", size);
}

static void pod(const char *name, const char *claim_name, const char *phase)
{
        apply_json(
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
            "\"spec\":{\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"%s\"}}],"
            "\"containers\":[]}}",
            name, claim_name);
        if (phase) {
                _cleanup_json_ cJSON *st = cJSON_CreateObject();
                json_set_string(st, "phase", phase);
                cr_assert_eq(store_update_status(store, "Pod", "default", name, st), 0);
        }
}

static cJSON *get(const char *kind, const char *name)
{
        cJSON *o = NULL;
        int r = store_get(store, kind, streq(kind, "PersistentVolume") ? NULL : "default", name, &o);

        return r < 0 ? NULL : o;
}

static bool has_event(const char *reason, const char *needle)
{
        _cleanup_json_ cJSON *evs = NULL;
        const cJSON *e;

        cr_assert_eq(store_list_events(store, NULL, NULL, &evs), 0);
        cJSON_ArrayForEach (e, evs)
                if (streq_ptr(json_str(e, "reason"), reason) && strstr(json_str(e, "message") ?: "", needle))
                        return true;
        return false;
}

static const char *item_string(const cJSON *array, int i)
{
        return cJSON_GetStringValue(cJSON_GetArrayItem(array, i)) ?: "";
}

static char *bound_volume(const char *name)
{
        _cleanup_json_ cJSON *c = get("PersistentVolumeClaim", name);

        cr_assert_not_null(c);
        cr_assert_str_eq(json_str(c, "status.phase") ?: "", "Bound", "claim %s: %s", name,
                         cJSON_PrintUnformatted(c));
        return strdup(json_str(c, "spec.volumeName"));
}

Test(volume_controller, default_class_provisions_and_binds)
{
        _cleanup_free_ char *pv = NULL, *path = NULL;
        _cleanup_json_ cJSON *c = NULL, *v = NULL, *sc = NULL;
        struct stat st;

        claim("data", NULL, "16Mi", NULL);
        settle();
        pv = bound_volume("data");
        c = get("PersistentVolumeClaim", "data");
        cr_expect_str_eq(json_str(c, "spec.storageClassName"), "local");
        cr_expect_str_eq(json_str(c, "status.capacity.storage"), "16Mi");
        cr_expect_str_eq(item_string(json_path(c, "status.accessModes"), 0), "ReadWriteOnce");
        cr_expect_str_eq(item_string(json_path(c, "metadata.finalizers"), 0),
                         "kubernetes.io/pvc-protection");
        v = get("PersistentVolume", pv);
        cr_assert_not_null(v);
        cr_expect_str_eq(json_str(v, "status.phase"), "Bound");
        cr_expect_str_eq(json_str(v, "spec.claimRef.name"), "data");
        cr_expect_str_eq(json_str(v, "spec.persistentVolumeReclaimPolicy"), "Delete");
        path = strjoin(dir, "/dir/", pv, NULL);
        cr_expect_str_eq(json_str(v, "spec.local.path"), path);
        cr_assert_eq(stat(path, &st), 0);
        cr_expect(S_ISDIR(st.st_mode));
        cr_expect_eq(st.st_mode & 0777, 0777);
        cr_expect(has_event("ProvisioningSucceeded", pv));
        /* the classes are published as StorageClass objects, the default one marked */
        cr_assert_eq(volume_controller_resync(vc), 0);
        cr_assert_eq(store_get(store, "StorageClass", NULL, "local", &sc), 0);
        cr_expect_str_eq(
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                json_path(sc, "metadata.annotations"), "storageclass.kubernetes.io/is-default-class"))
                ?: "",
            "true");
}

Test(volume_controller, bad_claims_stay_pending_with_an_event)
{
        _cleanup_json_ cJSON *pvs = NULL, *a = NULL;

        claim("nosc", "\"nosuch\"", "1Mi", NULL);
        claim("toobig", "\"tiny\"", "2Mi", NULL);
        claim("huge", "\"local\"", "1Pi", NULL);
        claim("noclass", "\"\"", "1Mi", NULL);
        settle();
        cr_expect(has_event("ProvisioningFailed", "storageclass.storage.k8s.io \"nosuch\" not found"));
        cr_expect(has_event("ProvisioningFailed",
                            "requested 2Mi is more than storage class tiny allows (maxSize 1Mi)"));
        cr_expect(has_event("ProvisioningFailed", "requested 1Pi but "));
        cr_expect(has_event("FailedBinding", "no storage class is set"));
        a = get("PersistentVolumeClaim", "nosc");
        cr_expect_str_eq(json_str(a, "status.phase"), "Pending");
        cr_assert_eq(store_list(store, "PersistentVolume", NULL, NULL, &pvs), 0);
        cr_expect_eq(cJSON_GetArraySize(pvs), 0);
}

Test(volume_controller, delete_waits_for_pods_then_reclaims)
{
        _cleanup_free_ char *pv = NULL, *path = NULL;
        _cleanup_json_ cJSON *c = NULL;

        claim("data", NULL, "1Mi", NULL);
        settle();
        pv = bound_volume("data");
        path = strjoin(dir, "/dir/", pv, NULL);
        pod("user", "data", "Running");
        cr_assert_eq(store_delete_object(store, "PersistentVolumeClaim", "default", "data", 0,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        settle();
        c = get("PersistentVolumeClaim", "data");
        cr_assert_not_null(c, "a claim in use was removed");
        cr_expect_not_null(json_str(c, "metadata.deletionTimestamp"));
        cr_expect_eq(access(path, F_OK), 0);
        /* a finished pod without its bind does not hold the claim */
        pod("user", "data", "Succeeded");
        settle();
        cr_expect_null(get("PersistentVolumeClaim", "data"));
        cr_expect_null(get("PersistentVolume", pv));
        cr_expect_neq(access(path, F_OK), 0, "Delete left the directory");
}

Test(volume_controller, retain_keeps_the_data)
{
        _cleanup_free_ char *pv = NULL, *path = NULL;
        _cleanup_json_ cJSON *v = NULL;

        claim("kept", "\"keep\"", "1Mi", NULL);
        settle();
        pv = bound_volume("kept");
        path = strjoin(dir, "/keep/", pv, "/file", NULL);
        cr_assert_eq(write_file_atomic(path, "data", 4, 0644), 0);
        cr_assert_eq(store_delete_object(store, "PersistentVolumeClaim", "default", "kept", 0,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        settle();
        cr_expect_null(get("PersistentVolumeClaim", "kept"));
        v = get("PersistentVolume", pv);
        cr_assert_not_null(v);
        cr_expect_str_eq(json_str(v, "status.phase"), "Released");
        cr_assert_eq(
            store_delete_object(store, "PersistentVolume", NULL, pv, 0, STORE_PROPAGATE_BACKGROUND, NULL),
            0);
        settle();
        cr_expect_null(get("PersistentVolume", pv));
        cr_expect_eq(access(path, F_OK), 0, "Retain lost the data");
}

Test(volume_controller, expansion_and_classes_that_refuse_it)
{
        _cleanup_free_ char *pv = NULL;
        _cleanup_json_ cJSON *c = NULL, *t = NULL;

        claim("data", NULL, "1Mi", NULL);
        claim("fixed", "\"tiny\"", "512Ki", NULL);
        settle();
        pv = bound_volume("data");
        claim("data", NULL, "4Mi", NULL); /* re-applied: the binding is kept */
        claim("fixed", "\"tiny\"", "1Mi", NULL);
        settle();
        c = get("PersistentVolumeClaim", "data");
        cr_expect_str_eq(json_str(c, "spec.volumeName"), pv);
        cr_expect_str_eq(json_str(c, "status.capacity.storage"), "4Mi");
        cr_expect_null(json_path(c, "status.conditions"));
        cr_expect(has_event("VolumeResizeFailed", "storage class tiny does not allow volume expansion"));
        t = get("PersistentVolumeClaim", "fixed");
        cr_expect_str_eq(json_str(t, "status.capacity.storage"), "512Ki");
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(json_path(t, "status.conditions"), 0), "type") ?: "",
                         "Resizing");
}

Test(volume_controller, publish_for_pods)
{
        _cleanup_free_ char *pv = NULL, *path = NULL, *err = NULL, *want = NULL;
        _cleanup_json_ cJSON *p1 = NULL, *p2 = NULL, *vol = NULL;
        bool block = true;

        vol = cJSON_Parse("{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"solo\"}}");
        pod("p1", "solo", "Running");
        p1 = get("Pod", "p1");
        cr_expect_eq(volume_controller_publish_claim(vc, p1, vol, &path, &block, &err), -EINVAL);
        cr_expect_str_eq(err, "persistentvolumeclaim \"solo\" not found");
        err = mfree(err);
        claim("solo", NULL, "1Mi", "ReadWriteOncePod");
        settle();
        pv = bound_volume("solo");
        cr_assert_eq(volume_controller_publish_claim(vc, p1, vol, &path, &block, &err), 0, "%s", err ?: "");
        want = strjoin(dir, "/dir/", pv, NULL);
        cr_expect_str_eq(path, want);
        cr_expect(!block);
        path = mfree(path);
        pod("p2", "solo", "Pending");
        p2 = get("Pod", "p2");
        cr_expect_eq(volume_controller_publish_claim(vc, p2, vol, &path, &block, &err), -EINVAL);
        cr_expect(err && strstr(err, "is ReadWriteOncePod and pod p1 already uses it"), "%s", err ?: "");
}

Test(storage_class, parse_errors_name_the_field)
{
        static const struct {
                const char *json, *default_name, *error;
        } cases[] = {
            {"{\"a\":{\"type\":\"nfs\",\"path\":\"/x\"}}", NULL,
             "storageClasses.a.type: Unsupported value: \"nfs\": supported values: \"dir\", \"loop\", "
             "\"block\""},
            {"{\"a\":{\"type\":\"dir\",\"path\":\"x\"}}", NULL,
             "storageClasses.a.path: Invalid value: \"x\": must be an absolute path"},
            {"{\"a\":{\"type\":\"loop\",\"path\":\"/x\",\"fsType\":\"btrfs\"}}", NULL,
             "storageClasses.a.fsType: Unsupported value: \"btrfs\""},
            {"{\"a\":{\"type\":\"dir\",\"path\":\"/x\",\"reclaimPolicy\":\"Recycle\"}}", NULL,
             "storageClasses.a.reclaimPolicy: Unsupported value: \"Recycle\""},
            {"{\"a\":{\"type\":\"dir\",\"path\":\"/x\",\"size\":1}}", NULL,
             "storageClasses.a.size: Unknown field"},
            {"{\"a\":{\"type\":\"dir\",\"path\":\"/x\",\"maxSize\":\"lots\"}}", NULL,
             "storageClasses.a.maxSize: Invalid"},
            {"{\"A_b\":{\"type\":\"dir\",\"path\":\"/x\"}}", NULL, "storageClasses.A_b: Invalid value"},
            {"{\"a\":{\"type\":\"dir\",\"path\":\"/x\"}}", "b",
             "defaultStorageClass: Invalid value: \"b\": no such class in storageClasses"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *j = cJSON_Parse(cases[i].json);
                _cleanup_free_ char *err = NULL;
                StorageClassTable t;

                cr_assert_not_null(j);
                cr_expect_eq(storage_class_table_parse(j, cases[i].default_name, "/s", &t, &err), -EINVAL,
                             "%s", cases[i].json);
                cr_expect(err && strstr(err, cases[i].error), "%s: got %s", cases[i].json, err ?: "(none)");
        }
}

Test(storage_class, no_classes_gives_a_default_directory_class)
{
        _cleanup_(storage_class_table_done) StorageClassTable t = {};
        _cleanup_free_ char *err = NULL;
        const StorageClass *c;

        cr_assert_eq(storage_class_table_parse(NULL, NULL, "/var/lib/berth", &t, &err), 0);
        cr_assert_eq(t.n, 1);
        c = storage_class_find(&t, "local");
        cr_assert_not_null(c);
        cr_expect_str_eq(c->path, "/var/lib/berth/storage/local");
        cr_expect_eq(c->type, LOCAL_VOLUME_DIR);
        cr_expect(c->reclaim_delete);
        cr_expect_str_eq(t.default_name, "local");
}
