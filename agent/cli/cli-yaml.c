/* Object output: cJSON to YAML the way kubectl -o yaml writes it (block style, lists at
 * their key's indentation, strings quoted only when a plain scalar would change meaning or
 * not parse, multi-line strings as literal blocks) and to JSON with 4-space indentation. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

static bool is_yaml_special_word(const char *s)
{
        static const char *const words[] = {
            "y",     "Y",     "yes",   "Yes",   "YES",   "n",     "N",    "no",   "No",   "NO",
            "true",  "True",  "TRUE",  "false", "False", "FALSE", "on",   "On",   "ON",   "off",
            "Off",   "OFF",   "null",  "Null",  "NULL",  "~",     ".inf", ".Inf", ".INF", "-.inf",
            "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan",  ".NaN", ".NAN", "<<",   "=",
        };

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (streq(s, words[i]))
                        return true;
        return false;
}

/* Would a YAML 1.1 resolver read s as a number (int, float, hex, octal, base 60)? */
static bool looks_numeric(const char *s)
{
        const char *p = s;
        bool digits = false;

        if (*p == '+' || *p == '-')
                p++;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b') && p[2])
                return strspn(p + 2, "0123456789abcdefABCDEF_") == strlen(p + 2);
        if (*p == '.' && !isdigit((unsigned char)p[1]))
                return false;
        for (; *p; p++) {
                if (isdigit((unsigned char)*p))
                        digits = true;
                else if (*p == '_' || *p == ':')
                        continue;
                else if (*p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-') {
                        if ((*p == 'e' || *p == 'E') && !digits)
                                return false;
                } else
                        return false;
        }
        return digits;
}

static bool needs_double_quotes(const char *s)
{
        if (!s[0] || is_yaml_special_word(s) || looks_numeric(s))
                return true;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                        return true;
        return false;
}

/* Can s be written as a plain scalar in block context? */
static bool plain_allowed(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]))
                return false;
        /* "-c" is a plain scalar; "- x" and "-" alone are not */
        if (strchr("-?:", s[0]) ? !s[1] || s[1] == ' ' : strchr(",[]{}#&*!|>'\"%@`", s[0]) != NULL)
                return false;
        if (strstr(s, ": ") || strstr(s, " #") || s[len - 1] == ':' || strchr(s, '\t'))
                return false;
        return true;
}

static void emit_double_quoted(FILE *out, const char *s)
{
        /* characters with a one-letter escape, and that letter */
        static const char escaped[] = "\"\\\n\t\r", letters[] = "\"\\ntr";

        fputc('"', out);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                const char *e = strchr(escaped, *p);
                if (e)
                        fprintf(out, "\\%c", letters[e - escaped]);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(out, "\\x%02X", *p);
                else
                        fputc(*p, out);
        }
        fputc('"', out);
}

static void emit_single_quoted(FILE *out, const char *s)
{
        fputc('\'', out);
        for (; *s; s++) {
                if (*s == '\'')
                        fputc('\'', out);
                fputc(*s, out);
        }
        fputc('\'', out);
}

static bool literal_allowed(const char *s)
{
        if (s[0] == ' ' || s[0] == '\n')
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                        return false;
        /* a line ending in spaces is kept by a literal block, but trailing spaces before a
         * break are what libyaml refuses; quote those */
        return !strstr(s, " \n");
}

static void emit_literal(FILE *out, const char *s, unsigned indent)
{
        size_t len = strlen(s), trailing = 0;

        while (trailing < len && s[len - 1 - trailing] == '\n')
                trailing++;
        fputs(trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+", out);
        for (const char *p = s; *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                fputc('\n', out);
                if (n > 0)
                        fprintf(out, "%*s%.*s", (int)indent, "", (int)n, p);
                if (!nl)
                        break;
                p = nl + 1;
                if (!*p)
                        break;
        }
}

static void emit_string(FILE *out, const char *s, unsigned indent, bool allow_block)
{
        if (allow_block && strchr(s, '\n') && literal_allowed(s))
                emit_literal(out, s, indent);
        else if (needs_double_quotes(s) || strchr(s, '\n'))
                emit_double_quoted(out, s);
        else if (!plain_allowed(s))
                emit_single_quoted(out, s);
        else
                fputs(s, out);
}

static void emit_number(FILE *out, const cJSON *j, bool yaml)
{
        double d = j->valuedouble;
        char buf[64];

        if (isfinite(d) && d == floor(d) && fabs(d) < 9.007199254740992e15) {
                fprintf(out, "%.0f", d);
                return;
        }
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        /* YAML 1.1 resolvers want a dot in a float with an exponent: "1.0e+21" */
        char *e = strchr(buf, 'e');
        if (yaml && e && !strchr(buf, '.'))
                fprintf(out, "%.*s.0%s", (int)(e - buf), buf, e);
        else
                fputs(buf, out);
}

static bool is_collection(const cJSON *j)
{
        return (cJSON_IsObject(j) || cJSON_IsArray(j)) && j->child;
}

static void emit_scalar(FILE *out, const cJSON *j, unsigned indent)
{
        if (cJSON_IsObject(j))
                fputs("{}", out);
        else if (cJSON_IsArray(j))
                fputs("[]", out);
        else if (cJSON_IsString(j))
                emit_string(out, j->valuestring, indent, true);
        else if (cJSON_IsNumber(j))
                emit_number(out, j, true);
        else if (cJSON_IsTrue(j))
                fputs("true", out);
        else if (cJSON_IsFalse(j))
                fputs("false", out);
        else
                fputs("null", out);
}

static void emit_node(FILE *out, const cJSON *j, unsigned indent, bool first_inline);

/* An object's members; the first key goes on the current line when first_inline (after "- "). */
static void emit_object(FILE *out, const cJSON *j, unsigned indent, bool first_inline)
{
        bool first = true;
        const cJSON *c;

        cJSON_ArrayForEach (c, j) {
                if (!(first && first_inline))
                        fprintf(out, "%*s", (int)indent, "");
                first = false;
                emit_string(out, c->string ? c->string : "", indent, false);
                fputc(':', out);
                if (cJSON_IsObject(c) && c->child) {
                        fputc('\n', out);
                        emit_object(out, c, indent + 2, false);
                } else if (cJSON_IsArray(c) && c->child) {
                        fputc('\n', out);
                        emit_node(out, c, indent, false);
                } else {
                        fputc(' ', out);
                        emit_scalar(out, c, indent + 2);
                        fputc('\n', out);
                }
        }
}

static void emit_array(FILE *out, const cJSON *j, unsigned indent, bool first_inline)
{
        bool first = true;
        const cJSON *c;

        cJSON_ArrayForEach (c, j) {
                if (!(first && first_inline))
                        fprintf(out, "%*s", (int)indent, "");
                first = false;
                fputs("- ", out);
                if (is_collection(c))
                        emit_node(out, c, indent + 2, true);
                else {
                        emit_scalar(out, c, indent + 2);
                        fputc('\n', out);
                }
        }
}

static void emit_node(FILE *out, const cJSON *j, unsigned indent, bool first_inline)
{
        if (cJSON_IsObject(j) && j->child)
                emit_object(out, j, indent, first_inline);
        else if (cJSON_IsArray(j) && j->child)
                emit_array(out, j, indent, first_inline);
        else {
                emit_scalar(out, j, indent + 2);
                fputc('\n', out);
        }
}

int cli_yaml_print(FILE *out, const cJSON *j)
{
        if (!j)
                return -EINVAL;
        emit_node(out, j, 0, false);
        return 0;
}

static void json_node(FILE *out, const cJSON *j, unsigned indent)
{
        const cJSON *c;

        if ((cJSON_IsObject(j) || cJSON_IsArray(j)) && j->child) {
                bool obj = cJSON_IsObject(j);
                fputc(obj ? '{' : '[', out);
                cJSON_ArrayForEach (c, j) {
                        fprintf(out, "\n%*s", (int)(indent + 4), "");
                        if (obj) {
                                _cleanup_json_ cJSON *k = cJSON_CreateString(c->string ? c->string : "");
                                _cleanup_free_ char *ks = k ? cJSON_PrintUnformatted(k) : NULL;
                                fprintf(out, "%s: ", ks ? ks : "\"\"");
                        }
                        json_node(out, c, indent + 4);
                        if (c->next)
                                fputc(',', out);
                }
                fprintf(out, "\n%*s%c", (int)indent, "", obj ? '}' : ']');
        } else if (cJSON_IsObject(j))
                fputs("{}", out);
        else if (cJSON_IsArray(j))
                fputs("[]", out);
        else if (cJSON_IsNumber(j))
                emit_number(out, j, false);
        else {
                _cleanup_free_ char *s = cJSON_PrintUnformatted(j);
                fputs(s ? s : "null", out);
        }
}

void cli_json_print(FILE *out, const cJSON *j)
{
        json_node(out, j, 0);
        fputc('\n', out);
}
