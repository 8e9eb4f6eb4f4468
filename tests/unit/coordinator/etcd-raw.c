/* etcd as it is, for tests: see etcd-raw.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "curl-loop.h"
#include "etcd-raw.h"
#include "event-run.h"

struct EtcdRaw {
        sd_event *event;
        const char *url; /* borrowed */
        CurlLoop *loop;
        EtcdClient *client;
};

/* One call's answer, as the callbacks copy it out. */
typedef struct Call {
        bool called;
        int error;
        char text[256];
        EtcdRawKey *key;   /* get: the key found */
        const char *match; /* count: the value counted, NULL: any */
        size_t count;
        int64_t deleted;
} Call;

int etcd_raw_new(EtcdRaw **ret, sd_event *event, const char *url)
{
        EtcdRaw *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        r->event = event;
        r->url = url;
        *ret = r;
        return 0;
}

void etcd_raw_disconnect(EtcdRaw *r)
{
        r->client = etcd_client_free(r->client);
        r->loop = curl_loop_free(r->loop);
}

EtcdRaw *etcd_raw_free(EtcdRaw *r)
{
        if (!r)
                return NULL;
        etcd_raw_disconnect(r);
        return mfree(r);
}

EtcdClient *etcd_raw_client(EtcdRaw *r)
{
        const char *const endpoints[] = {r->url, NULL};
        EtcdClientOptions o = {.endpoints = endpoints};

        if (!r->client) {
                cr_assert_eq(curl_loop_new(&r->loop, r->event), 0);
                cr_assert_eq(etcd_client_new(&r->client, r->loop, &o, NULL), 0);
        }
        return r->client;
}

static void on_answer(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Call *call = userdata;
        EtcdRawKey *k = call->key;

        call->called = true;
        if (e) {
                call->error = e->error;
                snprintf(call->text, sizeof(call->text), "%s", e->text);
                return;
        }
        if (k && resp->op.n_kvs > 0) {
                k->found = true;
                snprintf(k->value, sizeof(k->value), "%s", resp->op.kvs[0].value);
                k->create_revision = resp->op.kvs[0].create_revision;
                k->mod_revision = resp->op.kvs[0].mod_revision;
                k->lease = resp->op.kvs[0].lease;
        }
        for (size_t i = 0; i < resp->op.n_kvs; i++)
                call->count += !call->match || streq(resp->op.kvs[i].value, call->match);
        call->deleted = resp->op.count;
}

/* k: what the call that should answer call returned at once. */
static void wait_answer(EtcdRaw *r, Call *call, int k)
{
        cr_assert_eq(k, 0, "the etcd call failed at once: %s", strerror(-k));
        cr_assert(event_run_until_set(r->event, &call->called, ETCD_RAW_WAIT_USEC), "etcd never answered");
        cr_assert_eq(call->error, 0, "etcd: %s", call->text);
}

EtcdRawKey etcd_raw_get(EtcdRaw *r, const char *key)
{
        EtcdRawKey kv = {};
        Call call = {.key = &kv};

        wait_answer(r, &call, etcd_range(etcd_raw_client(r), key, NULL, on_answer, &call, NULL));
        return kv;
}

size_t etcd_raw_count(EtcdRaw *r, const char *prefix, const char *value)
{
        Call call = {.match = value};

        wait_answer(r, &call,
                    etcd_range(etcd_raw_client(r), prefix, &(EtcdRangeOptions){.prefix = true}, on_answer,
                               &call, NULL));
        return call.count;
}

void etcd_raw_put(EtcdRaw *r, const char *key, const char *value)
{
        Call call = {};

        wait_answer(r, &call,
                    etcd_put(etcd_raw_client(r), key, value, strlen(value), 0, on_answer, &call, NULL));
}

int64_t etcd_raw_delete(EtcdRaw *r, const char *key, bool prefix)
{
        Call call = {};

        wait_answer(r, &call, etcd_delete(etcd_raw_client(r), key, prefix, on_answer, &call, NULL));
        return call.deleted;
}

void etcd_raw_revoke(EtcdRaw *r, int64_t lease)
{
        Call call = {};

        wait_answer(r, &call, etcd_lease_revoke(etcd_raw_client(r), lease, on_answer, &call, NULL));
}
