/* Validation helpers shared by every kind: DNS-1123/1035 names, qualified names and label
 * values with apimachinery's exact messages (pkg/util/validation/validation.go), object
 * metadata, label selectors, integer ranges and Kubernetes resource quantities. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "manifest-internal.h"
#include "util.h"

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define DNS1035_LABEL_FMT "[a-z]([-a-z0-9]*[a-z0-9])?"
#define QUALIFIED_NAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define LABEL_VALUE_FMT "(" QUALIFIED_NAME_FMT ")?"

#define DNS1123_LABEL_MSG                                                                                   \
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "   \
        "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "      \
        "validation is '" DNS1123_LABEL_FMT "')"
#define DNS1123_SUBDOMAIN_MSG                                                                               \
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "   \
        "and "                                                                                              \
        "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation " \
        "is '" DNS1123_SUBDOMAIN_FMT "')"
#define DNS1035_LABEL_MSG                                                                                   \
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "        \
        "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "     \
        "regex used for validation is '" DNS1035_LABEL_FMT "')"
#define QUALIFIED_NAME_REGEX_MSG                                                                            \
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "         \
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "   \
        "is '" QUALIFIED_NAME_FMT "')"
#define LABEL_VALUE_MSG                                                                                     \
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "    \
        "and "                                                                                              \
        "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "  \
        "regex used for validation is '" LABEL_VALUE_FMT "')"

#define TOTAL_ANNOTATION_SIZE_LIMIT_B (256 * 1024)

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over n bytes, without the length limit. */
static bool match_label(const char *s, size_t n, bool alpha_first)
{
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        if (alpha_first && !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool match_subdomain(const char *s)
{
        for (;;) {
                const char *dot = strchr(s, '.');
                size_t n = dot ? (size_t)(dot - s) : strlen(s);

                if (!match_label(s, n, false))
                        return false;
                if (!dot)
                        return true;
                s = dot + 1;
        }
}

bool is_dns1123_label(const char *s)
{
        return s && strlen(s) <= 63 && match_label(s, strlen(s), false);
}

bool is_dns1123_subdomain(const char *s)
{
        return s && strlen(s) <= 253 && match_subdomain(s);
}

bool is_dns1035_label(const char *s)
{
        return s && strlen(s) <= 63 && match_label(s, strlen(s), true);
}

bool is_c_identifier(const char *s)
{
        if (isempty(s) || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_')
                        return false;
        return true;
}

static bool match_qualified_part(const char *s, size_t n)
{
        if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
                        return false;
        return true;
}

bool is_qualified_name(const char *s)
{
        const char *slash = s ? strchr(s, '/') : NULL, *name = s;

        if (!s)
                return false;
        if (slash) {
                _cleanup_free_ char *prefix = strndup(s, (size_t)(slash - s));

                if (!prefix || strchr(slash + 1, '/') || !is_dns1123_subdomain(prefix))
                        return false;
                name = slash + 1;
        }
        return strlen(name) <= 63 && match_qualified_part(name, strlen(name));
}

bool is_label_value(const char *s)
{
        return s && (s[0] == 0 || (strlen(s) <= 63 && match_qualified_part(s, strlen(s))));
}

bool is_port_name(const char *s)
{
        bool letter = false;
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
                if (s[i] >= 'a' && s[i] <= 'z')
                        letter = true;
        }
        return letter;
}

static void invalid(FieldErrors *e, const char *path, const char *value, const char *msg)
{
        field_error_add_str(e, FIELD_ERROR_INVALID, path, value, "%s", msg);
}

void validate_dns1123_label(const char *value, const char *path, FieldErrors *e)
{
        if (strlen(value) > 63)
                invalid(e, path, value, "must be no more than 63 characters");
        if (!match_label(value, strlen(value), false))
                invalid(e, path, value, DNS1123_LABEL_MSG);
}

void validate_dns1123_subdomain(const char *value, const char *path, FieldErrors *e)
{
        if (strlen(value) > 253)
                invalid(e, path, value, "must be no more than 253 characters");
        if (!match_subdomain(value))
                invalid(e, path, value, DNS1123_SUBDOMAIN_MSG);
}

void validate_dns1035_label(const char *value, const char *path, FieldErrors *e)
{
        if (strlen(value) > 63)
                invalid(e, path, value, "must be no more than 63 characters");
        if (!match_label(value, strlen(value), true))
                invalid(e, path, value, DNS1035_LABEL_MSG);
}

void validate_qualified_name(const char *value, const char *path, FieldErrors *e)
{
        const char *slash = strchr(value, '/'), *name = value;

        if (slash && strchr(slash + 1, '/')) {
                invalid(e, path, value,
                        "a qualified name " QUALIFIED_NAME_REGEX_MSG
                        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return;
        }
        if (slash) {
                _cleanup_free_ char *prefix = strndup(value, (size_t)(slash - value));

                if (!prefix) {
                        e->oom = true;
                        return;
                }
                if (!prefix[0])
                        invalid(e, path, value, "prefix part must be non-empty");
                else {
                        if (strlen(prefix) > 253)
                                invalid(e, path, value, "prefix part must be no more than 253 characters");
                        if (!match_subdomain(prefix))
                                invalid(e, path, value, "prefix part " DNS1123_SUBDOMAIN_MSG);
                }
                name = slash + 1;
        }
        if (!name[0])
                invalid(e, path, value, "name part must be non-empty");
        else if (strlen(name) > 63)
                invalid(e, path, value, "name part must be no more than 63 characters");
        if (!match_qualified_part(name, strlen(name)))
                invalid(e, path, value, "name part " QUALIFIED_NAME_REGEX_MSG);
}

void validate_port_name(const char *value, const char *path, FieldErrors *e)
{
        size_t n = strlen(value);
        bool charset = true, letter = false;

        for (size_t i = 0; i < n; i++) {
                if (!is_lower_alnum(value[i]) && value[i] != '-')
                        charset = false;
                if (value[i] >= 'a' && value[i] <= 'z')
                        letter = true;
        }
        if (n > 15)
                invalid(e, path, value, "must be no more than 15 characters");
        if (!charset || n == 0)
                invalid(e, path, value,
                        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        if (!letter)
                invalid(e, path, value, "must contain at least one letter (a-z)");
        if (strstr(value, "--"))
                invalid(e, path, value, "must not contain consecutive hyphens");
        if (n > 0 && (value[0] == '-' || value[n - 1] == '-'))
                invalid(e, path, value, "must not begin or end with a hyphen");
}

void validate_port_number(const cJSON *port, const char *path, FieldErrors *e)
{
        if (!cJSON_IsNumber(port) || port->valuedouble != floor(port->valuedouble) ||
            port->valuedouble < 1 || port->valuedouble > 65535)
                field_error_add(e, FIELD_ERROR_INVALID, path, port,
                                "must be between 1 and 65535, inclusive");
}

/* Error path of parent[field]: callers may pass the parent's path or the full path. */
static char *child_path(const char *path, const char *field)
{
        size_t pl = path ? strlen(path) : 0, fl = strlen(field);

        if (pl >= fl && streq(path + pl - fl, field) && (pl == fl || path[pl - fl - 1] == '.'))
                return strdup(path);
        return field_path_child(path, field);
}

static bool type_error(const cJSON *parent, const char *field, const char *path, FieldErrors *e,
                       const char *what)
{
        _cleanup_free_ char *p = child_path(path, field);

        if (!p) {
                e->oom = true;
                return false;
        }
        field_error_add(e, FIELD_ERROR_INVALID, p, cJSON_GetObjectItemCaseSensitive(parent, field),
                        "must be %s", what);
        return false;
}

bool validate_type_string(const cJSON *parent, const char *field, const char *path, FieldErrors *e)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, field);

        return !v || cJSON_IsNull(v) || cJSON_IsString(v) || type_error(parent, field, path, e, "a string");
}

bool validate_type_bool(const cJSON *parent, const char *field, const char *path, FieldErrors *e)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, field);

        return !v || cJSON_IsNull(v) || cJSON_IsBool(v) || type_error(parent, field, path, e, "a boolean");
}

bool validate_type_int(const cJSON *parent, const char *field, const char *path, FieldErrors *e)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, field);

        if (!v || cJSON_IsNull(v) ||
            (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.2e18))
                return true;
        return type_error(parent, field, path, e, "an integer");
}

const char *validate_enum(const cJSON *parent, const char *field, const char *path,
                          const char *const *supported, bool required, FieldErrors *e)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, field);
        _cleanup_free_ char *p = child_path(path, field);

        if (!p) {
                e->oom = true;
                return NULL;
        }
        if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0])) {
                if (required)
                        field_error_add(e, FIELD_ERROR_REQUIRED, p, NULL, NULL);
                return NULL;
        }
        if (cJSON_IsString(v))
                for (size_t i = 0; supported[i]; i++)
                        if (streq(v->valuestring, supported[i]))
                                return v->valuestring;
        field_error_not_supported(e, p, v, supported);
        return NULL;
}

static void validate_int_bound(const cJSON *parent, const char *field, const char *path, FieldErrors *e,
                               double min, const char *msg)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, field);
        _cleanup_free_ char *p = NULL;

        if (!v || cJSON_IsNull(v) || !validate_type_int(parent, field, path, e) || v->valuedouble >= min)
                return;
        p = child_path(path, field);
        if (!p) {
                e->oom = true;
                return;
        }
        field_error_add(e, FIELD_ERROR_INVALID, p, v, "%s", msg);
}

void validate_nonnegative(const cJSON *parent, const char *field, const char *path, FieldErrors *e)
{
        validate_int_bound(parent, field, path, e, 0, "must be greater than or equal to 0");
}

void validate_positive(const cJSON *parent, const char *field, const char *path, FieldErrors *e)
{
        validate_int_bound(parent, field, path, e, 1, "must be greater than 0");
}

void validate_labels(const cJSON *labels, const char *path, FieldErrors *e)
{
        const cJSON *l;

        if (!labels || cJSON_IsNull(labels))
                return;
        if (!cJSON_IsObject(labels)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, labels, "must be a map of strings");
                return;
        }
        cJSON_ArrayForEach (l, labels) {
                validate_qualified_name(l->string, path, e);
                if (!cJSON_IsString(l)) {
                        field_error_add(e, FIELD_ERROR_INVALID, path, l, "must be a string");
                        continue;
                }
                if (strlen(l->valuestring) > 63)
                        invalid(e, path, l->valuestring, "must be no more than 63 characters");
                if (l->valuestring[0] && !match_qualified_part(l->valuestring, strlen(l->valuestring)))
                        invalid(e, path, l->valuestring, LABEL_VALUE_MSG);
        }
}

static void validate_annotations(const cJSON *ann, const char *path, FieldErrors *e)
{
        size_t total = 0;
        const cJSON *a;

        if (!ann || cJSON_IsNull(ann))
                return;
        if (!cJSON_IsObject(ann)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, ann, "must be a map of strings");
                return;
        }
        cJSON_ArrayForEach (a, ann) {
                _cleanup_free_ char *lower = strdup(a->string);

                if (!lower) {
                        e->oom = true;
                        return;
                }
                for (char *c = lower; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                if (!is_qualified_name(lower))
                        validate_qualified_name(lower, path, e);
                if (!cJSON_IsString(a))
                        field_error_add(e, FIELD_ERROR_INVALID, path, a, "must be a string");
                else
                        total += strlen(a->valuestring);
                total += strlen(a->string);
        }
        if (total > TOTAL_ANNOTATION_SIZE_LIMIT_B)
                field_error_add(e, FIELD_ERROR_TOO_LONG, path, NULL, "may not be more than %d bytes",
                                TOTAL_ANNOTATION_SIZE_LIMIT_B);
}

static void validate_meta_name(const cJSON *meta, bool name_is_dns_label, const char *path, FieldErrors *e)
{
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
        const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generateName");
        _cleanup_free_ char *np = field_path_child(path, "name"),
                            *gp = field_path_child(path, "generateName");

        if (!np || !gp) {
                e->oom = true;
                return;
        }
        if (validate_type_string(meta, "generateName", path, e) && cJSON_IsString(gen) &&
            gen->valuestring[0]) {
                /* A generateName prefix may end in '-': check it as if that were a letter. */
                _cleanup_free_ char *masked = strdup(gen->valuestring);
                size_t n;

                if (!masked) {
                        e->oom = true;
                        return;
                }
                n = strlen(masked);
                if (n > 1 && masked[n - 1] == '-')
                        masked[n - 1] = 'a';
                if (name_is_dns_label ? !is_dns1123_label(masked) : !is_dns1123_subdomain(masked))
                        (name_is_dns_label ? validate_dns1123_label : validate_dns1123_subdomain)(masked, gp,
                                                                                                  e);
        }
        if (!validate_type_string(meta, "name", path, e))
                return;
        if (!cJSON_IsString(name) || !name->valuestring[0]) {
                if (!cJSON_IsString(gen) || !gen->valuestring[0])
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL,
                                        "name or generateName is required");
                return;
        }
        if (name_is_dns_label)
                validate_dns1123_label(name->valuestring, np, e);
        else
                validate_dns1123_subdomain(name->valuestring, np, e);
}

void validate_object_meta(const cJSON *meta, bool namespaced, bool name_is_dns_label, const char *path,
                          FieldErrors *e)
{
        const cJSON *ns;
        _cleanup_free_ char *nsp = field_path_child(path, "namespace"),
                            *lp = field_path_child(path, "labels"),
                            *ap = field_path_child(path, "annotations");

        if (!nsp || !lp || !ap) {
                e->oom = true;
                return;
        }
        if (!cJSON_IsObject(meta)) {
                if (meta && !cJSON_IsNull(meta))
                        field_error_add(e, FIELD_ERROR_INVALID, path, meta, "must be an object");
                else
                        field_error_add(e, FIELD_ERROR_REQUIRED, nsp[0] ? path : "metadata", NULL, NULL);
                return;
        }
        validate_meta_name(meta, name_is_dns_label, path, e);
        ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
        if (validate_type_string(meta, "namespace", path, e) && cJSON_IsString(ns) && ns->valuestring[0]) {
                if (!namespaced)
                        field_error_add(e, FIELD_ERROR_FORBIDDEN, nsp, NULL, "not allowed on this type");
                else
                        validate_dns1123_label(ns->valuestring, nsp, e);
        }
        validate_labels(cJSON_GetObjectItemCaseSensitive(meta, "labels"), lp, e);
        validate_annotations(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), ap, e);
}

static void validate_selector_requirement(const cJSON *req, const char *path, FieldErrors *e)
{
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(req, "key");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "operator");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(req, "values");
        int nvalues = cJSON_IsArray(values) ? cJSON_GetArraySize(values) : 0;
        _cleanup_free_ char *kp = field_path_child(path, "key"), *op_p = field_path_child(path, "operator"),
                            *vp = field_path_child(path, "values");

        if (!kp || !op_p || !vp) {
                e->oom = true;
                return;
        }
        if (!cJSON_IsString(op) || !op->valuestring[0])
                field_error_add(e, FIELD_ERROR_REQUIRED, op_p, NULL, NULL);
        else if (streq(op->valuestring, "In") || streq(op->valuestring, "NotIn")) {
                if (nvalues == 0)
                        field_error_add(e, FIELD_ERROR_REQUIRED, vp, NULL,
                                        "must be specified when `operator` is 'In' or 'NotIn'");
        } else if (streq(op->valuestring, "Exists") || streq(op->valuestring, "DoesNotExist")) {
                if (nvalues > 0)
                        field_error_add(
                            e, FIELD_ERROR_FORBIDDEN, vp, NULL,
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        } else
                field_error_add(e, FIELD_ERROR_INVALID, op_p, op, "not a valid selector operator");
        if (!cJSON_IsString(key))
                field_error_add(e, FIELD_ERROR_REQUIRED, kp, NULL, NULL);
        else
                validate_qualified_name(key->valuestring, kp, e);
}

void validate_label_selector(const cJSON *sel, const char *path, FieldErrors *e)
{
        const cJSON *exprs, *req;
        _cleanup_free_ char *mlp = field_path_child(path, "matchLabels"),
                            *mep = field_path_child(path, "matchExpressions");
        size_t i = 0;

        if (!mlp || !mep) {
                e->oom = true;
                return;
        }
        if (!sel || cJSON_IsNull(sel))
                return;
        if (!cJSON_IsObject(sel)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, sel, "must be an object");
                return;
        }
        validate_labels(cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"), mlp, e);
        exprs = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
        if (exprs && !cJSON_IsArray(exprs)) {
                field_error_add(e, FIELD_ERROR_INVALID, mep, exprs, "must be a list");
                return;
        }
        cJSON_ArrayForEach (req, exprs) {
                _cleanup_free_ char *rp = field_path_index(mep, i++);

                if (!rp) {
                        e->oom = true;
                        return;
                }
                validate_selector_requirement(req, rp, e);
        }
}

/* Suffix of a quantity: a power of two (binary SI) and a power of ten. */
static int quantity_suffix(const char *s, int *ret_exp2, int *ret_exp10)
{
        static const struct {
                const char *suffix;
                int exp2, exp10;
        } table[] = {
            {"", 0, 0},    {"n", 0, -9},  {"u", 0, -6},  {"m", 0, -3},  {"k", 0, 3},   {"M", 0, 6},
            {"G", 0, 9},   {"T", 0, 12},  {"P", 0, 15},  {"E", 0, 18},  {"Ki", 10, 0}, {"Mi", 20, 0},
            {"Gi", 30, 0}, {"Ti", 40, 0}, {"Pi", 50, 0}, {"Ei", 60, 0},
        };
        char *end;
        long x;

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(s, table[i].suffix)) {
                        *ret_exp2 = table[i].exp2;
                        *ret_exp10 = table[i].exp10;
                        return 0;
                }
        /* Decimal exponent: "1e3", "5E-2". */
        if ((s[0] != 'e' && s[0] != 'E') || !s[1])
                return -EINVAL;
        if (!isdigit((unsigned char)s[1]) && !((s[1] == '-' || s[1] == '+') && isdigit((unsigned char)s[2])))
                return -EINVAL;
        errno = 0;
        x = strtol(s + 1, &end, 10);
        if (*end || errno != 0 || x > 100 || x < -100)
                return *end ? -EINVAL : -ERANGE;
        *ret_exp2 = 0;
        *ret_exp10 = (int)x;
        return 0;
}

int quantity_parse_milli(const char *s, int64_t *ret_milli)
{
        const __int128 limit = (__int128)1 << 120;
        __int128 n = 0;
        bool neg = false, digits = false, remainder = false;
        int exp2, sfx10, exp10 = 3, r;

        if (isempty(s))
                return -EINVAL;
        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        for (; isdigit((unsigned char)*s); s++, digits = true) {
                if (n > limit / 10)
                        return -ERANGE;
                n = n * 10 + (*s - '0');
        }
        if (*s == '.')
                for (s++; isdigit((unsigned char)*s); s++, digits = true) {
                        if (n > limit / 10) {
                                /* Digits beyond what we can hold only round the result up. */
                                remainder = remainder || *s != '0';
                                continue;
                        }
                        n = n * 10 + (*s - '0');
                        exp10--;
                }
        if (!digits)
                return -EINVAL;
        r = quantity_suffix(s, &exp2, &sfx10);
        if (r < 0)
                return r;
        exp10 += sfx10;
        for (; exp2 > 0; exp2--) {
                if (n > limit / 2)
                        return -ERANGE;
                n *= 2;
        }
        for (; exp10 > 0; exp10--) {
                if (n > limit / 10)
                        return -ERANGE;
                n *= 10;
        }
        for (; exp10 < 0 && n > 0; exp10++) {
                remainder = remainder || n % 10 != 0;
                n /= 10;
        }
        /* Like Quantity.MilliValue(): round up to the next milli-unit. */
        if (remainder && !neg)
                n++;
        if (n > INT64_MAX)
                return -ERANGE;
        *ret_milli = neg ? -(int64_t)n : (int64_t)n;
        return 0;
}

int quantity_from_json(const cJSON *j, int64_t *ret_milli)
{
        double m;

        if (cJSON_IsString(j))
                return quantity_parse_milli(j->valuestring, ret_milli);
        if (!cJSON_IsNumber(j))
                return -EINVAL;
        m = ceil(j->valuedouble * 1000.0);
        if (!isfinite(m) || m >= 9.2e18 || m <= -9.2e18)
                return -ERANGE;
        *ret_milli = (int64_t)m;
        return 0;
}
