/* The handler reader: a probe's or lifecycle hook's handler object of a pod manifest,
 * resolved against its container the way the kubelet's prober and lifecycle runner resolve
 * it (named ports, $(VAR) in exec commands, the pod IP as the default host, the request
 * path of formatURL), and kubectl describe's one-line words for a probe. */
#include <stdint.h>
#include <string.h>

#include "json-util.h"
#include "probe.h"

static const char hex_digits[] = "0123456789ABCDEF";

/* A member that is present and not null (Go's non-nil pointer), else NULL. */
static const cJSON *member(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

        return cJSON_IsNull(v) ? NULL : v;
}

static const char *member_str(const cJSON *o, const char *key)
{
        const cJSON *v = member(o, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON number as Go would hold it in an integer field; out-of-range values clamp. */
static int64_t number_value(const cJSON *v)
{
        if (!cJSON_IsNumber(v))
                return 0;
        if (v->valuedouble >= 9.2e18 || v->valuedouble <= -9.2e18)
                return v->valuedouble > 0 ? INT64_MAX : INT64_MIN;
        return (int64_t)v->valuedouble;
}

static int64_t member_int(const cJSON *o, const char *key)
{
        return number_value(member(o, key));
}

static void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

void probe_handler_done(ProbeHandler *h)
{
        if (!h)
                return;
        strv_free(h->command);
        free(h->scheme);
        free(h->host);
        free(h->port_error);
        free(h->path);
        for (size_t i = 0; i < h->n_headers; i++) {
                free(h->headers[i].name);
                free(h->headers[i].value);
        }
        free(h->headers);
        free(h->service);
        *h = (ProbeHandler){};
}

/* --- exec --- */

/* The kubelet's V1EnvVarsToMap: every env entry maps its name to its literal value, so a
 * valueFrom variable expands to "" and values are not expanded themselves. */
static int static_env(const cJSON *container, char ***ret, size_t *ret_n)
{
        const cJSON *env = member(container, "env"), *e;
        char **v = NULL;
        size_t n = 0;

        cJSON_ArrayForEach (e, (cJSON_IsArray(env) ? env : NULL)) {
                const char *name = member_str(e, "name"), *value = member_str(e, "value");
                _cleanup_free_ char *kv = NULL;

                if (!name)
                        continue;
                kv = strjoin(name, "=", value ?: "", NULL);
                if (!kv || strv_push_copy(&v, &n, kv) < 0) {
                        for (size_t i = 0; i < n; i++)
                                free(v[i]);
                        free(v);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int read_exec(const cJSON *exec, const cJSON *container, ProbeHandler *h, char **ret_error)
{
        const cJSON *command = member(exec, "command"), *c;
        char **env = NULL;
        size_t n_env = 0, n = 0, i = 0;
        int r;

        if (command && !cJSON_IsArray(command))
                return asprintf_safe(ret_error, "exec.command must be a list of strings") < 0 ? -ENOMEM
                                                                                              : -EINVAL;
        h->command = calloc((size_t)cJSON_GetArraySize(command) + 1, sizeof(char *));
        if (!h->command)
                return -ENOMEM;
        cJSON_ArrayForEach (c, command) {
                if (!cJSON_IsString(c))
                        return asprintf_safe(ret_error, "exec.command[%zu] must be a string", n) < 0
                                   ? -ENOMEM
                                   : -EINVAL;
                n++;
        }
        r = static_env(container, &env, &n_env);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (c, command) {
                h->command[i] = expand_vars(c->valuestring, env, n_env);
                if (!h->command[i++]) {
                        r = -ENOMEM;
                        break;
                }
        }
        for (size_t k = 0; k < n_env; k++)
                free(env[k]);
        free(env);
        return r;
}

/* --- ports --- */

/* probe.ResolveContainerPort: a number, or the name of one of THIS container's ports
 * (findPortByName); anything else leaves the handler with an error to report per run. */
static int resolve_port(const cJSON *port, const cJSON *container, ProbeHandler *h)
{
        const cJSON *ports = member(container, "ports"), *p;
        int64_t number = 0;

        if (cJSON_IsString(port)) {
                bool found = false;

                cJSON_ArrayForEach (p, (cJSON_IsArray(ports) ? ports : NULL)) {
                        const char *name = member_str(p, "name");

                        if (name && streq(name, port->valuestring)) {
                                number = member_int(p, "containerPort");
                                found = true;
                                break;
                        }
                }
                if (!found)
                        return asprintf_safe(&h->port_error, "port \"%s\" not found", port->valuestring) < 0
                                   ? -ENOMEM
                                   : 0;
        } else
                number = number_value(port);
        if (number <= 0 || number >= 65536)
                return asprintf_safe(&h->port_error, "invalid port number: %lld", (long long)number) < 0
                           ? -ENOMEM
                           : 0;
        h->port = (int)number;
        return 0;
}

static int read_host(const cJSON *action, const char *pod_ip, ProbeHandler *h)
{
        const char *host = member_str(action, "host");

        h->host = strdup(!isempty(host) ? host : pod_ip ?: "");
        return h->host ? 0 : -ENOMEM;
}

/* --- httpGet: the request path --- */

static bool is_alnum(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The bytes Go's net/url leaves unescaped (!shouldEscape) in a path (encodePath) and in a
 * host (encodeHost). */
static bool keep_in_path(unsigned char c)
{
        return c && (is_alnum(c) || strchr("-_.~$&+,/:;=@", c));
}

static bool keep_in_host(unsigned char c)
{
        return c && (is_alnum(c) || strchr("-_.~!$&'()*+,;=:[]<>\"", c));
}

/* Go's validEncoded(s, encodePath): s may be sent as it is. */
static bool valid_encoded_path(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!keep_in_path((unsigned char)s[i]) && !strchr("!'()*[]%", s[i]))
                        return false;
        return true;
}

/* Go's unescape(s, encodePath) validity: every '%' starts a two-digit hex escape. */
static bool valid_escapes(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] == '%' &&
                    (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2])))
                        return false;
        return true;
}

static int hex_value(char c)
{
        return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Writes s (n bytes) as Go's escape() does; unescape first decodes %XX escapes. */
static void write_escaped(FILE *f, const char *s, size_t n, bool unescape, bool (*keep)(unsigned char))
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                /* callers unescape only what valid_escapes() accepted */
                if (unescape && c == '%' && i + 2 < n) {
                        c = (unsigned char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
                        i += 2;
                }
                if (keep(c))
                        fputc(c, f);
                else
                        fprintf(f, "%%%c%c", hex_digits[c >> 4], hex_digits[c & 15]);
        }
}

static bool has_control_byte(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* What the kubelet's formatURL + url.String() + RequestURI make of httpGet.path for an
 * ordinary path: "/" when empty, a leading "/" added, the query kept, the fragment (never
 * sent) dropped, and bytes a URL may not carry %-escaped; a path url.Parse rejects is
 * escaped whole, '?' and '%' included. */
static int request_path(const char *path, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, n, fragment = strcspn(path, "#");
        const char *query;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        query = memchr(path, '?', fragment);
        n = query ? (size_t)(query - path) : fragment;
        if (path[0] != '/')
                fputc('/', f);
        if (has_control_byte(path) || !valid_escapes(path, n) ||
            (path[fragment] && !valid_escapes(path + fragment + 1, strlen(path + fragment + 1))))
                write_escaped(f, path, strlen(path), false, keep_in_path);
        else {
                if (valid_encoded_path(path, n))
                        fwrite(path, 1, n, f);
                else
                        write_escaped(f, path, n, true, keep_in_path);
                if (query)
                        fwrite(query, 1, (size_t)(path + fragment - query), f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* --- httpGet: headers --- */

static bool is_token_byte(unsigned char c)
{
        return c && (is_alnum(c) || strchr("!#$%&'*+-.^_`|~", c));
}

/* net/textproto.CanonicalMIMEHeaderKey, as http.Header.Add applies it: "x-custom" is sent
 * as "X-Custom"; a name with a byte outside the token set is left alone. */
static void canonical_header_name(char *s)
{
        bool upper = true;

        for (char *p = s; *p; p++)
                if (!is_token_byte((unsigned char)*p))
                        return;
        for (char *p = s; *p; p++) {
                if (upper && *p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
                else if (!upper && *p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
                upper = *p == '-';
        }
}

static int read_headers(const cJSON *headers, ProbeHandler *h)
{
        const cJSON *e;

        if (!cJSON_IsArray(headers) || cJSON_GetArraySize(headers) == 0)
                return 0;
        h->headers = calloc((size_t)cJSON_GetArraySize(headers), sizeof(ProbeHeader));
        if (!h->headers)
                return -ENOMEM;
        cJSON_ArrayForEach (e, headers) {
                ProbeHeader *hd = &h->headers[h->n_headers++];

                hd->name = strdup(member_str(e, "name") ?: "");
                hd->value = strdup(member_str(e, "value") ?: "");
                if (!hd->name || !hd->value)
                        return -ENOMEM;
                canonical_header_name(hd->name);
        }
        return 0;
}

static int read_http_get(const cJSON *http, const cJSON *container, const char *pod_ip, ProbeHandler *h)
{
        const char *scheme = member_str(http, "scheme");
        int r;

        h->scheme = strdup(!isempty(scheme) ? scheme : "http");
        if (!h->scheme)
                return -ENOMEM;
        for (char *p = h->scheme; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        r = read_host(http, pod_ip, h);
        if (r >= 0)
                r = resolve_port(member(http, "port"), container, h);
        if (r >= 0)
                r = request_path(member_str(http, "path") ?: "", &h->path);
        if (r >= 0)
                r = read_headers(member(http, "httpHeaders"), h);
        return r;
}

/* --- the handler --- */

static int read_grpc(const cJSON *grpc, const char *pod_ip, ProbeHandler *h)
{
        const cJSON *port = member(grpc, "port");
        const char *service = member_str(grpc, "service");

        /* GRPCAction.port is a plain number: a string is no port name */
        h->host = strdup(pod_ip ?: "");
        if (!h->host)
                return -ENOMEM;
        if (!isempty(service)) {
                h->service = strdup(service);
                if (!h->service)
                        return -ENOMEM;
        }
        return resolve_port(cJSON_IsNumber(port) ? port : NULL, NULL, h);
}

int probe_handler_from_json(const cJSON *handler, const cJSON *container, const char *pod_ip,
                            ProbeHandler *ret, char **ret_error)
{
        _cleanup_(probe_handler_done) ProbeHandler h = {};
        _cleanup_free_ char *error = NULL;
        const cJSON *a;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if ((a = member(handler, "exec"))) {
                h.action = PROBE_ACTION_EXEC;
                r = read_exec(a, container, &h, &error);
        } else if ((a = member(handler, "httpGet"))) {
                h.action = PROBE_ACTION_HTTP_GET;
                r = read_http_get(a, container, pod_ip, &h);
        } else if ((a = member(handler, "tcpSocket"))) {
                h.action = PROBE_ACTION_TCP_SOCKET;
                r = read_host(a, pod_ip, &h);
                if (r >= 0)
                        r = resolve_port(member(a, "port"), container, &h);
        } else if ((a = member(handler, "grpc"))) {
                h.action = PROBE_ACTION_GRPC;
                r = read_grpc(a, pod_ip, &h);
        } else if ((a = member(handler, "sleep"))) {
                h.action = PROBE_ACTION_SLEEP;
                h.sleep_seconds = member_int(a, "seconds");
                r = 0;
        } else
                r = asprintf_safe(&error,
                                  "missing handler for container \"%s\": one of exec, httpGet, "
                                  "tcpSocket, grpc or sleep must be set",
                                  member_str(container, "name") ?: "") < 0
                        ? -ENOMEM
                        : -EINVAL;
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        *ret = h;
        h = (ProbeHandler){};
        return 0;
}

/* --- kubectl describe --- */

/* intstr.IntOrString.String(): a number, a name, or "0" for the zero value. */
static int port_string(const cJSON *port, char **ret)
{
        if (cJSON_IsString(port))
                *ret = strdup(port->valuestring);
        else if (asprintf_safe(ret, "%lld", (long long)number_value(port)) < 0)
                return -ENOMEM;
        return *ret ? 0 : -ENOMEM;
}

/* url.URL{Scheme, Host, Path}.String() with Host = net.JoinHostPort(host, port) (or host
 * alone for an empty port): IPv6 hosts are bracketed. */
static int write_http_url(FILE *f, const cJSON *http)
{
        const char *scheme = member_str(http, "scheme") ?: "", *host = member_str(http, "host") ?: "",
                   *path = member_str(http, "path") ?: "";
        _cleanup_free_ char *port = NULL, *hostport = NULL, *escaped = NULL;
        size_t size = 0;
        FILE *pf;

        if (port_string(member(http, "port"), &port) < 0)
                return -ENOMEM;
        if (isempty(port))
                hostport = strdup(host);
        else if (strchr(host, ':'))
                hostport = strjoin("[", host, "]:", port, NULL);
        else
                hostport = strjoin(host, ":", port, NULL);
        pf = open_memstream(&escaped, &size);
        if (!hostport || !pf) {
                if (pf)
                        fclose(pf);
                return -ENOMEM;
        }
        /* EscapedPath(): "*" stays, anything else is escaped as a path */
        if (streq(path, "*"))
                fputs(path, pf);
        else
                write_escaped(pf, path, strlen(path), false, keep_in_path);
        if (fclose(pf) != 0)
                return -ENOMEM;
        for (const char *p = scheme; *p; p++)
                fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p, f);
        if (scheme[0])
                fputc(':', f);
        if ((scheme[0] || hostport[0]) && (hostport[0] || escaped[0]))
                fputs("//", f);
        write_escaped(f, hostport, strlen(hostport), false, keep_in_host);
        if (escaped[0] && escaped[0] != '/' && hostport[0])
                fputc('/', f);
        else if (!scheme[0] && !hostport[0] && strchr(escaped, ':') &&
                 strchr(escaped, ':') < (strchr(escaped, '/') ?: escaped + strlen(escaped)))
                fputs("./", f); /* a colon in the first segment would read as a scheme */
        fputs(escaped, f);
        return 0;
}

char *probe_describe(const cJSON *probe)
{
        _cleanup_free_ char *buf = NULL, *port = NULL;
        const cJSON *a, *c;
        size_t size = 0;
        int r = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        if ((a = member(probe, "exec"))) {
                bool first = true;

                fputs("exec [", f);
                cJSON_ArrayForEach (c, (cJSON_IsArray(member(a, "command")) ? member(a, "command") : NULL)) {
                        fprintf(f, "%s%s", first ? "" : " ", cJSON_IsString(c) ? c->valuestring : "");
                        first = false;
                }
                fputs("]", f);
        } else if ((a = member(probe, "httpGet"))) {
                fputs("http-get ", f);
                r = write_http_url(f, a);
        } else if ((a = member(probe, "tcpSocket"))) {
                /* no JoinHostPort here: kubectl prints host:port as they are */
                r = port_string(member(a, "port"), &port);
                if (r >= 0)
                        fprintf(f, "tcp-socket %s:%s", member_str(a, "host") ?: "", port);
        } else if ((a = member(probe, "grpc")))
                fprintf(f, "grpc <pod>:%lld %s", (long long)member_int(a, "port"),
                        member_str(a, "service") ?: "");
        else
                fputs("unknown", f);
        fprintf(f, " delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld",
                (long long)member_int(probe, "initialDelaySeconds"),
                (long long)member_int(probe, "timeoutSeconds"),
                (long long)member_int(probe, "periodSeconds"),
                (long long)member_int(probe, "successThreshold"),
                (long long)member_int(probe, "failureThreshold"));
        if (fclose(f) != 0 || r < 0)
                return NULL;
        return TAKE_PTR(buf);
}
