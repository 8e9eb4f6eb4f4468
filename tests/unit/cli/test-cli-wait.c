#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"

typedef struct WaitFor {
        bool delete;
        char *type;
        char *value;
} WaitFor;
int cli_wait_parse_for(const char *s, WaitFor *ret);

Test(cli_wait, parses_condition_and_delete_forms)
{
        WaitFor w;

        cr_assert_eq(cli_wait_parse_for("condition=Ready", &w), 0);
        cr_assert_str_eq(w.type, "Ready");
        cr_assert_str_eq(w.value, "True");
        free(w.type);
        free(w.value);
        cr_assert_eq(cli_wait_parse_for("condition=Complete=False", &w), 0);
        cr_assert_str_eq(w.type, "Complete");
        cr_assert_str_eq(w.value, "False");
        free(w.type);
        free(w.value);
        cr_assert_eq(cli_wait_parse_for("delete", &w), 0);
        cr_assert(w.delete);
        cr_assert_eq(cli_wait_parse_for("jsonpath={.x}", &w), -EINVAL);
        cr_assert_eq(cli_wait_parse_for("condition=", &w), -EINVAL);
        cr_assert_eq(cli_wait_parse_for(NULL, &w), -EINVAL);
}
