#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "statefulset-internal.h"

Test(statefulset_revision, fnv32_is_fnv1_not_fnv1a)
{
        /* FNV-1 32 test vectors: "" and "a" */
        cr_assert_eq(sts_fnv32("", 0, STS_FNV32_OFFSET), 0x811c9dc5u);
        cr_assert_eq(sts_fnv32("a", 1, STS_FNV32_OFFSET), 0x050c5d7eu);
        cr_assert_eq(sts_fnv32("foobar", 6, STS_FNV32_OFFSET), 0x31f0b262u);
}

Test(statefulset_revision, safe_encode_maps_digits_as_kubernetes_does)
{
        char s[] = "0123456789";

        sts_safe_encode(s);
        cr_assert_str_eq(s, "45678"
                            "9bcdf");
}

Test(statefulset_revision, the_hash_ignores_key_order_and_depends_on_the_collision_count)
{
        _cleanup_json_ cJSON *a =
            cJSON_Parse("{\"metadata\":{\"labels\":{\"x\":\"1\",\"app\":\"web\"}},"
                        "\"spec\":{\"containers\":[{\"name\":\"m\",\"image\":\"i\"}]}}");
        _cleanup_json_ cJSON *b =
            cJSON_Parse("{\"spec\":{\"containers\":[{\"image\":\"i\",\"name\":\"m\"}]},"
                        "\"metadata\":{\"labels\":{\"app\":\"web\",\"x\":\"1\"}}}");
        _cleanup_json_ cJSON *da = NULL, *db = NULL;
        _cleanup_free_ char *printed = NULL;
        char ha[32], hb[32], hc[32];

        cr_assert_eq(sts_revision_data(a, &da), 0);
        cr_assert_eq(sts_revision_data(b, &db), 0);
        printed = json_print(da);
        cr_assert_str_eq(
            printed,
            "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{\"labels\":{\"app\":"
            "\"web\",\"x\":\"1\"}},\"spec\":{\"containers\":[{\"image\":\"i\",\"name\":\"m\"}]}}}}");
        cr_assert_eq(sts_revision_hash(da, 0, ha, sizeof ha), 0);
        cr_assert_eq(sts_revision_hash(db, 0, hb, sizeof hb), 0);
        cr_assert_eq(sts_revision_hash(da, 1, hc, sizeof hc), 0);
        cr_assert_str_eq(ha, hb);
        cr_assert_str_neq(ha, hc);
        cr_assert_gt(strlen(ha), 0);
        cr_assert_eq(strspn(ha, "bcdfghjklmnpqrstvwxz2456789"), strlen(ha));
}

Test(statefulset_revision, the_hash_is_fnv_of_the_data_then_the_count)
{
        _cleanup_json_ cJSON *d = cJSON_Parse("{\"spec\":{\"template\":{\"$patch\":\"replace\"}}}");
        const char *raw = "{\"spec\":{\"template\":{\"$patch\":\"replace\"}}}0";
        char want[32], got[32];

        snprintf(want, sizeof want, "%u", sts_fnv32(raw, strlen(raw), STS_FNV32_OFFSET));
        sts_safe_encode(want);
        cr_assert_eq(sts_revision_hash(d, 0, got, sizeof got), 0);
        cr_assert_str_eq(got, want);
}

Test(statefulset_revision, a_revision_restores_its_template_without_the_patch_marker)
{
        _cleanup_json_ cJSON *t = cJSON_Parse("{\"spec\":{\"containers\":[]}}"), *data = NULL, *rev = NULL,
                             *back = NULL;

        cr_assert_eq(sts_revision_data(t, &data), 0);
        rev = cJSON_CreateObject();
        cr_assert_eq(json_set(rev, "data", TAKE_PTR(data)), 0);
        back = sts_revision_template(rev);
        cr_assert_not_null(back);
        cr_assert(cJSON_Compare(back, t, true));
}
