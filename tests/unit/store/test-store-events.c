/* The event log: the v1 Event shape, merging, the cap, listing, and events as kind "Event". */
#include "store-internal.h"
#include "store-test-util.h"

TestSuite(store_events, .init = store_setup, .fini = store_teardown);

#define T0 (1763754523ULL * USEC_PER_SEC)

static cJSON *stored_pod(const char *ns, const char *name)
{
        _cleanup_json_ cJSON *pod = make_pod(ns, name, "img", NULL);
        cJSON *ret = NULL;

        cr_assert_eq(store_create(store, pod, &ret), 0);
        return ret;
}

static cJSON *list_events(const char *ns, const char *uid)
{
        cJSON *list = NULL;

        cr_assert_eq(store_list_events(store, ns, uid, &list), 0);
        return list;
}

Test(store_events, records_a_v1_event_about_the_involved_object)
{
        _cleanup_json_ cJSON *pod = stored_pod("prod", "web"), *list = NULL;
        const cJSON *ev;

        store_set_now(store, T0);
        cr_assert_eq(store_event(store, pod, "Normal", "Scheduled", "Successfully assigned prod/web"), 0);
        list = list_events(NULL, NULL);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
        ev = cJSON_GetArrayItem(list, 0);
        cr_assert_str_eq(json_str(ev, "apiVersion"), "v1");
        cr_assert_str_eq(json_str(ev, "kind"), "Event");
        cr_assert(startswith(json_str(ev, "metadata.name"), "web."));
        cr_assert_eq(strlen(json_str(ev, "metadata.name")), strlen("web.") + 16);
        cr_assert_str_eq(json_str(ev, "metadata.namespace"), "prod");
        cr_assert_eq(strlen(json_str(ev, "metadata.uid")), 36);
        cr_assert_str_eq(json_str(ev, "metadata.resourceVersion"), "2");
        cr_assert_str_eq(json_str(ev, "involvedObject.kind"), "Pod");
        cr_assert_str_eq(json_str(ev, "involvedObject.name"), "web");
        cr_assert_str_eq(json_str(ev, "involvedObject.namespace"), "prod");
        cr_assert_str_eq(json_str(ev, "involvedObject.uid"), json_str(pod, "metadata.uid"));
        cr_assert_str_eq(json_str(ev, "involvedObject.apiVersion"), "v1");
        cr_assert_str_eq(json_str(ev, "involvedObject.resourceVersion"), "1");
        cr_assert_str_eq(json_str(ev, "reason"), "Scheduled");
        cr_assert_str_eq(json_str(ev, "message"), "Successfully assigned prod/web");
        cr_assert_str_eq(json_str(ev, "type"), "Normal");
        cr_assert_eq(json_int(ev, "count", 0), 1);
        cr_assert_str_eq(json_str(ev, "firstTimestamp"), "2025-11-21T19:48:43Z");
        cr_assert_str_eq(json_str(ev, "lastTimestamp"), "2025-11-21T19:48:43Z");
        cr_assert_str_eq(json_str(ev, "source.component"), "berth");
        cr_assert_null(json_path(ev, "source.host"));
}

Test(store_events, merges_the_same_event_within_ten_minutes)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web"), *list = NULL;
        const cJSON *ev;

        store_set_now(store, T0);
        cr_assert_eq(store_event(store, pod, "Warning", "BackOff", "Back-off restarting"), 0);
        store_set_now(store, T0 + 599 * USEC_PER_SEC);
        cr_assert_eq(store_event(store, pod, "Warning", "BackOff", "Back-off restarting"), 0);
        list = list_events("default", NULL);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
        ev = cJSON_GetArrayItem(list, 0);
        cr_assert_eq(json_int(ev, "count", 0), 2);
        cr_assert_str_eq(json_str(ev, "firstTimestamp"), "2025-11-21T19:48:43Z");
        cr_assert_str_eq(json_str(ev, "lastTimestamp"), "2025-11-21T19:58:42Z");
        cr_assert_str_eq(json_str(ev, "metadata.resourceVersion"), "3");
}

Test(store_events, starts_a_new_event_after_ten_minutes_or_on_another_message)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web"), *list = NULL;

        store_set_now(store, T0);
        cr_assert_eq(store_event(store, pod, "Warning", "BackOff", "Back-off restarting"), 0);
        store_set_now(store, T0 + 601 * USEC_PER_SEC);
        cr_assert_eq(store_event(store, pod, "Warning", "BackOff", "Back-off restarting"), 0);
        cr_assert_eq(store_event(store, pod, "Warning", "BackOff", "another message"), 0);
        cr_assert_eq(store_event(store, pod, "Normal", "BackOff", "another message"), 0);
        list = list_events(NULL, NULL);
        cr_assert_eq(cJSON_GetArraySize(list), 4);
        cr_assert_eq(json_int(cJSON_GetArrayItem(list, 1), "count", 0), 1);
        cr_assert_str_neq(json_str(cJSON_GetArrayItem(list, 0), "metadata.name"),
                          json_str(cJSON_GetArrayItem(list, 1), "metadata.name"));
}

Test(store_events, caps_the_log_dropping_the_oldest_first)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web"), *list = NULL;
        char reason[16];

        store_set_events_max(store, 3);
        for (int i = 0; i < 5; i++) {
                store_set_now(store, T0 + (usec_t)i * USEC_PER_SEC);
                snprintf(reason, sizeof(reason), "R%d", i);
                cr_assert_eq(store_event(store, pod, "Normal", reason, "m"), 0);
        }
        /* R2 happens again: it becomes the newest and survives the next trim */
        store_set_now(store, T0 + 10 * USEC_PER_SEC);
        cr_assert_eq(store_event(store, pod, "Normal", "R2", "m"), 0);
        store_set_now(store, T0 + 11 * USEC_PER_SEC);
        cr_assert_eq(store_event(store, pod, "Normal", "R5", "m"), 0);
        list = list_events(NULL, NULL);
        cr_assert_eq(cJSON_GetArraySize(list), 3);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 0), "reason"), "R4");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 1), "reason"), "R2");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 2), "reason"), "R5");
}

Test(store_events, lists_by_namespace_and_involved_uid)
{
        _cleanup_json_ cJSON *a = stored_pod("x", "a"), *b = stored_pod("y", "b");
        _cleanup_json_ cJSON *node = parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"}}");
        _cleanup_json_ cJSON *in_x = NULL, *of_b = NULL, *in_default = NULL;

        cr_assert_eq(store_event(store, a, "Normal", "Pulled", "pulled"), 0);
        cr_assert_eq(store_event(store, b, "Normal", "Pulled", "pulled"), 0);
        cr_assert_eq(store_event(store, node, "Normal", "Starting", "Starting berth."), 0);
        in_x = list_events("x", NULL);
        of_b = list_events(NULL, json_str(b, "metadata.uid"));
        in_default = list_events("default", NULL);
        cr_assert_eq(cJSON_GetArraySize(in_x), 1);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(in_x, 0), "involvedObject.name"), "a");
        cr_assert_eq(cJSON_GetArraySize(of_b), 1);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(of_b, 0), "involvedObject.name"), "b");
        cr_assert_eq(cJSON_GetArraySize(in_default), 1, "events about a Node go to \"default\"");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(in_default, 0), "involvedObject.kind"), "Node");
}

static void count_calls(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        (*(unsigned *)userdata)++;
}

Test(store_events, bump_the_resource_version_but_fire_no_callback)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web");
        unsigned calls = 0;

        store_set_on_change(store, count_calls, &calls);
        cr_assert_eq(store_event(store, pod, "Normal", "Created", "Created container c"), 0);
        cr_assert_eq(calls, 0);
        cr_assert_eq(store_resource_version(store), 2);
}

Test(store_events, are_objects_of_kind_event_for_get_list_and_delete)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web"), *list = NULL, *got = NULL, *gone = NULL;
        const char *name;

        cr_assert_eq(store_event(store, pod, "Normal", "Created", "c"), 0);
        cr_assert_eq(store_list(store, "Event", "default", NULL, &list), 0);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
        name = json_str(cJSON_GetArrayItem(list, 0), "metadata.name");
        cr_assert_eq(store_get(store, "Event", "default", name, &got), 0);
        cr_assert_str_eq(json_str(got, "reason"), "Created");
        cr_assert_eq(store_delete(store, "Event", "default", name, NULL), 0);
        cr_assert_eq(store_get(store, "Event", "default", name, &gone), -ENOENT);
        cr_assert_eq(store_create(store, got, NULL), -EOPNOTSUPP);
}

Test(store_events, rejects_bad_arguments)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web"), *noname = parse("{\"kind\":\"Pod\"}");

        cr_assert_eq(store_event(store, pod, "Info", "R", "m"), -EINVAL);
        cr_assert_eq(store_event(store, pod, "Normal", "", "m"), -EINVAL);
        cr_assert_eq(store_event(store, noname, "Normal", "R", "m"), -EINVAL);
        cr_assert_eq(store_event(store, NULL, "Normal", "R", "m"), -EINVAL);
        cr_assert_eq(store_resource_version(store), 1);
}

Test(store_events, carry_the_configured_source)
{
        _cleanup_json_ cJSON *pod = stored_pod(NULL, "web"), *list = NULL;

        cr_assert_eq(store_set_event_source(store, "kubelet", "node-1"), 0);
        cr_assert_eq(store_event(store, pod, "Normal", "Started", "Started container c"), 0);
        list = list_events(NULL, NULL);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 0), "source.component"), "kubelet");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 0), "source.host"), "node-1");
}
