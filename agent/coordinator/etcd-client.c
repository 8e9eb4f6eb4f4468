/* The etcd client and the transport of its calls: endpoint checks, one POST per attempt on the
 * CurlLoop with the request's deadline, failover to the next endpoint when a connection cannot
 * be made, and the errors (transport, etcd's own, a reply that is not the gateway's) as text
 * that names the endpoint. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"
#include "json-util.h"

static const char *const code_names[] = {
    "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};

static int parse_port(const char *s, size_t n)
{
        int port = 0;

        if (n == 0 || n > 5)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                port = port * 10 + (s[i] - '0');
        }
        return port >= 1 && port <= 65535 ? port : -EINVAL;
}

static bool host_name_char(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '-' || ch == '.' || ch == '_';
}

/* "http://host:port" with an optional final "/": the endpoint without it, or an error text. */
static int endpoint_check(const char *e, char **ret, char **ret_error)
{
        const char *host, *end, *colon;
        size_t n;

        if (!startswith(e, "http://"))
                return set_errorf(ret_error, -EINVAL,
                                  startswith(e, "https://")
                                      ? "etcd endpoint '%s': https is not supported, use http://host:port"
                                      : "etcd endpoint '%s' is not http://host:port",
                                  e);
        host = e + strlen("http://");
        n = strlen(host);
        if (n > 0 && host[n - 1] == '/')
                n--;
        end = host + n;
        if (host[0] == '[') {
                const char *close = memchr(host, ']', n);

                if (!close || close == host + 1 || close + 1 >= end || close[1] != ':')
                        return set_errorf(ret_error, -EINVAL, "etcd endpoint '%s': bad [IPv6]:port", e);
                for (const char *p = host + 1; p < close; p++)
                        if (!strchr("0123456789abcdefABCDEF:.", *p))
                                return set_errorf(ret_error, -EINVAL, "etcd endpoint '%s': bad IPv6 address",
                                                  e);
                colon = close + 1;
        } else {
                colon = memrchr(host, ':', n);
                if (!colon || colon == host)
                        return set_errorf(ret_error, -EINVAL, "etcd endpoint '%s' has no %s", e,
                                          colon ? "host" : "port (http://host:port)");
                for (const char *p = host; p < colon; p++)
                        if (!host_name_char(*p))
                                return set_errorf(
                                    ret_error, -EINVAL,
                                    "etcd endpoint '%s': bad host (a path or user is not allowed)", e);
        }
        if (parse_port(colon + 1, (size_t)(end - colon - 1)) < 0)
                return set_errorf(ret_error, -EINVAL,
                                  "etcd endpoint '%s': bad port (1-65535, nothing after it)", e);
        *ret = strndup(e, (size_t)(end - e));
        return *ret ? 0 : -ENOMEM;
}

int etcd_client_new(EtcdClient **ret, CurlLoop *loop, const EtcdClientOptions *o, char **ret_error)
{
        EtcdClient *c;
        size_t n = 0;
        int r;

        if (!ret || !loop || !o)
                return -EINVAL;
        if (o->endpoints)
                while (o->endpoints[n])
                        n++;
        if (n == 0)
                return set_errorf(ret_error, -EINVAL, "no etcd endpoint given");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->loop = loop;
        c->request_timeout = o->request_timeout ?: ETCD_DEFAULT_REQUEST_TIMEOUT_USEC;
        c->connect_timeout = o->connect_timeout ?: ETCD_DEFAULT_CONNECT_TIMEOUT_USEC;
        c->endpoints = calloc(n, sizeof(char *));
        if (!c->endpoints) {
                etcd_client_free(c);
                return -ENOMEM;
        }
        for (; c->n_endpoints < n; c->n_endpoints++) {
                r = endpoint_check(o->endpoints[c->n_endpoints], &c->endpoints[c->n_endpoints], ret_error);
                if (r < 0) {
                        etcd_client_free(c);
                        return r;
                }
        }
        *ret = c;
        return 0;
}

EtcdClient *etcd_client_free(EtcdClient *c)
{
        if (!c)
                return NULL;
        while (c->requests)
                etcd_request_cancel(c->requests);
        for (size_t i = 0; i < c->n_endpoints; i++)
                free(c->endpoints[i]);
        free(c->endpoints);
        free(c);
        return NULL;
}

const char *etcd_client_endpoint(const EtcdClient *c)
{
        return c ? c->endpoints[c->current] : NULL;
}

void request_detach(EtcdRequest *r)
{
        EtcdClient *c = r->client;

        if (!c)
                return;
        if (r->prev)
                r->prev->next = r->next;
        else
                c->requests = r->next;
        if (r->next)
                r->next->prev = r->prev;
        r->prev = r->next = NULL;
        r->client = NULL;
}

void request_free(EtcdRequest *r)
{
        if (!r)
                return;
        request_detach(r);
        if (r->easy)
                curl_loop_cancel(r->loop, TAKE_PTR(r->easy));
        watch_free(r->watch);
        curl_slist_free_all(r->headers);
        free(r->body);
        free(r->failures);
        free(r->in);
        free(r);
}

void etcd_request_cancel(EtcdRequest *r)
{
        if (!r || !r->client)
                return; /* its final callback runs: freed when that returns */
        if (r->watch) {
                watch_cancel(r);
                return;
        }
        request_free(r);
}

int request_new(EtcdClient *c, const char *path, char *body, EtcdRequest **ret)
{
        EtcdRequest *r;

        if (!body)
                return -ENOMEM;
        r = calloc(1, sizeof(*r));
        if (!r) {
                free(body);
                return -ENOMEM;
        }
        r->client = c;
        r->loop = c->loop;
        r->path = path;
        r->body = body;
        r->endpoint = c->current;
        r->endpoint_name = c->endpoints[c->current];
        r->timeout = c->request_timeout;
        r->deadline = now_usec(CLOCK_MONOTONIC) + c->request_timeout;
        r->next = c->requests;
        if (r->next)
                r->next->prev = r;
        c->requests = r;
        *ret = r;
        return 0;
}

static int append_in(EtcdRequest *r, const char *data, size_t n)
{
        if (r->in_size + n > ETCD_MAX_REPLY_SIZE)
                return -EMSGSIZE;
        if (r->in_size + n + 1 > r->in_alloc) {
                size_t a = MAX(r->in_size + n + 1, MIN(2 * r->in_alloc, (size_t)ETCD_MAX_REPLY_SIZE + 1));
                char *p = realloc(r->in, a);

                if (!p)
                        return -ENOMEM;
                r->in = p;
                r->in_alloc = a;
        }
        memcpy(r->in + r->in_size, data, n);
        r->in_size += n;
        r->in[r->in_size] = 0;
        return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
        EtcdRequest *r = userdata;
        size_t n = size * nmemb;
        long http = 0;
        int k;

        /* an error reply of a watch is one JSON object, read whole like a unary reply */
        (void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
        if (r->watch && http == 200)
                return watch_write(data, size, nmemb, userdata);
        k = append_in(r, data, n);
        if (k < 0) {
                r->write_error = k;
                return 0;
        }
        return n;
}

static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port)
{
        EtcdRequest *r = userdata;

        r->connected = true;
        return CURL_PREREQFUNC_OK;
}

static long to_msec(usec_t u)
{
        return (long)MIN((u + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t)LONG_MAX);
}

static void on_curl_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata);

/* One attempt at the endpoint r->endpoint; 0 or a negative errno (nothing started). */
static int attempt(EtcdRequest *r)
{
        _cleanup_free_ char *url = NULL;
        usec_t now = now_usec(CLOCK_MONOTONIC), left;
        CURL *e;
        bool ok;
        int k;

        if (!r->headers) {
                /* no "Expect: 100-continue": the gateway would wait a round trip for nothing */
                static const char *const headers[] = {"Content-Type: application/json",
                                                      "Accept: application/json", "Expect:"};

                for (size_t i = 0; i < ELEMENTSOF(headers); i++) {
                        struct curl_slist *h = curl_slist_append(r->headers, headers[i]);

                        if (!h)
                                return -ENOMEM;
                        r->headers = h;
                }
        }
        url = strjoin(r->endpoint_name, r->path, NULL);
        if (!url)
                return -ENOMEM;
        left = r->deadline == USEC_INFINITY ? USEC_INFINITY : r->deadline > now ? r->deadline - now : 1;
        e = curl_easy_init();
        if (!e)
                return -ENOMEM;
        r->connected = false;
        r->errbuf[0] = 0;
        r->easy = e;
        ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body)) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PREREQDATA, r) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                              to_msec(MIN(left, r->client->connect_timeout))) == CURLE_OK;
        if (ok && left != USEC_INFINITY)
                ok = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, to_msec(left)) == CURLE_OK;
        /* a watch waits for changes for hours: keepalive probes notice a peer that vanished */
        if (ok && r->watch)
                ok = curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
                     curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L) == CURLE_OK &&
                     curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L) == CURLE_OK;
        k = ok ? curl_loop_add(r->loop, e, on_curl_done, r) : -EINVAL;
        if (k < 0) {
                curl_easy_cleanup(TAKE_PTR(r->easy));
                return k;
        }
        r->attempts++;
        return 0;
}

int request_start(EtcdRequest *r, EtcdRequest **ret)
{
        int k = attempt(r);

        if (k < 0) {
                request_free(r);
                return k;
        }
        if (ret)
                *ret = r;
        return 0;
}

void error_clear(OwnedError *o)
{
        o->endpoint = mfree(o->endpoint);
        o->message = mfree(o->message);
        o->text = mfree(o->text);
}

static const char *code_name(int code)
{
        return code >= 0 && (size_t)code < ELEMENTSOF(code_names) ? code_names[code] : "unknown code";
}

static int error_text(const EtcdRequest *r, int error, EtcdErrorKind kind, int code, const char *m,
                      char **ret)
{
        const char *ep = r->endpoint_name;

        switch (kind) {
        case ETCD_ERROR_SERVER:
                return asprintf_safe(ret, "etcd at %s failed %s: %s (%s)", ep, r->path, m, code_name(code));
        case ETCD_ERROR_REPLY:
                return asprintf_safe(ret, "etcd at %s gave no usable answer to %s: %s", ep, r->path, m);
        case ETCD_ERROR_TRANSPORT:
                break;
        }
        if (error == -ETIMEDOUT && r->deadline != USEC_INFINITY)
                return asprintf_safe(ret, "etcd at %s did not answer %s within %" PRIu64 " ms (%s)%s%s", ep,
                                     r->path, (uint64_t)to_msec(r->timeout), m,
                                     r->failures ? "; before that: " : "", r->failures ?: "");
        if (r->failures)
                return asprintf_safe(ret, "cannot reach any etcd endpoint: %s; %s: %s", r->failures, ep, m);
        if (error == -ECONNRESET)
                return asprintf_safe(ret, "connection to etcd at %s lost during %s: %s", ep, r->path, m);
        return asprintf_safe(ret, "cannot reach etcd at %s: %s", ep, m);
}

int error_make(OwnedError *o, const EtcdRequest *r, int error, EtcdErrorKind kind, int code,
               const char *message)
{
        int k;

        *o = (OwnedError){};
        o->endpoint = strdup(r->endpoint_name);
        o->message = strdup(message ?: strerror(-error));
        if (!o->endpoint || !o->message) {
                error_clear(o);
                return -ENOMEM;
        }
        k = error_text(r, error, kind, code, o->message, &o->text);
        if (k < 0) {
                error_clear(o);
                return k;
        }
        o->e = (EtcdError){
            .error = error,
            .kind = kind,
            .code = code,
            .endpoint = o->endpoint,
            .message = o->message,
            .text = o->text,
        };
        return error;
}

static int code_to_errno(int code, const char *message)
{
        switch (code) {
        case 1:
                return -ECANCELED;
        case 3:
                return -EINVAL;
        case 4:
                return -ETIMEDOUT;
        case 5:
                return -ENOENT;
        case 6:
                return -EEXIST;
        case 7:
        case 16:
                return -EACCES;
        case 8:
                return -ENOSPC;
        case 11:
                return message && strstr(message, "compacted") ? -ESTALE : -ERANGE;
        case 12:
                return -EOPNOTSUPP;
        case 14:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

int error_from_json(OwnedError *o, const EtcdRequest *r, const cJSON *j)
{
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
        const char *message;
        int code;

        if (cJSON_IsObject(err)) {
                /* a stream's error: grpc-gateway wraps it in an object of its own */
                code = (int)json_int(err, "grpc_code", 2);
                message = json_str(err, "message");
        } else if (cJSON_IsString(err) || json_str(j, "message")) {
                code = (int)json_int(j, "code", 2);
                message = json_str(j, "message") ?: err->valuestring;
        } else
                return -EBADMSG;
        return error_make(o, r, code_to_errno(code, message), ETCD_ERROR_SERVER, code,
                          isempty(message) ? "(no message)" : message);
}

/* The transfer failed: fail over when the request cannot have reached etcd (or may be sent
 * twice), else end with the transport's error. */
static void transport_failed(EtcdRequest *r, CURLcode result)
{
        const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
        EtcdClient *c = r->client;
        OwnedError e;
        int error, k;

        if ((!r->connected || r->idempotent) && r->attempts < c->n_endpoints &&
            now_usec(CLOCK_MONOTONIC) < r->deadline) {
                char *f = r->failures ? strjoin(r->failures, "; ", r->endpoint_name, ": ", why, NULL)
                                      : strjoin(r->endpoint_name, ": ", why, NULL);

                if (f) {
                        free(r->failures);
                        r->failures = f;
                        r->endpoint = (r->endpoint + 1) % c->n_endpoints;
                        r->endpoint_name = c->endpoints[r->endpoint];
                        if (attempt(r) >= 0)
                                return;
                }
        }
        if (result == CURLE_OPERATION_TIMEDOUT)
                error = -ETIMEDOUT;
        else if (result == CURLE_COULDNT_RESOLVE_HOST)
                error = -EHOSTUNREACH;
        else
                error = r->connected ? -ECONNRESET : -ECONNREFUSED;
        k = error_make(&e, r, error, ETCD_ERROR_TRANSPORT, 0, why);
        request_end(r, NULL, k == -ENOMEM ? NULL : &e);
}

void oom_error(OwnedError *o, const EtcdRequest *r)
{
        /* texts that need no allocation, for when there is no memory left to say more */
        *o = (OwnedError){.e = {.error = -ENOMEM,
                                .kind = ETCD_ERROR_TRANSPORT,
                                .endpoint = "",
                                .message = "out of memory",
                                .text = "etcd client: out of memory"}};
}

void request_end(EtcdRequest *r, const EtcdResponse *resp, OwnedError *e)
{
        EtcdClient *c = r->client;
        OwnedError oom;

        if (!resp && !e) {
                oom_error(&oom, r);
                e = &oom;
        }
        if (r->watch) {
                watch_end(r, e);
                return;
        }
        request_detach(r);
        r->done(c, e ? NULL : resp, e ? &e->e : NULL, r->userdata);
        if (e)
                error_clear(e);
        request_free(r);
}

/* The first line of a non-JSON body, for the error text. */
static char *body_excerpt(const EtcdRequest *r)
{
        size_t n = r->in ? strcspn(r->in, "\r\n") : 0;

        return strndup(r->in ?: "", MIN(n, (size_t)200));
}

static int reply_error(OwnedError *o, EtcdRequest *r, long http, const cJSON *j)
{
        _cleanup_free_ char *m = NULL, *excerpt = NULL;
        int k;

        if (j) {
                k = error_from_json(o, r, j);
                if (k != -EBADMSG)
                        return k;
        }
        excerpt = body_excerpt(r);
        if (!excerpt)
                return -ENOMEM;
        if (http == 200)
                k = asprintf_safe(&m, "the reply is not the gateway's JSON: '%s'", excerpt);
        else
                k = asprintf_safe(&m, "HTTP status %ld: '%s'", http, excerpt);
        if (k < 0)
                return k;
        return error_make(o, r, http == 200 ? -EBADMSG : -EPROTO, ETCD_ERROR_REPLY, 0, m);
}

static void unary_end(EtcdRequest *r, long http)
{
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *result;
        const char *message = NULL;
        EtcdResponse resp = {};
        OwnedError e;
        int k;

        /* a keepalive's reply is a stream: its first message is the answer */
        if (r->in)
                j = r->first_message ? cJSON_ParseWithLengthOpts(r->in, r->in_size, NULL, false)
                                     : cJSON_ParseWithLength(r->in, r->in_size);
        if (!cJSON_IsObject(j) || http != 200 || cJSON_GetObjectItemCaseSensitive(j, "error")) {
                k = reply_error(&e, r, http, cJSON_IsObject(j) ? j : NULL);
                request_end(r, NULL, k == -ENOMEM ? NULL : &e);
                return;
        }
        result = r->first_message ? cJSON_GetObjectItemCaseSensitive(j, "result") : j;
        k = cJSON_IsObject(result) ? r->parse(result, &resp, &message) : -EBADMSG;
        if (k < 0 && k != -ENOENT && k != -ENOMEM)
                k = -EBADMSG;
        if (k == -ENOENT)
                k = error_make(&e, r, -ENOENT, ETCD_ERROR_SERVER, 5, message);
        else if (k == -EBADMSG)
                k = error_make(&e, r, -EBADMSG, ETCD_ERROR_REPLY, 0,
                               "the reply's JSON is not of the expected shape");
        if (k == -ENOMEM) {
                response_clear(&resp);
                request_end(r, NULL, NULL);
                return;
        }
        request_end(r, k < 0 ? NULL : &resp, k < 0 ? &e : NULL);
        response_clear(&resp);
}

static void on_curl_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata)
{
        EtcdRequest *r = userdata;
        OwnedError e;
        long http = 0;
        int k;

        r->easy = NULL; /* the loop cleans it up when this returns */
        if (r->write_error) {
                k = r->write_error == -EMSGSIZE
                        ? error_make(&e, r, -EMSGSIZE, ETCD_ERROR_REPLY, 0, "the reply is too large")
                        : -ENOMEM;
                request_end(r, NULL, k == -ENOMEM ? NULL : &e);
                return;
        }
        if (result != CURLE_OK) {
                transport_failed(r, result);
                return;
        }
        /* it answered: later calls start here */
        r->client->current = r->endpoint;
        (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
        if (r->watch && http == 200) {
                k = error_make(&e, r, -ECONNRESET, ETCD_ERROR_TRANSPORT, 0, "etcd closed the watch stream");
                request_end(r, NULL, k == -ENOMEM ? NULL : &e);
                return;
        }
        unary_end(r, http);
}
