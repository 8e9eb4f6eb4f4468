#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"

static char *render(const char *text, size_t minwidth, size_t padding)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        cli_tabwriter_print(f, text, minwidth, padding);
        fclose(f);
        return buf;
}

Test(cli_tabwriter, pads_columns_to_the_widest_cell_plus_three)
{
        _cleanup_free_ char *s = render("NAME\tREADY\tAGE\nweb\t1/1\t5s\nlong-name\t0/1\t10m\n", 6, 3);

        cr_assert_str_eq(s, "NAME        READY   AGE\n"
                            "web         1/1     5s\n"
                            "long-name   0/1     10m\n");
}

Test(cli_tabwriter, applies_the_minimum_width_to_narrow_columns)
{
        _cleanup_free_ char *s = render("A\tB\nx\ty\n", 6, 3);

        cr_assert_str_eq(s, "A     B\nx     y\n");
}

Test(cli_tabwriter, aligns_only_within_a_block_of_consecutive_lines)
{
        _cleanup_free_ char *s =
            render("Name:\tweb\nNamespace:\tdefault\nIPs:\n  IP:\t10.0.0.1\nControlled By:\tJob/x\n", 0, 2);

        cr_assert_str_eq(s, "Name:       web\n"
                            "Namespace:  default\n"
                            "IPs:\n"
                            "  IP:           10.0.0.1\n"
                            "Controlled By:  Job/x\n");
}

Test(cli_tabwriter, counts_utf8_characters_not_bytes)
{
        _cleanup_free_ char *s = render("é\tx\nab\ty\n", 0, 1);

        cr_assert_str_eq(s, "é  x\nab y\n");
}

Test(cli_tabwriter, prints_nothing_for_empty_text)
{
        _cleanup_free_ char *s = render("", 6, 3);

        cr_assert_str_eq(s, "");
}
