/* httpGet probes (SEMANTICS.md 4.3) on the CurlLoop: the kubelet's request (headers, no
 * keep-alive, no proxy, no compression, TLS unverified), its redirect rule (same hostname only,
 * re-issued here hop by hop rather than by curl) and its result mapping, with Go's error texts.
 * The call is freed by this file right after its done callback returns. */
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "probe-internal.h"

typedef struct HttpCall {
        ProbeCall call; /* first: probe_call_cancel() casts */
        CurlLoop *loop;
        probe_done_t done;
        void *userdata;
        CURL *easy;                      /* the hop in flight, NULL between hops */
        struct curl_slist *headers;      /* every hop's headers, without Host */
        struct curl_slist *headers_host; /* the same plus the manifest's Host, NULL without one */
        char *url;                       /* this hop's URL */
        char *hostname;                  /* the first URL's, for the redirect rule */
        usec_t deadline;                 /* CLOCK_MONOTONIC; USEC_INFINITY without a timeout */
        unsigned n_requests;             /* Go's len(via) once the next hop is built */
        ProbeResult deferred;            /* a result decided before any request was made */
        sd_event_source *defer;          /* ...reported from the loop through this */
        char *message;                   /* of the outcome being reported */
        bool headers_done;               /* the final response's header block has ended */
        bool truncated;                  /* the body went past PROBE_MAX_OUTPUT: not an error */
        bool finishing;                  /* done runs: a cancel from inside it changes nothing */
        char errbuf[CURL_ERROR_SIZE];
        size_t body_size;
        char body[PROBE_MAX_OUTPUT + 1];
} HttpCall;

#define TIMEOUT_AWAITING_HEADERS "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
#define TIMEOUT_READING_BODY                                                                                \
        "context deadline exceeded (Client.Timeout or context cancellation while reading body)"

static HttpCall *http_call_free(HttpCall *c)
{
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->defer);
        curl_slist_free_all(c->headers);
        curl_slist_free_all(c->headers_host);
        free(c->url);
        free(c->hostname);
        free(c->message);
        return mfree(c);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpCall *, http_call_free);

/* net.JoinHostPort: an IPv6 literal is bracketed. */
static char *join_host_port(const char *host, long port)
{
        char *s = NULL;

        if (asprintf_safe(&s, strchr(host, ':') ? "[%s]:%ld" : "%s:%ld", host, port) < 0)
                return NULL;
        return s;
}

static bool is_token_char(char ch)
{
        return isalnum((unsigned char)ch) || strchr("!#$%&'*+-.^_`|~", ch);
}

static bool valid_header_name(const char *name)
{
        if (isempty(name))
                return false;
        for (const char *p = name; *p; p++)
                if (!is_token_char(*p))
                        return false;
        return true;
}

/* httpguts.ValidHeaderFieldValue: no control characters but tab. This is also what keeps a
 * manifest from smuggling extra header lines into the request. */
static bool valid_header_value(const char *value)
{
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
                if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                        return false;
        return true;
}

/* textproto.CanonicalMIMEHeaderKey, in place: "x-request-id" is sent as "X-Request-Id". */
static void canonicalize_header_name(char *name)
{
        bool upper = true;

        if (!valid_header_name(name))
                return;
        for (char *p = name; *p; p++) {
                *p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
                upper = *p == '-';
        }
}

static int append_header(struct curl_slist **list, const char *name, const char *value)
{
        _cleanup_free_ char *line = NULL;
        struct curl_slist *l;

        /* curl: "Name:" removes a header, "Name;" sends it with an empty value */
        if (!value)
                line = strjoin(name, ":", NULL);
        else if (!value[0])
                line = strjoin(name, ";", NULL);
        else
                line = strjoin(name, ": ", value, NULL);
        if (!line)
                return -ENOMEM;
        l = curl_slist_append(*list, line);
        if (!l)
                return -ENOMEM;
        *list = l;
        return 0;
}

static const char *first_value(const ProbeHandler *h, const char *name)
{
        for (size_t i = 0; i < h->n_headers; i++)
                if (h->headers[i].name && strcasecmp(h->headers[i].name, name) == 0)
                        return h->headers[i].value ?: "";
        return NULL;
}

/* The headers of a request that carries the manifest's Host: all the others, then Host. */
static int build_headers_host(HttpCall *c, const char *host)
{
        for (struct curl_slist *l = c->headers; l; l = l->next) {
                struct curl_slist *n = curl_slist_append(c->headers_host, l->data);
                if (!n)
                        return -ENOMEM;
                c->headers_host = n;
        }
        return append_header(&c->headers_host, "Host", host);
}

/* Adds the handler's headers as http.Header holds them and Go's transport writes them: names
 * canonical, repeats kept in order, User-Agent and Host once (their first value), an Accept
 * whose first value is empty dropped; then the kubelet's defaults. -EINVAL with *ret_error
 * (Go's text) for a header Go would refuse to send. */
static int build_headers(HttpCall *c, const ProbeHandler *h, char **ret_error)
{
        const char *ua = first_value(h, "User-Agent"), *accept = first_value(h, "Accept");
        const char *host = first_value(h, "Host"), *connection = first_value(h, "Connection");
        int r;

        for (size_t i = 0; i < h->n_headers; i++) {
                _cleanup_free_ char *name = strdup(h->headers[i].name ?: "");
                const char *value = h->headers[i].value ?: "";

                if (!name)
                        return -ENOMEM;
                canonicalize_header_name(name);
                if (!valid_header_name(name) || !valid_header_value(value)) {
                        if (asprintf_safe(ret_error,
                                          valid_header_name(name)
                                              ? "net/http: invalid header field value for \"%s\""
                                              : "net/http: invalid header field name \"%s\"",
                                          name) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
                if (streq(name, "Host") || streq(name, "User-Agent"))
                        continue;
                if (streq(name, "Accept") && isempty(accept))
                        continue;
                r = append_header(&c->headers, name, value);
                if (r < 0)
                        return r;
        }
        if (!ua)
                r = append_header(&c->headers, "User-Agent", PROBE_USER_AGENT);
        else if (ua[0])
                r = append_header(&c->headers, "User-Agent", ua);
        else
                r = 0; /* Go sends no User-Agent when it is set to "" */
        if (r < 0)
                return r;
        /* a non-empty Accept went out above; an empty one also removes the Accept curl adds */
        if (!accept)
                r = append_header(&c->headers, "Accept", "*/*");
        else if (!accept[0])
                r = append_header(&c->headers, "Accept", NULL);
        if (r < 0)
                return r;
        /* Go's DisableKeepAlives asks the server to close, too */
        if (!connection) {
                r = append_header(&c->headers, "Connection", "close");
                if (r < 0)
                        return r;
        }
        return isempty(host) ? 0 : build_headers_host(c, host);
}

/* A part of a URL as curl sees it (hosts of IPv6 literals without their brackets), or NULL. */
static char *url_part(const char *url, CURLUPart part)
{
        CURLU *u = curl_url();
        char *v = NULL, *s = NULL;

        if (!u)
                return NULL;
        if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
            curl_url_get(u, part, &v, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                size_t n = strlen(v);

                if (part == CURLUPART_HOST && n >= 2 && v[0] == '[' && v[n - 1] == ']')
                        s = strndup(v + 1, n - 2);
                else
                        s = strdup(v);
        }
        curl_free(v);
        curl_url_cleanup(u);
        return s;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
        HttpCall *c = userdata;
        size_t len = size * n, take = MIN(len, PROBE_MAX_OUTPUT - c->body_size);

        memcpy(c->body + c->body_size, data, take);
        c->body_size += take;
        c->body[c->body_size] = 0;
        /* the short count ends the transfer: the kubelet stops reading there as well */
        if (take < len)
                c->truncated = true;
        return take;
}

/* Marks the end of the final response's header block: a timeout or error after it happened
 * while reading the body, which the kubelet reports differently. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
        HttpCall *c = userdata;
        size_t len = size * n;
        long status = 0;

        if ((len == 2 && data[0] == '\r' && data[1] == '\n') || (len == 1 && data[0] == '\n')) {
                (void)curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200)
                        c->headers_done = true;
        }
        return len;
}

/* SO_LINGER 0: the close sends RST, so no TIME_WAIT is left on either side (kubernetes#89898). */
static int on_sockopt(void *userdata, curl_socket_t fd, curlsocktype purpose)
{
        struct linger lg = {.l_onoff = 1, .l_linger = 0};

        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        return CURL_SOCKOPT_OK;
}

static void on_transfer_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata);

/* Issues one request of the run to c->url; -ETIME when the run's deadline has passed. */
static int start_hop(HttpCall *c, bool with_host, const char *referer)
{
        long timeout_ms = 0;
        CURL *easy;
        int r;

        if (c->deadline != USEC_INFINITY) {
                usec_t now = now_usec(CLOCK_MONOTONIC);

                if (now >= c->deadline)
                        return -ETIME;
                timeout_ms = (long)((c->deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
        }
        easy = curl_easy_init();
        if (!easy)
                return -ENOMEM;
        c->body_size = 0;
        c->body[0] = 0;
        c->truncated = c->headers_done = false;
        c->errbuf[0] = 0;
        if (curl_easy_setopt(easy, CURLOPT_URL, c->url) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_NOPROXY, "*") != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, with_host ? c->headers_host : c->headers) !=
                CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_REFERER, referer) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_WRITEDATA, c) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_HEADERDATA, c) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, on_sockopt) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK) {
                curl_easy_cleanup(easy);
                return -EINVAL;
        }
        c->easy = easy;
        r = curl_loop_add(c->loop, easy, on_transfer_done, c);
        if (r < 0) {
                c->easy = NULL;
                curl_easy_cleanup(easy);
                return r;
        }
        c->n_requests++;
        return 0;
}

typedef struct Outcome {
        ProbeResult result;
        char *message;
} Outcome;

static void set_outcome(Outcome *o, ProbeResult result, char *message)
{
        o->result = message ? result : PROBE_ERROR;
        o->message = message;
}

/* "127.0.0.1:8080" as Go prints the peer of a failed dial. */
static char *remote_address(HttpCall *c, CURL *easy)
{
        _cleanup_free_ char *host = NULL, *port = NULL;
        char *ip = NULL;
        long port_number = 0;

        if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && !isempty(ip) &&
            curl_easy_getinfo(easy, CURLINFO_PRIMARY_PORT, &port_number) == CURLE_OK && port_number > 0)
                return join_host_port(ip, port_number);
        host = url_part(c->url, CURLUPART_HOST);
        port = url_part(c->url, CURLUPART_PORT);
        if (!host || !port)
                return NULL;
        return join_host_port(host, strtol(port, NULL, 10));
}

/* "read tcp 127.0.0.1:41234->127.0.0.1:8080" */
static char *connection_name(CURL *easy, const char *op)
{
        char *local = NULL, *remote = NULL, *s = NULL;
        long local_port = 0, remote_port = 0;
        _cleanup_free_ char *l = NULL, *r = NULL;

        (void)curl_easy_getinfo(easy, CURLINFO_LOCAL_IP, &local);
        (void)curl_easy_getinfo(easy, CURLINFO_LOCAL_PORT, &local_port);
        (void)curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &remote);
        (void)curl_easy_getinfo(easy, CURLINFO_PRIMARY_PORT, &remote_port);
        l = join_host_port(local ?: "", local_port);
        r = join_host_port(remote ?: "", remote_port);
        if (!l || !r || asprintf_safe(&s, "%s tcp %s->%s", op, l, r) < 0)
                return NULL;
        return s;
}

/* Go's words for what went wrong, without the "Get URL: " of the client. */
static char *transfer_error_detail(HttpCall *c, CURL *easy, CURLcode result)
{
        _cleanup_free_ char *part = NULL, *where = NULL;
        const char *curl_text = c->errbuf[0] ? c->errbuf : curl_easy_strerror(result);
        long os_errno = 0;
        char err[128] = "";
        char *s = NULL;
        int r = 0;

        (void)curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno > 0)
                probe_errno_text((int)os_errno, err, sizeof(err));
        switch (result) {
        case CURLE_OPERATION_TIMEDOUT:
                return strdup(c->headers_done ? TIMEOUT_READING_BODY : TIMEOUT_AWAITING_HEADERS);
        case CURLE_COULDNT_RESOLVE_HOST:
                part = url_part(c->url, CURLUPART_HOST);
                r = asprintf_safe(&s, "dial tcp: lookup %s: no such host", part ?: "");
                break;
        case CURLE_COULDNT_CONNECT:
                where = remote_address(c, easy);
                if (!where)
                        return NULL;
                if (err[0])
                        r = asprintf_safe(&s, "dial tcp %s: connect: %s", where, err);
                else
                        r = asprintf_safe(&s, "dial tcp %s: %s", where, curl_text);
                break;
        case CURLE_GOT_NOTHING:
                return strdup("EOF");
        case CURLE_PARTIAL_FILE:
                return strdup("unexpected EOF");
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
                if (!err[0])
                        return strdup(curl_text);
                where = connection_name(easy, result == CURLE_RECV_ERROR ? "read" : "write");
                if (!where)
                        return NULL;
                r = asprintf_safe(&s, "%s: %s: %s", where, result == CURLE_RECV_ERROR ? "read" : "write",
                                  err);
                break;
        case CURLE_UNSUPPORTED_PROTOCOL:
                part = url_part(c->url, CURLUPART_SCHEME);
                r = asprintf_safe(&s, "unsupported protocol scheme \"%s\"", part ?: "");
                break;
        default:
                return strdup(curl_text);
        }
        return r < 0 ? NULL : s;
}

static void transfer_error(HttpCall *c, CURL *easy, CURLcode result, Outcome *o)
{
        _cleanup_free_ char *detail = transfer_error_detail(c, easy, result);
        char *s = NULL;

        if (!detail) {
                set_outcome(o, PROBE_ERROR, strdup(strerror(ENOMEM)));
                return;
        }
        /* once the headers are in, the kubelet's body read returns the error itself: the
         * probe errors (and is retried) instead of failing */
        if (c->headers_done) {
                set_outcome(o, PROBE_ERROR, TAKE_PTR(detail));
                return;
        }
        if (asprintf_safe(&s, "Get \"%s\": %s", c->url, detail) < 0)
                s = NULL;
        set_outcome(o, PROBE_FAILURE, s);
}

static bool is_redirect(long status)
{
        /* the codes Go's client follows; any other 3xx is returned as it is */
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* url.URL.IsAbs: the Location carries a scheme. */
static bool is_absolute(const char *loc)
{
        const char *p = loc;

        if (!isalpha((unsigned char)*p))
                return false;
        while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
                p++;
        return *p == ':';
}

/* Go's CheckRedirect as the kubelet sets it: a redirect to another hostname is not followed
 * (its 3xx stands), the 10th same-host redirect stops the run. Returns 1 when another hop
 * was started, 0 when the response stands, and -1 when *o holds the run's outcome. */
static int follow_redirect(HttpCall *c, CURL *easy, long status, Outcome *o)
{
        _cleanup_free_ char *target_host = NULL, *previous = NULL, *scheme = NULL, *next_scheme = NULL;
        struct curl_header *location = NULL;
        char *target = NULL, *s = NULL;
        const char *referer;
        int r;

        if (!is_redirect(status) ||
            curl_easy_header(easy, "Location", 0, CURLH_HEADER, -1, &location) != CURLHE_OK ||
            isempty(location->value))
                return 0;
        if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &target) != CURLE_OK || !target) {
                (void)asprintf_safe(&s, "Get \"%s\": failed to parse Location header \"%s\"", c->url,
                                    location->value);
                set_outcome(o, PROBE_FAILURE, s);
                return -1;
        }
        target_host = url_part(target, CURLUPART_HOST);
        if (!streq_ptr(target_host, c->hostname))
                return 0;
        if (c->n_requests >= PROBE_MAX_REDIRECTS) {
                (void)asprintf_safe(&s, "Get \"%s\": stopped after %d redirects", location->value,
                                    PROBE_MAX_REDIRECTS);
                set_outcome(o, PROBE_FAILURE, s);
                return -1;
        }
        previous = TAKE_PTR(c->url);
        c->url = strdup(target);
        if (!c->url) {
                set_outcome(o, PROBE_ERROR, strdup(strerror(ENOMEM)));
                return -1;
        }
        /* Go sends the previous URL as Referer, except from https to http */
        scheme = url_part(previous, CURLUPART_SCHEME);
        next_scheme = url_part(c->url, CURLUPART_SCHEME);
        referer = streq_ptr(scheme, "https") && streq_ptr(next_scheme, "http") ? NULL : previous;
        /* a manifest Host survives only relative redirects (Go issue 22233) */
        r = start_hop(c, c->headers_host && !is_absolute(location->value), referer);
        if (r == -ETIME) {
                (void)asprintf_safe(&s, "Get \"%s\": %s", c->url, TIMEOUT_AWAITING_HEADERS);
                set_outcome(o, PROBE_FAILURE, s);
                return -1;
        }
        if (r < 0) {
                set_outcome(o, PROBE_ERROR, strdup(strerror(-r)));
                return -1;
        }
        return 1;
}

static void response_outcome(HttpCall *c, long status, Outcome *o)
{
        char *s = NULL;

        if (status >= 200 && status < 300) {
                set_outcome(o, PROBE_SUCCESS, strdup(c->body));
                return;
        }
        if (status >= 300 && status < 400)
                (void)asprintf_safe(&s, "Probe terminated redirects, Response body: %s", c->body);
        else
                (void)asprintf_safe(&s, "HTTP probe failed with statuscode: %ld", status);
        set_outcome(o, status >= 300 && status < 400 ? PROBE_WARNING : PROBE_FAILURE, s);
}

static void finish(HttpCall *c, ProbeResult result, char *message)
{
        free(c->message);
        c->message = message;
        c->finishing = true;
        c->done(&(ProbeOutcome){.result = result, .message = c->message}, c->userdata);
        http_call_free(c);
}

/* The loop cleans easy up after this callback returns, when c may be gone: nothing of c may
 * stay referenced from it. */
static void release_easy(CURL *easy)
{
        (void)curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
        (void)curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
        (void)curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
        (void)curl_easy_setopt(easy, CURLOPT_HEADERDATA, NULL);
}

static void on_transfer_done(CurlLoop *l, CURL *easy, CURLcode result, void *userdata)
{
        HttpCall *c = userdata;
        Outcome o = {};
        long status = 0;

        c->easy = NULL;
        if (result == CURLE_WRITE_ERROR && c->truncated)
                result = CURLE_OK;
        if (result != CURLE_OK)
                transfer_error(c, easy, result, &o);
        else {
                (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
                switch (follow_redirect(c, easy, status, &o)) {
                case 1:
                        release_easy(easy);
                        return;
                case 0:
                        response_outcome(c, status, &o);
                        break;
                default:
                        break;
                }
        }
        release_easy(easy);
        finish(c, o.result, o.message);
}

static int on_deferred(sd_event_source *s, void *userdata)
{
        HttpCall *c = userdata;

        c->defer = sd_event_source_disable_unref(c->defer);
        finish(c, c->deferred, TAKE_PTR(c->message));
        return 0;
}

/* A run decided before any request is reported from the loop, later, like any other. */
static int start_deferred(HttpCall *c, ProbeResult result)
{
        sd_event *e = curl_loop_get_event(c->loop);

        if (!e)
                return -EINVAL;
        c->deferred = result;
        return sd_event_add_defer(e, &c->defer, on_deferred, c);
}

static void http_cancel(ProbeCall *pc)
{
        HttpCall *c = (HttpCall *)pc;

        if (c->finishing)
                return; /* freed when its done callback returns */
        curl_loop_cancel(c->loop, c->easy);
        http_call_free(c);
}

static char *format_url(const ProbeHandler *h)
{
        _cleanup_free_ char *hostport = join_host_port(h->host ?: "", h->port);
        const char *path = h->path ?: "/";

        if (!hostport)
                return NULL;
        return strjoin(h->scheme ?: "http", "://", hostport, path[0] == '/' ? "" : "/", path, NULL);
}

int probe_http_start(CurlLoop *l, const ProbeHandler *h, usec_t timeout, probe_done_t done, void *userdata,
                     ProbeCall **ret)
{
        _cleanup_(http_call_freep) HttpCall *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        if (!l || !h || !done || !ret)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->call.cancel = http_cancel;
        c->loop = l;
        c->done = done;
        c->userdata = userdata;
        c->deadline = timeout > 0 ? now_usec(CLOCK_MONOTONIC) + timeout : USEC_INFINITY;
        if (h->port_error) {
                /* the kubelet cannot build the request: an error, not a failure */
                c->message = strdup(h->port_error);
                if (!c->message)
                        return -ENOMEM;
                r = start_deferred(c, PROBE_ERROR);
                if (r < 0)
                        return r;
                *ret = &TAKE_PTR(c)->call;
                return 0;
        }
        c->url = format_url(h);
        if (!c->url)
                return -ENOMEM;
        c->hostname = url_part(c->url, CURLUPART_HOST);
        r = build_headers(c, h, &error);
        if (r == -EINVAL) {
                /* Go's transport refuses to send it: the client's error, a failure */
                if (asprintf_safe(&c->message, "Get \"%s\": %s", c->url, error) < 0)
                        return -ENOMEM;
                r = start_deferred(c, PROBE_FAILURE);
        } else if (r >= 0)
                r = start_hop(c, c->headers_host != NULL, NULL);
        if (r < 0)
                return r;
        *ret = &TAKE_PTR(c)->call;
        return 0;
}
