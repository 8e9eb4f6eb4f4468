/* Known-field schemas, used to warn about unknown fields as kubectl does. A schema node is
 * an object with named fields, a list whose items follow a node, a map with free keys whose
 * values follow a node, or a leaf that accepts anything. Tables are static data. */
#pragma once

typedef struct SchemaNode SchemaNode;

typedef struct SchemaField {
        const char *name;
        const SchemaNode *node; /* NULL = leaf (scalar or anything) */
} SchemaField;

typedef enum SchemaType {
        SCHEMA_OBJECT, /* fields: NULL-name-terminated table */
        SCHEMA_LIST,   /* items: node of each element */
        SCHEMA_MAP,    /* items: node of each value (keys are free) */
        SCHEMA_ANY,    /* anything goes below */
} SchemaType;

struct SchemaNode {
        SchemaType type;
        const SchemaField *fields;
        const SchemaNode *items;
};

/* Schemas of the top-level objects, one per kind; NULL for kinds without one. */
const SchemaNode *schema_for_kind(const char *kind);
