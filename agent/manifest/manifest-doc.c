/* Parsed manifest documents: the set and its documents, each object with its map from
 * Kubernetes field paths to source lines and the nearest-ancestor line lookup; adding a
 * parsed object to a set, with the checks every document gets and List flattening. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "json-util.h"
#include "manifest-doc.h"
#include "util.h"

ManifestSet *manifest_doc_set_new(void)
{
        return calloc(1, sizeof(ManifestSet));
}

void manifest_doc_lines_done(LineMap *m)
{
        for (size_t i = 0; i < m->n; i++)
                free(m->items[i].path);
        free(m->items);
        *m = (LineMap){};
}

int manifest_doc_lines_add(LineMap *m, const char *path, unsigned line)
{
        char *p;

        if (m->n == m->allocated) {
                size_t a = m->allocated ? m->allocated * 2 : 32;
                LineEntry *items = realloc(m->items, a * sizeof(LineEntry));

                if (!items)
                        return -ENOMEM;
                m->items = items;
                m->allocated = a;
        }
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        m->items[m->n++] = (LineEntry){.path = p, .line = line};
        return 0;
}

static int line_entry_cmp(const void *a, const void *b)
{
        return strcmp(((const LineEntry *)a)->path, ((const LineEntry *)b)->path);
}

static ManifestDoc *manifest_doc_free(ManifestDoc *doc)
{
        if (!doc)
                return NULL;
        free(doc->source);
        cJSON_Delete(doc->obj);
        manifest_doc_lines_done(&doc->lines);
        free(doc);
        return NULL;
}

ManifestSet *manifest_set_free(ManifestSet *set)
{
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++)
                manifest_doc_free(set->docs[i]);
        free(set->docs);
        free(set);
        return NULL;
}

size_t manifest_set_size(const ManifestSet *set)
{
        return set ? set->n : 0;
}

ManifestDoc *manifest_set_get(const ManifestSet *set, size_t i)
{
        return set && i < set->n ? set->docs[i] : NULL;
}

cJSON *manifest_doc_object(const ManifestDoc *doc)
{
        return doc ? doc->obj : NULL;
}

cJSON *manifest_doc_steal_object(ManifestDoc *doc)
{
        return doc ? TAKE_PTR(doc->obj) : NULL;
}

const char *manifest_doc_source(const ManifestDoc *doc)
{
        return doc ? doc->source : NULL;
}

static unsigned lookup_exact(const ManifestDoc *doc, const char *path)
{
        LineEntry key = {.path = (char *)path};
        const LineEntry *hit =
            bsearch(&key, doc->lines.items, doc->lines.n, sizeof(LineEntry), line_entry_cmp);

        return hit ? hit->line : 0;
}

/* "metadata.labels[app]" -> "metadata.labels.app": the parser does not know which maps
 * have free keys, so it records every key with a dot; list indexes stay "[0]". */
static char *normalize_path(const char *path)
{
        char *out = malloc(strlen(path) + 1), *o = out;

        if (!out)
                return NULL;
        for (const char *p = path; *p;) {
                const char *close = *p == '[' ? strchr(p, ']') : NULL;
                bool numeric = close && close > p + 1;

                for (const char *q = p + 1; numeric && q < close; q++)
                        numeric = isdigit((unsigned char)*q);
                if (close && !numeric) {
                        if (o != out)
                                *o++ = '.';
                        memcpy(o, p + 1, (size_t)(close - p - 1));
                        o += close - p - 1;
                        p = close + 1;
                } else
                        *o++ = *p++;
        }
        *o = 0;
        return out;
}

unsigned manifest_doc_line(const ManifestDoc *doc, const char *field_path)
{
        _cleanup_free_ char *p = NULL;
        unsigned line;

        if (!doc)
                return 0;
        if (isempty(field_path) || !(p = normalize_path(field_path)))
                return doc->first_line;
        for (;;) {
                char *cut;

                line = lookup_exact(doc, p);
                if (line > 0)
                        return line;
                cut = MAX(strrchr(p, '.'), strrchr(p, '['));
                if (!cut || cut == p)
                        return doc->first_line;
                *cut = 0;
        }
}

static int set_add_doc(ManifestSet *set, const char *source, cJSON *obj, const LineMap *lines,
                       const char *prefix, unsigned first_line)
{
        ManifestDoc *doc;
        size_t pl = prefix ? strlen(prefix) : 0;

        if (set->n == set->allocated) {
                size_t a = set->allocated ? set->allocated * 2 : 4;
                ManifestDoc **docs = realloc(set->docs, a * sizeof(ManifestDoc *));

                if (!docs) {
                        cJSON_Delete(obj);
                        return -ENOMEM;
                }
                set->docs = docs;
                set->allocated = a;
        }
        doc = calloc(1, sizeof(ManifestDoc));
        if (!doc) {
                cJSON_Delete(obj);
                return -ENOMEM;
        }
        set->docs[set->n++] = doc;
        doc->obj = obj;
        doc->first_line = first_line;
        doc->source = strdup(source);
        if (!doc->source)
                return -ENOMEM;
        for (size_t i = 0; i < lines->n; i++) {
                const char *p = lines->items[i].path;

                if (pl > 0) {
                        if (!strneq(p, prefix, pl) || (p[pl] != '.' && p[pl] != '['))
                                continue;
                        p += pl + (p[pl] == '.');
                }
                if (manifest_doc_lines_add(&doc->lines, p, lines->items[i].line) < 0)
                        return -ENOMEM;
        }
        qsort(doc->lines.items, doc->lines.n, sizeof(LineEntry), line_entry_cmp);
        return 0;
}

int manifest_doc_failv(char **ret_error, const char *source, unsigned line, const char *prefix,
                       const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0) {
                msg = NULL; /* undefined after a failure */
                return -ENOMEM;
        }
        if (ret_error && asprintf_safe(ret_error, "%s:%u: %s%s", source, line, prefix, msg) < 0)
                return -ENOMEM;
        return -EINVAL;
}

int manifest_doc_fail(char **ret_error, const char *source, unsigned line, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = manifest_doc_failv(ret_error, source, line, "", fmt, ap);
        va_end(ap);
        return r;
}

unsigned manifest_doc_lines_get(const LineMap *lines, const char *path, unsigned def)
{
        for (size_t k = 0; k < lines->n; k++)
                if (streq(lines->items[k].path, path))
                        return lines->items[k].line;
        return def;
}

/* Checks one top-level object and adds it (or, for a List, its items) to the set. prefix
 * is the object's path inside the document's line map (NULL at the top). */
int manifest_doc_add_object(ManifestSet *set, const char *source, cJSON *obj, const LineMap *lines,
                            const char *prefix, unsigned line, char **ret_error)
{
        _cleanup_json_ cJSON *owned = obj;
        const char *kind = json_str(obj, "kind");
        cJSON *items = cJSON_GetObjectItemCaseSensitive(obj, "items"), *item;
        size_t i = 0;

        if (!cJSON_IsObject(obj))
                return manifest_doc_fail(ret_error, source, line, "error: document is not an object");
        if (kind && endswith(kind, "List") && cJSON_IsArray(items)) {
                while ((item = cJSON_DetachItemFromArray(items, 0))) {
                        _cleanup_free_ char *p = NULL;
                        int r;

                        if (asprintf_safe(&p, "%s%sitems[%zu]", prefix ? prefix : "", prefix ? "." : "",
                                          i++) < 0) {
                                cJSON_Delete(item);
                                return -ENOMEM;
                        }
                        r = manifest_doc_add_object(set, source, item, lines, p,
                                                    manifest_doc_lines_get(lines, p, line), ret_error);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (!kind)
                return manifest_doc_fail(ret_error, source, line,
                                         "error: object has no \"kind\" field (Object 'Kind' is missing)");
        if (!json_str(obj, "apiVersion"))
                return manifest_doc_fail(ret_error, source, line,
                                         "error: object of kind \"%s\" has no \"apiVersion\" field", kind);
        return set_add_doc(set, source, TAKE_PTR(owned), lines, prefix, line);
}
