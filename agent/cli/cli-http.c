/* HTTP to the agent's API over its unix socket with libcurl easy (blocking is fine in a
 * CLI): one request at a time, status + body + the headers the CLI cares about (Warning,
 * X-Berth-Log-Offset), and kubectl's wording for unreachable agents and Status errors. */
#include <curl/curl.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

struct CliHttp {
        CURL *curl;
        char *socket_path;
};

int cli_http_new(CliHttp **ret, const char *socket_path)
{
        CliHttp *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        h->socket_path = strdup(socket_path);
        h->curl = curl_easy_init();
        if (!h->socket_path || !h->curl) {
                cli_http_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

CliHttp *cli_http_free(CliHttp *h)
{
        if (!h)
                return NULL;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->socket_path);
        free(h);
        return NULL;
}

void cli_response_done(CliResponse *r)
{
        free(r->body);
        free(r->log_offset);
        for (size_t i = 0; i < r->n_warnings; i++)
                free(r->warnings[i]);
        free(r->warnings);
        *r = (CliResponse){};
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        CliResponse *r = userdata;
        size_t n = size * nmemb;
        char *b;

        if (r->size + n > MANIFEST_MAX_BYTES * 16)
                return 0;
        b = realloc(r->body, r->size + n + 1);
        if (!b)
                return 0;
        memcpy(b + r->size, data, n);
        r->body = b;
        r->size += n;
        r->body[r->size] = 0;
        return n;
}

/* The text of a Warning header value: `299 - "text with \"quotes\""` -> the unquoted text. */
static char *warning_text(const char *v)
{
        const char *q = strchr(v, '"');
        size_t len;
        char *s, *o;

        if (!q)
                return strdup(v);
        q++;
        len = strlen(q);
        if (len > 0 && q[len - 1] == '"')
                len--;
        s = strndup(q, len);
        if (!s)
                return NULL;
        o = s;
        for (const char *p = s; *p; p++) {
                if (*p == '\\' && p[1])
                        p++;
                *o++ = *p;
        }
        *o = 0;
        return s;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        CliResponse *r = userdata;
        size_t n = size * nmemb, len = n;
        _cleanup_free_ char *line = NULL;

        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                len--;
        line = strndup(data, len);
        if (!line)
                return 0;
        if (strncasecmp(line, "Warning:", 8) == 0) {
                char **w = reallocarray(r->warnings, r->n_warnings + 1, sizeof(char *));
                if (!w)
                        return 0;
                r->warnings = w;
                w[r->n_warnings] = warning_text(line + 8 + strspn(line + 8, " "));
                if (w[r->n_warnings])
                        r->n_warnings++;
        } else if (strncasecmp(line, "X-Berth-Log-Offset:", 19) == 0) {
                free(r->log_offset);
                r->log_offset = strdup(line + 19 + strspn(line + 19, " "));
        }
        return n;
}

static void report_unreachable(CliHttp *h, CURLcode code)
{
        long os_errno = 0;

        curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
        fprintf(stderr, "error: cannot reach the berth agent at %s: %s\n", h->socket_path,
                os_errno > 0 ? strerror((int)os_errno) : curl_easy_strerror(code));
}

int cli_http_request(CliHttp *h, const char *method, const char *path, const char *body, CliResponse *ret)
{
        _cleanup_free_ char *url = strjoin("http://localhost", path, NULL);
        struct curl_slist *hdrs = NULL;
        CURLcode code;

        *ret = (CliResponse){};
        if (!url)
                return -ENOMEM;
        curl_easy_reset(h->curl);
        curl_easy_setopt(h->curl, CURLOPT_UNIX_SOCKET_PATH, h->socket_path);
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, ret);
        curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, ret);
        curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
        hdrs = curl_slist_append(hdrs, "Accept: application/json");
        if (body) {
                hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
                curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
        code = curl_easy_perform(h->curl);
        curl_slist_free_all(hdrs);
        if (code != CURLE_OK) {
                report_unreachable(h, code);
                cli_response_done(ret);
                return code == CURLE_OUT_OF_MEMORY ? -ENOMEM : -ECONNREFUSED;
        }
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &ret->status);
        for (size_t i = 0; i < ret->n_warnings; i++)
                fprintf(stderr, "Warning: %s\n", ret->warnings[i]);
        return 0;
}

cJSON *cli_response_json(const CliResponse *r)
{
        if (!r->body)
                return NULL;
        return cJSON_ParseWithLength(r->body, r->size);
}

char *cli_http_error_message(const CliResponse *r)
{
        _cleanup_json_ cJSON *j = cli_response_json(r);
        const char *reason = json_str(j, "reason"), *msg = json_str(j, "message");
        char *s = NULL;

        if (j && msg && !isempty(reason))
                asprintf_safe(&s, "Error from server (%s): %s", reason, msg);
        else if (j && msg)
                asprintf_safe(&s, "Error from server: %s", msg);
        else if (r->body && r->size > 0)
                asprintf_safe(&s, "error: the server responded with status %ld: %.*s", r->status,
                              (int)strcspn(r->body, "\n"), r->body);
        else
                asprintf_safe(&s, "error: the server responded with status %ld", r->status);
        return s;
}

int cli_report_response(const CliResponse *r)
{
        _cleanup_free_ char *m = cli_http_error_message(r);

        fprintf(stderr, "%s\n", m ? m : "error: out of memory");
        return 1;
}

int cli_http_get_json(CliHttp *h, const char *path, cJSON **ret, CliResponse *ret_resp)
{
        CliResponse r;
        int k = cli_http_request(h, "GET", path, NULL, &r);

        if (k < 0)
                return k;
        if (r.status < 200 || r.status >= 300) {
                long status = r.status;
                if (ret_resp)
                        *ret_resp = r;
                else
                        cli_response_done(&r);
                return (int)status;
        }
        *ret = cli_response_json(&r);
        cli_response_done(&r);
        if (!*ret) {
                fprintf(stderr, "error: the server returned malformed JSON for %s\n", path);
                return -EBADMSG;
        }
        if (ret_resp)
                *ret_resp = (CliResponse){};
        return 0;
}

int cli_http_list(CliHttp *h, const KindInfo *k, const char *ns, const char *selector, cJSON **ret_items)
{
        _cleanup_free_ char *path = cli_http_path(k, ns, NULL), *esc = NULL, *full = NULL;
        _cleanup_json_ cJSON *list = NULL;
        CliResponse resp = {};
        int r;

        if (!path)
                return -ENOMEM;
        if (!isempty(selector)) {
                esc = cli_http_escape(selector);
                full = esc ? strjoin(path, "?labelSelector=", esc, NULL) : NULL;
                if (!full)
                        return -ENOMEM;
        }
        r = cli_http_get_json(h, full ? full : path, &list, &resp);
        if (r > 0) {
                cli_report_response(&resp);
                cli_response_done(&resp);
        }
        if (r != 0)
                return r;
        *ret_items = cJSON_DetachItemFromObject(list, "items");
        if (!*ret_items)
                *ret_items = cJSON_CreateArray();
        return *ret_items ? 0 : -ENOMEM;
}

char *cli_http_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *p = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-._~", c))
                        *p++ = (char)c;
                else {
                        *p++ = '%';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 15];
                }
        }
        *p = 0;
        return out;
}

char *cli_http_path(const KindInfo *k, const char *ns, const char *name)
{
        _cleanup_free_ char *base = NULL;
        char *s = NULL;

        if (isempty(k->group))
                base = strdup("/api/v1");
        else
                base = strjoin("/apis/", k->api_version, NULL);
        if (!base)
                return NULL;
        if (k->namespaced && ns)
                asprintf_safe(&s, "%s/namespaces/%s/%s%s%s", base, ns, k->plural, name ? "/" : "",
                              name ? name : "");
        else
                asprintf_safe(&s, "%s/%s%s%s", base, k->plural, name ? "/" : "", name ? name : "");
        return s;
}
