/* metav1.LabelSelector objects ({matchLabels, matchExpressions}) as parsed selectors, the
 * way metav1.LabelSelectorAsSelector builds them: matchLabels are Equals requirements,
 * expressions take In, NotIn, Exists and DoesNotExist. */
#include <string.h>

#include "json-util.h"
#include "selector-internal.h"

static int json_add_requirement(LabelSelector *sel, const char *key, SelectorOp op, const cJSON *values)
{
        Requirement r = {.op = op};
        const cJSON *v;
        int k = 0;

        if (!selector_key_valid(key))
                return -EINVAL;
        r.key = strdup(key);
        if (!r.key)
                return -ENOMEM;
        cJSON_ArrayForEach (v, values) {
                if (!cJSON_IsString(v) || !selector_value_valid(v->valuestring)) {
                        k = -EINVAL;
                        break;
                }
                k = selector_values_add(&r, v->valuestring);
                if (k < 0)
                        break;
        }
        if (k == 0 && (op == OP_IN || op == OP_NOT_IN) && r.n_values == 0)
                k = -EINVAL; /* "values set can't be empty" */
        if (k == 0 && (op == OP_EXISTS || op == OP_DOES_NOT_EXIST) && r.n_values > 0)
                k = -EINVAL; /* "values set must be empty" */
        if (k == 0)
                k = selector_add_requirement(sel, &r);
        selector_requirement_done(&r);
        return k;
}

static int json_parse_expression(LabelSelector *sel, const cJSON *e)
{
        static const struct {
                const char *name;
                SelectorOp op;
        } ops[] = {
            {"In", OP_IN},
            {"NotIn", OP_NOT_IN},
            {"Exists", OP_EXISTS},
            {"DoesNotExist", OP_DOES_NOT_EXIST},
        };
        const char *key =
            cJSON_IsObject(e) ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "key")) : NULL;
        const char *op =
            cJSON_IsObject(e) ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "operator")) : NULL;
        const cJSON *values = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "values") : NULL;

        if (!key || !op)
                return -EINVAL;
        if (values && !cJSON_IsArray(values) && !cJSON_IsNull(values))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (streq(op, ops[i].name))
                        return json_add_requirement(sel, key, ops[i].op,
                                                    cJSON_IsArray(values) ? values : NULL);
        return -EINVAL;
}

int label_selector_from_json(const cJSON *j, LabelSelector **ret)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;
        const cJSON *labels, *exprs, *e;
        int k;

        if (!ret)
                return -EINVAL;
        if (j && !cJSON_IsObject(j) && !cJSON_IsNull(j))
                return -EINVAL;
        sel = calloc(1, sizeof(LabelSelector));
        if (!sel)
                return -ENOMEM;
        labels = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "matchLabels") : NULL;
        exprs = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "matchExpressions") : NULL;
        if (labels && !cJSON_IsObject(labels) && !cJSON_IsNull(labels))
                return -EINVAL;
        if (exprs && !cJSON_IsArray(exprs) && !cJSON_IsNull(exprs))
                return -EINVAL;

        if (!cJSON_IsObject(labels))
                labels = NULL;
        if (!cJSON_IsArray(exprs))
                exprs = NULL;
        cJSON_ArrayForEach (e, labels) {
                _cleanup_(cJSON_Deletep) cJSON *one = NULL;
                if (!cJSON_IsString(e))
                        return -EINVAL;
                one = cJSON_CreateArray();
                if (!one || !cJSON_AddItemToArray(one, cJSON_CreateString(e->valuestring)))
                        return -ENOMEM;
                k = json_add_requirement(sel, e->string, OP_EQUALS, one);
                if (k < 0)
                        return k;
        }
        cJSON_ArrayForEach (e, exprs) {
                k = json_parse_expression(sel, e);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(sel);
        return 0;
}
