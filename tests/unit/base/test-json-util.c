#include <criterion/criterion.h>

#include "json-util.h"

Test(json_util, reads_dotted_paths_and_types)
{
        _cleanup_json_ cJSON *j = cJSON_Parse("{\"a\":{\"b\":{\"c\":\"x\",\"n\":5,\"t\":true}}}");

        cr_assert_str_eq(json_str(j, "a.b.c"), "x");
        cr_assert_eq(json_int(j, "a.b.n", -1), 5);
        cr_assert_eq(json_int(j, "a.b.c", -1), -1);
        cr_assert(json_bool(j, "a.b.t", false));
        cr_assert_null(json_path(j, "a.x.c"));
        cr_assert_null(json_str(j, "a.b.n"));
}

Test(json_util, setters_replace_existing_values)
{
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        cJSON *m = json_ensure_object(j, "metadata");

        cr_assert_not_null(m);
        cr_assert_eq(json_set_string(m, "name", "a"), 0);
        cr_assert_eq(json_set_string(m, "name", "b"), 0);
        cr_assert_str_eq(json_str(j, "metadata.name"), "b");
        cr_assert_eq(cJSON_GetArraySize(m), 1);
}
