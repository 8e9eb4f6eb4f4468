/* The etcd calls on keys and leases: their JSON requests (rpc.proto's field names, bytes in
 * base64, int64 as strings), the replies read back into EtcdResponse, and the compare-and-write
 * helpers built from transactions. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"
#include "json-util.h"

int json_get_i64(const cJSON *o, const char *key, int64_t *ret)
{
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
        char *end;
        long long v;

        *ret = 0;
        if (!j || cJSON_IsNull(j))
                return 0;
        if (cJSON_IsNumber(j)) {
                *ret = (int64_t)j->valuedouble;
                return 0;
        }
        if (!cJSON_IsString(j) || isempty(j->valuestring))
                return -EBADMSG;
        errno = 0;
        v = strtoll(j->valuestring, &end, 10);
        if (errno != 0 || *end)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int json_add_i64(cJSON *o, const char *key, int64_t v)
{
        char buf[32];

        (void)snprintf(buf, sizeof(buf), "%" PRId64, v);
        return cJSON_AddStringToObject(o, key, buf) ? 0 : -ENOMEM;
}

int json_add_bytes(cJSON *o, const char *key, const void *data, size_t size)
{
        _cleanup_free_ char *b = NULL;
        int r;

        r = base64_encode(data ?: "", size, &b);
        if (r < 0)
                return r;
        return cJSON_AddStringToObject(o, key, b) ? 0 : -ENOMEM;
}

int json_add_range_end(cJSON *o, const char *key, const char *range_end, bool prefix)
{
        _cleanup_free_ char *end = NULL;
        size_t n = strlen(key);

        if (!prefix)
                return range_end ? json_add_bytes(o, "range_end", range_end, strlen(range_end)) : 0;
        /* the smallest key above every key with the prefix: the last byte below 0xff raised by
         * one; "\0" (every key from key on) when there is none */
        while (n > 0 && (unsigned char)key[n - 1] == 0xff)
                n--;
        if (n == 0)
                return json_add_bytes(o, "range_end", "", 1);
        end = strndup(key, n);
        if (!end)
                return -ENOMEM;
        end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
        return json_add_bytes(o, "range_end", end, n);
}

static int decode_bytes(const cJSON *o, const char *key, char **ret, size_t *ret_size)
{
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
        int r;

        if (!j || cJSON_IsNull(j))
                j = NULL;
        else if (!cJSON_IsString(j))
                return -EBADMSG;
        /* proto3 leaves out empty bytes */
        r = base64_decode(j ? j->valuestring : "", ret, ret_size);
        return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

void kv_clear(EtcdKeyValue *kv)
{
        free(kv->key);
        free(kv->value);
        *kv = (EtcdKeyValue){};
}

int kv_parse(const cJSON *j, EtcdKeyValue *kv)
{
        int r;

        *kv = (EtcdKeyValue){};
        if (!cJSON_IsObject(j))
                return -EBADMSG;
        r = decode_bytes(j, "key", &kv->key, &kv->key_size);
        if (r >= 0)
                r = decode_bytes(j, "value", &kv->value, &kv->value_size);
        if (r >= 0)
                r = json_get_i64(j, "create_revision", &kv->create_revision);
        if (r >= 0)
                r = json_get_i64(j, "mod_revision", &kv->mod_revision);
        if (r >= 0)
                r = json_get_i64(j, "version", &kv->version);
        if (r >= 0)
                r = json_get_i64(j, "lease", &kv->lease);
        if (r < 0)
                kv_clear(kv);
        return r;
}

static void op_response_clear(EtcdOpResponse *o)
{
        for (size_t i = 0; i < o->n_kvs; i++)
                kv_clear(&o->kvs[i]);
        free(o->kvs);
        o->kvs = NULL;
        o->n_kvs = 0;
}

void response_clear(EtcdResponse *r)
{
        op_response_clear(&r->op);
        for (size_t i = 0; i < r->n_responses; i++)
                op_response_clear(&r->responses[i]);
        free(r->responses);
        *r = (EtcdResponse){};
}

/* The key-values of an array (kvs, prev_kvs) or of a single object (a put's prev_kv). */
static int parse_kvs(const cJSON *j, EtcdOpResponse *o)
{
        const cJSON *i;
        size_t n;
        int r;

        if (!j || cJSON_IsNull(j))
                return 0;
        if (cJSON_IsObject(j)) {
                o->kvs = calloc(1, sizeof(EtcdKeyValue));
                if (!o->kvs)
                        return -ENOMEM;
                o->n_kvs = 1;
                return kv_parse(j, &o->kvs[0]);
        }
        if (!cJSON_IsArray(j))
                return -EBADMSG;
        n = (size_t)cJSON_GetArraySize(j);
        if (n == 0)
                return 0;
        o->kvs = calloc(n, sizeof(EtcdKeyValue));
        if (!o->kvs)
                return -ENOMEM;
        cJSON_ArrayForEach (i, j) {
                r = kv_parse(i, &o->kvs[o->n_kvs]);
                if (r < 0)
                        return r;
                o->n_kvs++;
        }
        return 0;
}

static int parse_op_response(const cJSON *j, EtcdOpType type, EtcdOpResponse *o)
{
        int r;

        o->type = type;
        switch (type) {
        case ETCD_OP_RANGE:
                o->more = json_bool(j, "more", false);
                r = json_get_i64(j, "count", &o->count);
                return r < 0 ? r : parse_kvs(cJSON_GetObjectItemCaseSensitive(j, "kvs"), o);
        case ETCD_OP_PUT:
                return parse_kvs(cJSON_GetObjectItemCaseSensitive(j, "prev_kv"), o);
        case ETCD_OP_DELETE:
                r = json_get_i64(j, "deleted", &o->count);
                return r < 0 ? r : parse_kvs(cJSON_GetObjectItemCaseSensitive(j, "prev_kvs"), o);
        }
        return -EBADMSG;
}

static int parse_header(const cJSON *reply, EtcdResponse *resp)
{
        return json_get_i64(json_path(reply, "header"), "revision", &resp->revision);
}

static int parse_range(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        int r = parse_header(reply, resp);

        return r < 0 ? r : parse_op_response(reply, ETCD_OP_RANGE, &resp->op);
}

static int parse_put(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        int r = parse_header(reply, resp);

        return r < 0 ? r : parse_op_response(reply, ETCD_OP_PUT, &resp->op);
}

static int parse_delete(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        int r = parse_header(reply, resp);

        return r < 0 ? r : parse_op_response(reply, ETCD_OP_DELETE, &resp->op);
}

static int parse_header_only(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        return parse_header(reply, resp);
}

static const struct {
        const char *request, *response, *path;
} op_names[] = {
    [ETCD_OP_RANGE] = {"request_range", "response_range", "/v3/kv/range"},
    [ETCD_OP_PUT] = {"request_put", "response_put", "/v3/kv/put"},
    [ETCD_OP_DELETE] = {"request_delete_range", "response_delete_range", "/v3/kv/deleterange"},
};

static int parse_txn(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        const cJSON *responses = cJSON_GetObjectItemCaseSensitive(reply, "responses"), *i;
        int r;

        r = parse_header(reply, resp);
        if (r < 0)
                return r;
        resp->succeeded = json_bool(reply, "succeeded", false);
        if (!responses || cJSON_IsNull(responses))
                return 0;
        if (!cJSON_IsArray(responses))
                return -EBADMSG;
        resp->responses = calloc((size_t)cJSON_GetArraySize(responses) + 1, sizeof(EtcdOpResponse));
        if (!resp->responses)
                return -ENOMEM;
        cJSON_ArrayForEach (i, responses) {
                const cJSON *o = NULL;
                size_t t;

                for (t = 0; t < ELEMENTSOF(op_names) && !o; t++)
                        o = cJSON_GetObjectItemCaseSensitive(i, op_names[t].response);
                if (!cJSON_IsObject(o))
                        return -EBADMSG;
                r = parse_op_response(o, (EtcdOpType)(t - 1), &resp->responses[resp->n_responses]);
                resp->n_responses++; /* cleared by response_clear() even when half-read */
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The helpers' failure branch is one range of the key: the key as it is now. */
static int parse_guarded(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        int r = parse_txn(reply, resp, ret_message);

        if (r < 0)
                return r;
        if (!resp->succeeded) {
                if (resp->n_responses != 1 || resp->responses[0].type != ETCD_OP_RANGE)
                        return -EBADMSG;
                resp->kv = resp->responses[0].n_kvs > 0 ? &resp->responses[0].kvs[0] : NULL;
        }
        return 0;
}

static int parse_lease(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        const char *error = json_str(reply, "error");
        int r;

        if (!isempty(error)) {
                *ret_message = error;
                return -ENOENT;
        }
        r = parse_header(reply, resp);
        if (r >= 0)
                r = json_get_i64(reply, "ID", &resp->lease_id);
        if (r >= 0)
                r = json_get_i64(reply, "TTL", &resp->ttl);
        return r;
}

static int parse_keepalive(const cJSON *reply, EtcdResponse *resp, const char **ret_message)
{
        int r = parse_lease(reply, resp, ret_message);

        /* the gateway answers a lease that is gone with a TTL of 0, which proto3 leaves out */
        if (r >= 0 && resp->ttl <= 0) {
                *ret_message = "etcdserver: requested lease not found";
                return -ENOENT;
        }
        return r;
}

/* The body of a range, put or delete (the inner object of a txn's request op). */
static int op_json(const EtcdOp *op, cJSON **ret)
{
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        int r;

        if (!op->key || (op->type == ETCD_OP_PUT && op->value_size > 0 && !op->value) ||
            (unsigned)op->type >= ELEMENTSOF(op_names))
                return -EINVAL;
        if (!j)
                return -ENOMEM;
        r = json_add_bytes(j, "key", op->key, strlen(op->key));
        if (r >= 0 && op->type != ETCD_OP_PUT)
                r = json_add_range_end(j, op->key, op->range_end, op->prefix);
        if (r >= 0 && op->type == ETCD_OP_PUT)
                r = json_add_bytes(j, "value", op->value, op->value_size);
        if (r >= 0 && op->type == ETCD_OP_PUT && op->lease != 0)
                r = json_add_i64(j, "lease", op->lease);
        if (r >= 0 && op->type == ETCD_OP_RANGE && op->limit > 0)
                r = json_add_i64(j, "limit", op->limit);
        if (r >= 0 && op->type == ETCD_OP_RANGE && op->revision > 0)
                r = json_add_i64(j, "revision", op->revision);
        if (r >= 0 && op->type != ETCD_OP_RANGE && op->prev_kv)
                r = cJSON_AddTrueToObject(j, "prev_kv") ? 0 : -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}

static int compare_json(const EtcdCompare *c, cJSON **ret)
{
        static const char *const targets[] = {"VERSION", "CREATE", "MOD", "VALUE", "LEASE"};
        static const char *const fields[] = {"version", "create_revision", "mod_revision", "value", "lease"};
        static const char *const results[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        int r;

        if (!c->key || (unsigned)c->target >= ELEMENTSOF(targets) ||
            (unsigned)c->result >= ELEMENTSOF(results) ||
            (c->target == ETCD_COMPARE_VALUE && c->value_size > 0 && !c->value))
                return -EINVAL;
        if (!j)
                return -ENOMEM;
        r = json_add_bytes(j, "key", c->key, strlen(c->key));
        if (r >= 0)
                r = cJSON_AddStringToObject(j, "target", targets[c->target]) &&
                            cJSON_AddStringToObject(j, "result", results[c->result])
                        ? 0
                        : -ENOMEM;
        if (r >= 0)
                r = c->target == ETCD_COMPARE_VALUE
                        ? json_add_bytes(j, fields[c->target], c->value, c->value_size)
                        : json_add_i64(j, fields[c->target], c->number);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}

static int add_ops(cJSON *txn, const char *name, const EtcdOp *ops, size_t n)
{
        cJSON *a = cJSON_AddArrayToObject(txn, name);
        int r;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                cJSON *o = cJSON_CreateObject(), *inner = NULL;

                if (!o || !cJSON_AddItemToArray(a, o))
                        return cJSON_Delete(o), -ENOMEM;
                r = op_json(&ops[i], &inner);
                if (r < 0)
                        return r;
                if (!cJSON_AddItemToObject(o, op_names[ops[i].type].request, inner))
                        return cJSON_Delete(inner), -ENOMEM;
        }
        return 0;
}

static int txn_json(const EtcdTxn *t, cJSON **ret)
{
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        cJSON *a;
        int r;

        if (!t || (t->n_compares > 0 && !t->compares) || (t->n_success > 0 && !t->success) ||
            (t->n_failure > 0 && !t->failure))
                return -EINVAL;
        if (!j)
                return -ENOMEM;
        a = cJSON_AddArrayToObject(j, "compare");
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_compares; i++) {
                cJSON *c = NULL;

                r = compare_json(&t->compares[i], &c);
                if (r < 0)
                        return r;
                if (!cJSON_AddItemToArray(a, c))
                        return cJSON_Delete(c), -ENOMEM;
        }
        r = add_ops(j, "success", t->success, t->n_success);
        if (r >= 0)
                r = add_ops(j, "failure", t->failure, t->n_failure);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}

/* Sends j (taken) to path; the reply is read by parse. */
static int call(EtcdClient *c, const char *path, cJSON *j, request_parse_t parse, bool idempotent,
                etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        _cleanup_json_ cJSON *body = j;
        EtcdRequest *r;
        int k;

        k = request_new(c, path, json_print(body), &r);
        if (k < 0)
                return k;
        r->parse = parse;
        r->idempotent = idempotent;
        r->done = done;
        r->userdata = userdata;
        r->first_message = streq(path, "/v3/lease/keepalive");
        return request_start(r, ret);
}

static int call_op(EtcdClient *c, const EtcdOp *op, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        static const request_parse_t parsers[] = {
            [ETCD_OP_RANGE] = parse_range,
            [ETCD_OP_PUT] = parse_put,
            [ETCD_OP_DELETE] = parse_delete,
        };
        cJSON *j = NULL;
        int r;

        if (!c || !done)
                return -EINVAL;
        r = op_json(op, &j);
        if (r < 0)
                return r;
        return call(c, op_names[op->type].path, j, parsers[op->type], op->type == ETCD_OP_RANGE, done,
                    userdata, ret);
}

int etcd_range(EtcdClient *c, const char *key, const EtcdRangeOptions *o, etcd_done_t done, void *userdata,
               EtcdRequest **ret)
{
        EtcdOp op = {.type = ETCD_OP_RANGE, .key = key};

        if (o) {
                op.range_end = o->range_end;
                op.prefix = o->prefix;
                op.limit = o->limit;
                op.revision = o->revision;
        }
        return call_op(c, &op, done, userdata, ret);
}

int etcd_put(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
             etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        EtcdOp op = {
            .type = ETCD_OP_PUT, .key = key, .value = value, .value_size = value_size, .lease = lease};

        return call_op(c, &op, done, userdata, ret);
}

int etcd_delete(EtcdClient *c, const char *key, bool prefix, etcd_done_t done, void *userdata,
                EtcdRequest **ret)
{
        EtcdOp op = {.type = ETCD_OP_DELETE, .key = key, .prefix = prefix};

        return call_op(c, &op, done, userdata, ret);
}

static int call_txn(EtcdClient *c, const EtcdTxn *t, request_parse_t parse, etcd_done_t done, void *userdata,
                    EtcdRequest **ret)
{
        cJSON *j = NULL;
        int r;

        if (!c || !done)
                return -EINVAL;
        r = txn_json(t, &j);
        if (r < 0)
                return r;
        return call(c, "/v3/kv/txn", j, parse, false, done, userdata, ret);
}

int etcd_txn(EtcdClient *c, const EtcdTxn *t, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        return call_txn(c, t, parse_txn, done, userdata, ret);
}

/* "if target(key) == expected then op else range key". */
static int guarded(EtcdClient *c, const char *key, EtcdCompareTarget target, int64_t expected,
                   const EtcdOp *op, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        EtcdCompare cmp = {.key = key, .target = target, .result = ETCD_COMPARE_EQUAL, .number = expected};
        EtcdOp get = {.type = ETCD_OP_RANGE, .key = key};
        EtcdTxn t = {.compares = &cmp,
                     .n_compares = 1,
                     .success = op,
                     .n_success = 1,
                     .failure = &get,
                     .n_failure = 1};

        return call_txn(c, &t, parse_guarded, done, userdata, ret);
}

int etcd_create_if_absent(EtcdClient *c, const char *key, const void *value, size_t value_size,
                          int64_t lease, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        /* a txn that writes moves the store to a new revision, and a key created in it has that
         * revision as its create revision: the header's revision is the fencing token */
        EtcdOp put = {
            .type = ETCD_OP_PUT, .key = key, .value = value, .value_size = value_size, .lease = lease};

        return guarded(c, key, ETCD_COMPARE_CREATE, 0, &put, done, userdata, ret);
}

int etcd_put_if_revision(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
                         int64_t expected_mod_revision, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        EtcdOp put = {
            .type = ETCD_OP_PUT, .key = key, .value = value, .value_size = value_size, .lease = lease};

        if (expected_mod_revision < 0)
                return -EINVAL;
        return guarded(c, key, ETCD_COMPARE_MOD, expected_mod_revision, &put, done, userdata, ret);
}

int etcd_delete_if_revision(EtcdClient *c, const char *key, int64_t expected_mod_revision, etcd_done_t done,
                            void *userdata, EtcdRequest **ret)
{
        EtcdOp del = {.type = ETCD_OP_DELETE, .key = key};

        if (expected_mod_revision <= 0)
                return -EINVAL;
        return guarded(c, key, ETCD_COMPARE_MOD, expected_mod_revision, &del, done, userdata, ret);
}

int etcd_compact(EtcdClient *c, int64_t revision, bool physical, etcd_done_t done, void *userdata,
                 EtcdRequest **ret)
{
        cJSON *j;

        if (!c || !done || revision <= 0)
                return -EINVAL;
        j = cJSON_CreateObject();
        if (!j || json_add_i64(j, "revision", revision) < 0 ||
            (physical && !cJSON_AddTrueToObject(j, "physical"))) {
                cJSON_Delete(j);
                return -ENOMEM;
        }
        return call(c, "/v3/kv/compaction", j, parse_header_only, false, done, userdata, ret);
}

static int lease_call(EtcdClient *c, const char *path, const char *field, int64_t v, request_parse_t parse,
                      bool idempotent, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        cJSON *j;

        if (!c || !done || v <= 0)
                return -EINVAL;
        j = cJSON_CreateObject();
        if (!j || json_add_i64(j, field, v) < 0) {
                cJSON_Delete(j);
                return -ENOMEM;
        }
        return call(c, path, j, parse, idempotent, done, userdata, ret);
}

int etcd_lease_grant(EtcdClient *c, int64_t ttl_sec, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        /* not sent twice: a grant whose answer was lost leaves a lease that only expiry removes */
        return lease_call(c, "/v3/lease/grant", "TTL", ttl_sec, parse_lease, false, done, userdata, ret);
}

int etcd_lease_keepalive(EtcdClient *c, int64_t id, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        return lease_call(c, "/v3/lease/keepalive", "ID", id, parse_keepalive, true, done, userdata, ret);
}

int etcd_lease_revoke(EtcdClient *c, int64_t id, etcd_done_t done, void *userdata, EtcdRequest **ret)
{
        /* etcd 3.4 also answers /v3/kv/lease/revoke; /v3/lease/revoke is the path 3.5 keeps */
        return lease_call(c, "/v3/lease/revoke", "ID", id, parse_header_only, false, done, userdata, ret);
}
