/* The layout of a parsed label selector and the helpers selector.c shares with
 * selector-json.c (validation and building of requirements). */
#pragma once

#include "selector.h"

typedef enum SelectorOp {
        OP_IN,
        OP_NOT_IN,
        OP_EQUALS,
        OP_NOT_EQUALS,
        OP_EXISTS,
        OP_DOES_NOT_EXIST,
        OP_GREATER_THAN,
        OP_LESS_THAN,
} SelectorOp;

typedef struct Requirement {
        char *key;
        SelectorOp op;
        char **values; /* sorted, unique */
        size_t n_values;
} Requirement;

struct LabelSelector {
        Requirement *reqs;
        size_t n_reqs;
};

void selector_requirement_done(Requirement *r);
/* Adds v to r's values, kept sorted and unique (sets.String.List()). 0 or -ENOMEM. */
int selector_values_add(Requirement *r, const char *v);
/* Moves *r into sel (r is left empty). 0 or -ENOMEM. */
int selector_add_requirement(LabelSelector *sel, Requirement *r);
/* validation.IsQualifiedName / IsValidLabelValue without the messages. */
bool selector_key_valid(const char *key);
bool selector_value_valid(const char *v);
