/* Tests of crontab.c, Debian's cron reading of a crontab: environment settings (quotes,
 * blanks, what is not one), the time fields (names, ranges, steps, 7 for Sunday, what cron
 * skips and what it refuses, with its error words), @specials, the user column, and the
 * command's '%' and backslash handling of do_command.c, byte for byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "crontab.h"
#include "util.h"

#define BIT(n) (UINT64_C(1) << (n))

typedef struct Parsed {
        Crontab *c;
        char *report;
} Parsed;

static Parsed parse(const char *text, bool system)
{
        Parsed p = {};
        CrontabDiags d = {};
        size_t size = 0;
        FILE *f = open_memstream(&p.report, &size);

        cr_assert_not_null(f);
        cr_assert_eq(crontab_parse(text, strlen(text), system, &d, &p.c), 0);
        crontab_diags_print(f, &d, "crontab");
        cr_assert_eq(fclose(f), 0);
        crontab_diags_done(&d);
        return p;
}

static void parsed_done(Parsed *p)
{
        crontab_free(p->c);
        free(p->report);
}

/* One valid job line. */
static const CrontabEntry *one_entry(Parsed *p)
{
        cr_assert_eq(p->c->n_entries, 1, "report: %s", p->report);
        return &p->c->entries[0];
}

static void expect_report(const char *text, bool system, const char *report)
{
        _cleanup_(parsed_done) Parsed p = parse(text, system);

        cr_expect_str_eq(p.report, report, "for %s", text);
}

static void expect_var(const char *line, const char *name, const char *value)
{
        _cleanup_(parsed_done) Parsed p = parse(line, false);

        cr_assert_eq(p.c->n_vars, 1, "\"%s\" is no setting: %s", line, p.report);
        cr_expect_str_eq(p.c->vars[0].name, name);
        cr_expect_str_eq(p.c->vars[0].value, value, "for %s", line);
}

Test(crontab, reads_settings_as_cron_does)
{
        expect_var("MAILTO=root\n", "MAILTO", "root");
        expect_var("  PATH = /usr/bin:/bin  \n", "PATH", "/usr/bin:/bin");
        /* quotes keep leading blanks; the trailing ones go all the same (strdtb after the
         * state machine), whatever the manual says */
        expect_var("name = \"  quoted  \"\n", "name", "  quoted");
        expect_var("A='x y'\n", "A", "x y");
        expect_var("MAILTO=\"\"\n", "MAILTO", "");
        expect_var("URL=http://x/?a=b\n", "URL", "http://x/?a=b");
        expect_var("'A B'=1\n", "A B", "1");
        /* the old parser's unquoting still runs after the new one */
        expect_var("A=\"'x'\"\n", "A", "x");
        expect_var("PATH=$HOME/bin:$PATH # no comment\n", "PATH", "$HOME/bin:$PATH # no comment");
}

#define NO_SETTING                                                                                          \
        "cron does not take this line for a setting: an empty value needs quotes (NAME=\"\"), and nothing " \
        "may follow a closing quote\n"

Test(crontab, takes_what_is_no_setting_for_a_job_line)
{
        /* an empty value needs quotes; text after a closing quote spoils the setting */
        expect_report("MAILTO=\n", false,
                      "crontab:1: error: bad minute \"MAILTO=\": \"MAILTO\" is neither a number nor a name\n"
                      "crontab:1: note: " NO_SETTING);
        expect_report("A=\"x\" y\n", false,
                      "crontab:1: error: bad minute \"A=\"x\"\": \"A\" is neither a number nor a name\n"
                      "crontab:1: note: " NO_SETTING);
        expect_report("\"A=B\"=1\n", false,
                      "crontab:1: error: bad minute \"\"A=B\"=1\": a number is missing at \"\"A=B\"=1\"\n"
                      "crontab:1: note: " NO_SETTING);
        /* a plain bad line gets no such note */
        expect_report("x y\n", false,
                      "crontab:1: error: bad minute \"x\": \"x\" is neither a number nor a name\n");
}

Test(crontab, skips_comments_and_blank_lines_and_counts_lines)
{
        _cleanup_(parsed_done) Parsed p =
            parse("# comment\n\n   \t\n  # indented\nA=1\n\t5 4 * * * cmd\n", false);
        const CrontabEntry *e = one_entry(&p);

        cr_expect_eq(e->line, 6);
        cr_expect_eq(e->index, 1);
        cr_expect_eq(e->n_vars, 1);
        cr_expect_str_eq(e->text, "5 4 * * * cmd");
        cr_expect_str_eq(p.report, "");
}

Test(crontab, reads_numbers_names_ranges_lists_and_steps)
{
        _cleanup_(parsed_done) Parsed p = parse("05 0-23/6 1,15,20-22 Jan-mar/2 MON-fri cmd\n", false);
        const CrontabEntry *e = one_entry(&p);

        cr_expect_eq(e->times.minute, BIT(5));
        cr_expect_eq(e->times.hour, BIT(0) | BIT(6) | BIT(12) | BIT(18));
        cr_expect_eq(e->times.dom, BIT(1) | BIT(15) | BIT(20) | BIT(21) | BIT(22));
        cr_expect_eq(e->times.month, BIT(1) | BIT(3));
        cr_expect_eq(e->times.dow, BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5));
        cr_expect_not(e->times.minute_star || e->times.hour_star || e->times.dom_star || e->times.dow_star);
        cr_expect_str_eq(e->fields[3], "Jan-mar/2");
}

Test(crontab, sets_the_star_flags_from_the_first_character_only)
{
        _cleanup_(parsed_done) Parsed p = parse("*/15 *,3 */2 * 1-7 cmd\n", false);
        const CrontabEntry *e = one_entry(&p);

        cr_expect(e->times.minute_star);
        cr_expect(e->times.hour_star);
        cr_expect(e->times.dom_star, "*/2 counts as '*' in cron");
        cr_expect_not(e->times.dow_star);
        cr_expect_eq(e->times.minute, BIT(0) | BIT(15) | BIT(30) | BIT(45));
        /* 7 is Sunday, folded into 0 */
        cr_expect_eq(e->times.dow, BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6));
}

Test(crontab, refuses_what_cron_refuses_with_its_words)
{
        expect_report("5/10 * * * * x\n", false,
                      "crontab:1: error: bad minute \"5/10\": a step needs a range or '*' before it, as in "
                      "5-59/...\n");
        expect_report("60 * * * * x\n", false,
                      "crontab:1: error: bad minute \"60\": 60 is not within 0-59\n");
        expect_report("* 24 * * * x\n", false, "crontab:1: error: bad hour \"24\": 24 is not within 0-23\n");
        expect_report("0 0 0 * * x\n", false,
                      "crontab:1: error: bad day-of-month \"0\": 0 is not within 1-31\n");
        expect_report("0 0 * 13 * x\n", false,
                      "crontab:1: error: bad month \"13\": 13 is not within 1-12\n");
        expect_report("0 0 * * 8 x\n", false,
                      "crontab:1: error: bad day-of-week \"8\": 8 is not within 0-7\n");
        expect_report("0 0 * * Monday x\n", false,
                      "crontab:1: error: bad day-of-week \"Monday\": \"Monday\" is neither a number nor a "
                      "name\n");
        expect_report("*/0 * * * * x\n", false,
                      "crontab:1: error: bad minute \"*/0\": a step must be positive\n");
        expect_report("1,,2 * * * * x\n", false,
                      "crontab:1: error: bad minute \"1,,2\": a number is missing at "
                      "\",2\"\n");
        expect_report("? * * * * x\n", false,
                      "crontab:1: error: bad minute \"?\": a number is missing at \"?\"\n");
        expect_report("+5 * * * * x\n", false,
                      "crontab:1: error: bad minute \"+5\": a number is missing at \"+5\"\n");
        expect_report("0 0 L * * x\n", false,
                      "crontab:1: error: bad day-of-month \"L\": \"L\" is neither a number nor a name\n");
        expect_report("0 0 *\n", false, "crontab:1: error: bad month: the line ends after 3 time fields\n");
}

Test(crontab, warns_about_what_cron_skips_and_ranges_it_leaves_empty)
{
        _cleanup_(parsed_done) Parsed p = parse("*-5 0 * * 5#2 x\n22-2,5 * * * * y\n", false);

        cr_assert_eq(p.c->n_entries, 2);
        cr_expect_eq(p.c->entries[0].times.dow, BIT(5));
        cr_expect(p.c->entries[0].times.junk[0]);
        cr_expect(p.c->entries[0].times.junk[4]);
        cr_expect_eq(p.c->entries[1].times.minute, BIT(5));
        cr_expect_str_eq(
            p.report,
            "crontab:1: warning: minute field \"*-5\": cron ignores the \"-5\" after its list\n"
            "crontab:1: warning: day-of-week field \"5#2\": cron ignores the \"#2\" after its list\n"
            "crontab:2: warning: minute field \"22-2,5\": cron counts a range upwards only, so a "
            "range whose end is before its start (no wrap-around) adds nothing\n");
}

Test(crontab, reads_the_specials_exactly)
{
        _cleanup_(parsed_done) Parsed p = parse("@reboot a\n@weekly\tb\n@hourly c\n", false);

        cr_assert_eq(p.c->n_entries, 3);
        cr_expect_str_eq(p.c->entries[0].special, "@reboot");
        cr_expect_str_eq(p.c->entries[0].command, "a");
        cr_expect_eq(p.c->entries[1].times.dow, BIT(0));
        cr_expect(p.c->entries[1].times.dom_star);
        cr_expect(p.c->entries[2].times.hour_star);
        cr_expect_null(p.c->entries[2].fields[0]);
        expect_report(
            "@Daily x\n", false,
            "crontab:1: error: bad time specifier \"@Daily\" (cron knows @reboot, @yearly, @annually, "
            "@monthly, @weekly, @daily, @midnight and @hourly)\n");
        expect_report(
            "@every 5m x\n", false,
            "crontab:1: error: bad time specifier \"@every\" (cron knows @reboot, @yearly, @annually, "
            "@monthly, @weekly, @daily, @midnight and @hourly)\n");
}

Test(crontab, reads_the_user_column_of_a_system_crontab)
{
        _cleanup_(parsed_done) Parsed p =
            parse("17 *\t* * *\troot    cd / && run-parts /etc/cron.hourly\n", true);
        const CrontabEntry *e = one_entry(&p);

        cr_expect_str_eq(e->user, "root");
        cr_expect_str_eq(e->command, "cd / && run-parts /etc/cron.hourly");
        expect_report("0 5 * * * root\n", true, "crontab:1: error: no command\n");
        expect_report("0 5 * * *\n", true,
                      "crontab:1: error: bad username: missing (a system crontab names the user after the "
                      "times)\n");
}

Test(crontab, refuses_a_command_starting_with_a_star_or_none_at_all)
{
        expect_report("* * * * * * x\n", false,
                      "crontab:1: error: bad command: it starts with '*' (more than five time fields?)\n");
        expect_report("* * * * *\n", false, "crontab:1: error: no command\n");
}

static void expect_command(const char *command_field, const char *command, const char *input)
{
        _cleanup_free_ char *line = strjoin("* * * * * ", command_field, "\n", NULL);
        _cleanup_(parsed_done) Parsed p = parse(line, false);
        const CrontabEntry *e = one_entry(&p);

        cr_expect_str_eq(e->command, command, "command of %s", command_field);
        if (input)
                cr_expect_str_eq(e->input ?: "(none)", input, "input of %s", command_field);
        else
                cr_expect_null(e->input, "input of %s: \"%s\"", command_field, e->input);
}

Test(crontab, splits_the_command_at_the_first_unescaped_percent)
{
        expect_command("mail -s hi joe%Joe,%%Where are your kids?%", "mail -s hi joe",
                       "Joe,\n\nWhere are your kids?\n");
        expect_command("date +\\%F", "date +%F", NULL);
        expect_command("a\\\\b", "a\\b", NULL);
        expect_command("echo \\n \\t", "echo \\n \\t", NULL);
        expect_command("a\\\\%b", "a\\", "b\n");
        expect_command("cat%a\\%b", "cat", "a%b\n");
        expect_command("cat%a\\xb", "cat", "a\\xb\n");
        expect_command("cat%a\\", "cat", "a\\\n");
        expect_command("cat%a\\\\%b", "cat", "a\\%b\n");
        /* nothing after the '%': the same empty input as without one */
        expect_command("cat%", "cat", NULL);
        expect_command("cat%%", "cat", "\n");
}

Test(crontab, numbers_job_lines_with_the_invalid_ones_and_snapshots_the_settings)
{
        _cleanup_(parsed_done) Parsed p =
            parse("A=1\n0 0 * * * a\nbad line\nB=2\n0 1 * * * b\nA=3\n", false);

        cr_assert_eq(p.c->n_entries, 2);
        cr_expect_eq(p.c->n_lines, 3);
        cr_expect_eq(p.c->entries[0].index, 1);
        cr_expect_eq(p.c->entries[0].n_vars, 1);
        cr_expect_eq(p.c->entries[1].index, 3);
        cr_expect_eq(p.c->entries[1].n_vars, 2);
        cr_expect_eq(p.c->n_vars, 3);
}

Test(crontab, warns_about_a_missing_final_newline_and_dos_line_ends)
{
        _cleanup_(parsed_done) Parsed p = parse("A=1\r\n0 0 * * * a\r\n0 1 * * * b", false);

        cr_assert_eq(p.c->n_entries, 2);
        cr_expect_str_eq(p.c->vars[0].value, "1");
        cr_expect_str_eq(p.c->entries[0].command, "a");
        cr_expect_str_eq(
            p.report,
            "crontab: warning: DOS line ends (CR LF): cron takes each CR as part of its line, berth "
            "drops them\n"
            "crontab:3: warning: the last line has no newline: Debian's cron ignores such a crontab "
            "entirely (imported anyway)\n");
}

Test(crontab, refuses_a_file_with_nul_bytes)
{
        _cleanup_(crontab_freep) Crontab *c = NULL;
        CrontabDiags d = {};

        cr_assert_eq(crontab_parse("0 0 * * * a\n\0\n", 14, false, &d, &c), 0);
        cr_expect_eq(crontab_diags_count(&d, CRONTAB_ERROR), 1);
        cr_expect_eq(c->n_entries, 0);
        crontab_diags_done(&d);
}

Test(crontab, knows_which_cron_d_files_cron_reads)
{
        cr_expect(crontab_cron_d_name_ok("e2scrub_all"));
        cr_expect(crontab_cron_d_name_ok("php-Sessions2"));
        cr_expect_not(crontab_cron_d_name_ok("php.dpkg-dist"));
        cr_expect_not(crontab_cron_d_name_ok("backup~"));
        cr_expect_not(crontab_cron_d_name_ok(".placeholder"));
        cr_expect_not(crontab_cron_d_name_ok(""));
}
