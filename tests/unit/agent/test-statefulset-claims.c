#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "statefulset-internal.h"

#define SET_UID "set-uid"
#define POD_UID "pod-uid"

/* The set stays alive for the test: the params borrow from it. */
static cJSON *set;

static void free_set(void)
{
        set = (cJSON_Delete(set), NULL);
}

TestSuite(statefulset_claims, .fini = free_set);

static StsParams params(const char *scaled, const char *deleted)
{
        char buf[512];
        StsParams p;

        cJSON_Delete(set);
        snprintf(buf, sizeof buf,
                 "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"" SET_UID "\"},"
                 "\"spec\":{\"replicas\":2,\"persistentVolumeClaimRetentionPolicy\":{\"whenScaled\":\"%s\","
                 "\"whenDeleted\":\"%s\"}}}",
                 scaled, deleted);
        set = cJSON_Parse(buf);
        sts_params_from_set(set, &p);
        return p;
}

static cJSON *claim(void)
{
        return cJSON_Parse("{\"metadata\":{\"name\":\"data-web-1\"}}");
}

static int n_refs(const cJSON *c)
{
        return cJSON_GetArraySize(json_path(c, "metadata.ownerReferences"));
}

static const char *ref_kind(const cJSON *c, int i)
{
        return json_str(cJSON_GetArrayItem(json_path(c, "metadata.ownerReferences"), i), "kind");
}

/* The table of SEMANTICS 5.4, for an ordinal in range (1) and a scaled-down one (5). */
Test(statefulset_claims, retain_retain_has_no_owner)
{
        StsParams p = params("Retain", "Retain");
        _cleanup_json_ cJSON *c = claim();

        cr_assert(sts_claim_owner_up_to_date(&p, c, "web-5", POD_UID, 5));
        cr_assert_eq(sts_claim_update_owner_refs(&p, c, "web-5", POD_UID, 5), 0);
        cr_assert_eq(n_refs(c), 0);
}

Test(statefulset_claims, retain_delete_is_owned_by_the_set)
{
        StsParams p = params("Retain", "Delete");
        _cleanup_json_ cJSON *c = claim();

        cr_assert_not(sts_claim_owner_up_to_date(&p, c, "web-1", POD_UID, 1));
        cr_assert_eq(sts_claim_update_owner_refs(&p, c, "web-1", POD_UID, 1), 0);
        cr_assert_eq(n_refs(c), 1);
        cr_assert_str_eq(ref_kind(c, 0), "StatefulSet");
        cr_assert(sts_claim_owner_up_to_date(&p, c, "web-1", POD_UID, 1));
        cr_assert(sts_claim_owner_up_to_date(&p, c, "web-5", POD_UID, 5), "scaled or not, the set's");
}

Test(statefulset_claims, delete_retain_is_owned_by_a_scaled_down_pod_only)
{
        StsParams p = params("Delete", "Retain");
        _cleanup_json_ cJSON *c = claim();

        cr_assert(sts_claim_owner_up_to_date(&p, c, "web-1", POD_UID, 1));
        cr_assert_not(sts_claim_owner_up_to_date(&p, c, "web-5", POD_UID, 5));
        cr_assert_eq(sts_claim_update_owner_refs(&p, c, "web-5", POD_UID, 5), 0);
        cr_assert_eq(n_refs(c), 1);
        cr_assert_str_eq(ref_kind(c, 0), "Pod");
        cr_assert(sts_claim_owner_up_to_date(&p, c, "web-5", POD_UID, 5));
}

Test(statefulset_claims, delete_delete_moves_from_the_set_to_the_pod_when_scaled_down)
{
        StsParams p = params("Delete", "Delete");
        _cleanup_json_ cJSON *c = claim();

        cr_assert_eq(sts_claim_update_owner_refs(&p, c, "web-1", POD_UID, 1), 0);
        cr_assert_eq(n_refs(c), 1);
        cr_assert_str_eq(ref_kind(c, 0), "StatefulSet");
        cr_assert_not(sts_claim_owner_up_to_date(&p, c, "web-1", POD_UID, 5));
        cr_assert_eq(sts_claim_update_owner_refs(&p, c, "web-1", POD_UID, 5), 0);
        cr_assert_eq(n_refs(c), 1);
        cr_assert_str_eq(ref_kind(c, 0), "Pod");
}

Test(statefulset_claims, another_controller_or_a_stale_reference_is_left_alone)
{
        StsParams p = params("Delete", "Delete");
        _cleanup_json_ cJSON *other = cJSON_Parse(
            "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Foo\",\"name\":\"x\","
            "\"uid\":\"u\",\"controller\":true}]}}");
        _cleanup_json_ cJSON *stale = cJSON_Parse(
            "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
            "\"name\":\"web\",\"uid\":\"old\",\"controller\":true}]}}");

        cr_assert(sts_claim_owner_up_to_date(&p, other, "web-1", POD_UID, 1));
        cr_assert(sts_claim_owner_up_to_date(&p, stale, "web-1", POD_UID, 1));
        _cleanup_json_ cJSON *gone =
            cJSON_Parse("{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                        "\"name\":\"web-1\",\"uid\":\"gone\",\"controller\":true}]}}");
        cr_assert(sts_claim_has_stale_pod_ref(gone, "web-1", NULL));
}
