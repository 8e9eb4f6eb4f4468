/* JSON manifests: cJSON parses the values; a small scanner walks the same text to record
 * the line of every key and array item, so JSON errors get lines like YAML ones. */
#include <ctype.h>
#include <string.h>

#include "json-util.h"
#include "manifest-doc.h"
#include "util.h"

static char *child_path(const char *path, const char *key)
{
        return isempty(path) ? strdup(key) : strjoin(path, ".", key, NULL);
}

typedef struct JsonScan {
        const char *p, *end;
        unsigned line;
} JsonScan;

static void js_skip_ws(JsonScan *s)
{
        for (; s->p < s->end && isspace((unsigned char)*s->p); s->p++)
                if (*s->p == '\n')
                        s->line++;
}

/* At an opening quote: moves past the string; decodes it into *ret when ret is set. */
static int js_string(JsonScan *s, char **ret)
{
        const char *start = s->p;

        for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
                if (*s->p == '\\')
                        s->p++;
        s->p = MIN(s->p + 1, s->end);
        if (ret) {
                _cleanup_json_ cJSON *j = cJSON_ParseWithLength(start, (size_t)(s->p - start));

                *ret = strdup(cJSON_IsString(j) ? j->valuestring : "");
                if (!*ret)
                        return -ENOMEM;
        }
        return 0;
}

static int js_value(JsonScan *s, const char *path, LineMap *lines)
{
        bool obj;
        size_t i = 0;
        int r;

        js_skip_ws(s);
        if (s->p >= s->end)
                return 0;
        if (*s->p == '"')
                return js_string(s, NULL);
        if (*s->p != '{' && *s->p != '[') {
                while (s->p < s->end && !strchr(",]}", *s->p) && !isspace((unsigned char)*s->p))
                        s->p++;
                return 0;
        }
        obj = *s->p++ == '{';
        for (;;) {
                _cleanup_free_ char *key = NULL, *cp = NULL;

                js_skip_ws(s);
                if (s->p >= s->end || *s->p == '}' || *s->p == ']') {
                        s->p = MIN(s->p + 1, s->end);
                        return 0;
                }
                if (*s->p == ',') {
                        s->p++;
                        continue;
                }
                if (obj) {
                        unsigned line = s->line;

                        r = js_string(s, &key);
                        if (r < 0)
                                return r;
                        cp = child_path(path, key);
                        js_skip_ws(s);
                        if (s->p < s->end && *s->p == ':')
                                s->p++;
                        if (!cp || manifest_doc_lines_add(lines, cp, line) < 0)
                                return -ENOMEM;
                } else if (asprintf_safe(&cp, "%s[%zu]", path, i++) < 0 ||
                           manifest_doc_lines_add(lines, cp, s->line) < 0)
                        return -ENOMEM;
                r = js_value(s, cp, lines);
                if (r < 0)
                        return r;
        }
}

static unsigned line_at(const char *data, size_t off)
{
        unsigned line = 1;

        for (size_t i = 0; i < off; i++)
                line += data[i] == '\n';
        return line;
}

int manifest_json_parse(ManifestSet *set, const char *source, const char *data, size_t size,
                        char **ret_error)
{
        _cleanup_(manifest_doc_lines_done) LineMap lines = {};
        const char *end = NULL;
        _cleanup_json_ cJSON *root = cJSON_ParseWithLengthOpts(data, size, &end, false);
        JsonScan scan = {.p = data, .end = data + size, .line = 1};
        cJSON *item;
        size_t i = 0;
        int r;

        if (!root) {
                size_t off = end && end >= data && end <= data + size ? (size_t)(end - data) : 0;

                return manifest_doc_fail(ret_error, source, line_at(data, off),
                                         "error converting JSON: invalid JSON near '%.*s'",
                                         (int)MIN(size - off, (size_t)20), data + off);
        }
        for (; end < data + size; end++)
                if (!isspace((unsigned char)*end))
                        return manifest_doc_fail(
                            ret_error, source, line_at(data, (size_t)(end - data)),
                            "error converting JSON: unexpected data after the top-level value");
        r = js_value(&scan, "", &lines);
        if (r < 0)
                return r;
        if (!cJSON_IsArray(root))
                return manifest_doc_add_object(set, source, TAKE_PTR(root), &lines, NULL, line_at(data, 0),
                                               ret_error);
        while ((item = cJSON_DetachItemFromArray(root, 0))) {
                _cleanup_free_ char *p = NULL;

                if (asprintf_safe(&p, "[%zu]", i++) < 0) {
                        cJSON_Delete(item);
                        return -ENOMEM;
                }
                r = manifest_doc_add_object(set, source, item, &lines, p,
                                            manifest_doc_lines_get(&lines, p, 1), ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}
