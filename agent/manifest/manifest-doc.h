/* Private interface of the manifest documents (manifest-doc.c) for the YAML and JSON
 * readers (manifest-parse.c, manifest-json.c): the field-path -> line map, the layouts of
 * ManifestDoc/ManifestSet, and adding a parsed object (flattening Lists) to a set. */
#pragma once

#include <cjson/cJSON.h>
#include <stdarg.h>

#include "manifest.h"

typedef struct LineEntry {
        char *path;
        unsigned line;
} LineEntry;

typedef struct LineMap {
        LineEntry *items;
        size_t n, allocated;
} LineMap;

struct ManifestDoc {
        char *source;
        cJSON *obj;
        unsigned first_line;
        LineMap lines; /* sorted by path */
};

struct ManifestSet {
        ManifestDoc **docs;
        size_t n, allocated;
};

void manifest_doc_lines_done(LineMap *m);
int manifest_doc_lines_add(LineMap *m, const char *path, unsigned line);
/* Line recorded for exactly path in m, else def. */
unsigned manifest_doc_lines_get(const LineMap *m, const char *path, unsigned def);
/* Sets *ret_error to "source:line: <message>" and returns -EINVAL (-ENOMEM on OOM). */
int manifest_doc_fail(char **ret_error, const char *source, unsigned line, const char *fmt, ...)
    _printf_(4, 5);
/* Same with a va_list, and prefix put before the message. */
int manifest_doc_failv(char **ret_error, const char *source, unsigned line, const char *prefix,
                       const char *fmt, va_list ap) _printf_(5, 0);
/* Checks obj (a document's top value, taken over) and adds it, or a List's items, to set.
 * prefix is obj's path in lines (NULL at the top); line is its first line. */
int manifest_doc_add_object(ManifestSet *set, const char *source, cJSON *obj, const LineMap *lines,
                            const char *prefix, unsigned line, char **ret_error);
ManifestSet *manifest_doc_set_new(void);
/* JSON text (an object or an array of objects) into set (manifest-json.c). */
int manifest_json_parse(ManifestSet *set, const char *source, const char *data, size_t size,
                        char **ret_error);
