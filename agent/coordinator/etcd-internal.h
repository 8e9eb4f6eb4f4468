/* The layouts shared by the etcd client's files: the client, a request with its transport state,
 * the watch stream's state, and the JSON helpers of both directions. Not for other modules. */
#pragma once

#include <cjson/cJSON.h>

#include "etcd-client.h"

struct EtcdClient {
        CurlLoop *loop;
        char **endpoints;
        size_t n_endpoints;
        size_t current; /* the endpoint that answered last: calls start there */
        usec_t request_timeout;
        usec_t connect_timeout;
        EtcdRequest *requests; /* every request in flight */
};

/* An error with the strings it points to. */
/* An error with the strings it points to (its own copies: the client may be freed inside the
 * callback that gets it). */
typedef struct OwnedError {
        EtcdError e;
        char *endpoint;
        char *message;
        char *text;
} OwnedError;

/* Fills a response from a reply's JSON; on failure with -ENOENT sets *ret_message to etcd's
 * words (a lease gone), else the reply is misshapen. */
typedef int (*request_parse_t)(const cJSON *reply, EtcdResponse *resp, const char **ret_message);

typedef struct Watch Watch;

struct EtcdRequest {
        EtcdClient *client; /* NULL once it left the client's list (its callback runs) */
        CurlLoop *loop;
        EtcdRequest *prev, *next;
        const char *path; /* "/v3/kv/range" */
        char *body;       /* the request's JSON */
        request_parse_t parse;
        bool idempotent;    /* may be sent again after a connection broke mid-call */
        bool first_message; /* the reply is a stream of which the first message counts */
        usec_t deadline;    /* CLOCK_MONOTONIC; USEC_INFINITY for a watch */
        size_t endpoint;    /* the endpoint of the attempt in flight */
        const char *endpoint_name;
        usec_t timeout; /* the request's deadline as a duration, for the error text */
        size_t attempts;
        char *failures; /* why earlier attempts failed, "endpoint: reason; ..." */
        CURL *easy;     /* NULL while no attempt is in flight, or once the loop cleans it up */
        struct curl_slist *headers;
        bool connected; /* the attempt in flight got a connection and sent the request */
        int write_error;
        char errbuf[CURL_ERROR_SIZE];
        char *in; /* the reply body of a unary call */
        size_t in_size, in_alloc;
        etcd_done_t done;
        void *userdata;
        Watch *watch; /* a watch: its stream state; NULL for unary calls */
};

/* --- etcd-client.c: requests and their transport --- */

/* A request for path with body (taken, also on failure), linked into c. */
int request_new(EtcdClient *c, const char *path, char *body, EtcdRequest **ret);
/* Starts the first attempt; on failure the request is freed and nothing is called. */
int request_start(EtcdRequest *r, EtcdRequest **ret);
/* Unlinks and frees, cancelling the transfer in flight. */
void request_free(EtcdRequest *r);
/* Takes r out of its client's list (before its final callback). */
void request_detach(EtcdRequest *r);
/* The end of a call: a unary call's callback runs with resp or e (both NULL: out of memory)
 * and r is freed; a watch hands e to watch_end(). e's strings are taken. */
void request_end(EtcdRequest *r, const EtcdResponse *resp, OwnedError *e);
/* Fills o for r; message NULL: the text of error. Returns o->e.error (or -ENOMEM). */
int error_make(OwnedError *o, const EtcdRequest *r, int error, EtcdErrorKind kind, int code,
               const char *message);
/* From a reply's JSON error object ({"error","message","code"} or a stream's
 * {"error":{"grpc_code","message"}}); -EBADMSG when j is no error. */
int error_from_json(OwnedError *o, const EtcdRequest *r, const cJSON *j);
void error_clear(OwnedError *o);
/* An out-of-memory error whose texts need no allocation (nothing to clear). */
void oom_error(OwnedError *o, const EtcdRequest *r);

/* --- etcd-kv.c: JSON both ways --- */

/* The int64 at key (a string, or a number); 0 when missing, -EBADMSG when not a number. */
int json_get_i64(const cJSON *o, const char *key, int64_t *ret);
/* Adds an int64 as the gateway writes them (a decimal string). */
int json_add_i64(cJSON *o, const char *key, int64_t v);
/* Adds size bytes at data base64-encoded. */
int json_add_bytes(cJSON *o, const char *key, const void *data, size_t size);
/* Adds "range_end" for the range a call asked for: an explicit end, a prefix's or none. */
int json_add_range_end(cJSON *o, const char *key, const char *range_end, bool prefix);
int kv_parse(const cJSON *j, EtcdKeyValue *kv);
void kv_clear(EtcdKeyValue *kv);
void response_clear(EtcdResponse *r);

/* --- etcd-watch.c: the stream --- */

/* curl's write function of a watch, and the end of its transfer (e NULL: the server closed the
 * stream). */
size_t watch_write(char *data, size_t size, size_t nmemb, void *userdata);
void watch_end(EtcdRequest *r, OwnedError *e);
/* etcd_request_cancel() of a watch. */
void watch_cancel(EtcdRequest *r);
void watch_free(Watch *w);
