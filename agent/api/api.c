/* The API server: a unix socket served by libmicrohttpd in external-epoll mode, driven by
 * the agent's sd-event loop (MHD's epoll fd as an IO source plus a timer from
 * MHD_get_timeout), the peer credential check, request body collection up to
 * MANIFEST_MAX_BYTES, and counting of responses for /metrics. */
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "api-internal.h"
#include "json-util.h"
#include "log.h"
#include "util.h"

#define API_CONNECTION_LIMIT 64
#define API_CONNECTION_MEMORY_LIMIT (64 * 1024)
#define API_CONNECTION_TIMEOUT_SEC 120

const char *api_request_query(ApiRequest *req, const char *key)
{
        if (!req->conn)
                return NULL;
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

static void count_code(ApiServer *api, unsigned code)
{
        for (size_t i = 0; i < api->n_codes; i++)
                if (api->codes[i].code == code) {
                        api->codes[i].count++;
                        return;
                }
        if (api->n_codes < API_MAX_CODES)
                api->codes[api->n_codes++] = (ApiCodeCount){.code = code, .count = 1};
}

/* Prometheus text: the agent's metrics (hooks) followed by the API's own. */
int api_metrics_text(ApiServer *api, char **ret)
{
        _cleanup_free_ char *extra = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (api->hooks.metrics) {
                r = api->hooks.metrics(api->hooks.userdata, &extra);
                if (r < 0)
                        return r;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        if (extra) {
                fputs(extra, f);
                if (!endswith(extra, "\n") && *extra)
                        fputc('\n', f);
        }
        fputs("# HELP berth_api_requests_total API requests served, by HTTP status code.\n"
              "# TYPE berth_api_requests_total counter\n",
              f);
        for (size_t i = 0; i < api->n_codes; i++)
                fprintf(f, "berth_api_requests_total{code=\"%u\"} %llu\n", api->codes[i].code,
                        (unsigned long long)api->codes[i].count);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static bool pid_in_group(pid_t pid, gid_t gid)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[4096];

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof(line), f)) {
                char *p, *end;

                if (!startswith(line, "Groups:"))
                        continue;
                for (p = line + 7;; p = end) {
                        unsigned long g = strtoul(p, &end, 10);

                        if (end == p)
                                return false;
                        if ((gid_t)g == gid)
                                return true;
                }
        }
        return false;
}

/* 0 when the peer may talk to us, -EPERM with a Status reply otherwise. */
static int check_peer(ApiServer *api, struct MHD_Connection *conn, ApiResponse *resp)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int r;

        if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                r = api_reply_status(resp, MHD_HTTP_FORBIDDEN, "Forbidden", NULL,
                                     "forbidden: the peer's credentials cannot be read");
                return r < 0 ? r : -EPERM;
        }
        if (cred.uid == 0 || cred.gid == api->group_gid || pid_in_group(cred.pid, api->group_gid))
                return 0;
        r = api_reply_status(resp, MHD_HTTP_FORBIDDEN, "Forbidden", NULL,
                             "forbidden: peer uid %u is neither root nor in group %s", (unsigned)cred.uid,
                             api->group_name);
        return r < 0 ? r : -EPERM;
}

static enum MHD_Result send_response(ApiServer *api, struct MHD_Connection *conn, ApiResponse *resp)
{
        struct MHD_Response *m;
        enum MHD_Result ret;

        if (resp->code == 0)
                (void)api_reply_errno(resp, -EIO);
        m = MHD_create_response_from_buffer(resp->size, resp->body, MHD_RESPMEM_MUST_FREE);
        if (!m)
                return MHD_NO;
        resp->body = NULL; /* owned by the MHD response now */
        if (resp->content_type)
                MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
        for (size_t i = 0; i < resp->n_headers; i++)
                MHD_add_response_header(m, resp->headers[i].name, resp->headers[i].value);
        ret = MHD_queue_response(conn, resp->code, m);
        MHD_destroy_response(m);
        count_code(api, resp->code);
        log_debug("api: %u", resp->code);
        return ret;
}

/* The first call of a request: credentials and the announced body size. True when answered. */
static bool request_start(ApiServer *api, struct MHD_Connection *conn, ApiResponse *resp)
{
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int r;

        r = check_peer(api, conn, resp);
        if (r == -EPERM)
                return true;
        if (r < 0) {
                (void)api_reply_errno(resp, r);
                return true;
        }
        if (cl && strtoull(cl, NULL, 10) > MANIFEST_MAX_BYTES) {
                (void)api_reply_status(resp, MHD_HTTP_CONTENT_TOO_LARGE, "RequestEntityTooLarge", NULL,
                                       "Request entity too large: limit is %zu", MANIFEST_MAX_BYTES);
                return true;
        }
        return false;
}

static void request_append(ApiRequest *req, const char *data, size_t size)
{
        if (req->too_large || req->oom)
                return;
        if (req->body_size + size > MANIFEST_MAX_BYTES) {
                /* keep reading (and dropping) the body; 413 is sent once it has been consumed */
                req->too_large = true;
                free(req->body);
                req->body = NULL;
                req->body_size = req->body_allocated = 0;
                return;
        }
        if (req->body_size + size + 1 > req->body_allocated) {
                size_t n = MAX(req->body_allocated * 2, req->body_size + size + 1);
                char *b = realloc(req->body, n);

                if (!b) {
                        req->oom = true;
                        return;
                }
                req->body = b;
                req->body_allocated = n;
        }
        memcpy(req->body + req->body_size, data, size);
        req->body_size += size;
        req->body[req->body_size] = 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
        ApiServer *api = cls;
        ApiRequest *req = *con_cls;
        ApiResponse resp = {};
        enum MHD_Result ret;
        int r;

        if (!req) {
                req = calloc(1, sizeof(ApiRequest));
                if (!req)
                        return MHD_NO;
                *req = (ApiRequest){.api = api, .conn = conn, .method = method};
                *con_cls = req;
                if (!request_start(api, conn, &resp))
                        return MHD_YES;
                ret = send_response(api, conn, &resp);
                api_response_done(&resp);
                return ret;
        }
        if (*upload_data_size > 0) {
                request_append(req, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }

        if (req->oom)
                r = -ENOMEM;
        else if (req->too_large)
                r = api_reply_status(&resp, MHD_HTTP_CONTENT_TOO_LARGE, "RequestEntityTooLarge", NULL,
                                     "Request entity too large: limit is %zu", MANIFEST_MAX_BYTES);
        else
                r = api_routes_dispatch(req, url, &resp);
        if (r < 0) {
                log_debug_errno(r, "api: %s %s failed: %m", method, url);
                api_response_done(&resp);
                (void)api_reply_errno(&resp, r);
        }
        ret = send_response(api, conn, &resp);
        api_response_done(&resp);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        ApiRequest *req = *con_cls;

        if (!req)
                return;
        free(req->body);
        free(req);
        *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) >= 0)
                log_debug("api: libmicrohttpd: %s", msg);
}

static int resolve_group(ApiServer *api, const char *group)
{
        struct group *gr = group ? getgrnam(group) : NULL;

        api->group_gid = gr ? gr->gr_gid : 0;
        api->group_name = strdup(gr ? gr->gr_name : (group ?: "root"));
        if (!api->group_name)
                return -ENOMEM;
        if (group && !gr)
                log_warning("API socket group '%s' does not exist; only root may use the API.", group);
        return gr ? 1 : 0;
}

static int listen_unix(ApiServer *api, const char *path, bool have_group, int *ret_fd)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "API socket path '%s' is too long.", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create the API socket: %m");
        if (unlink(path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove stale API socket '%s': %m", path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return log_error_errno(errno, "Failed to bind the API socket '%s': %m", path);
        api->socket_path = strdup(path);
        if (!api->socket_path)
                return log_oom();
        if (chmod(path, 0660) < 0)
                return log_error_errno(errno, "Failed to chmod API socket '%s': %m", path);
        /* the owner is whoever created it (root for the agent); only the group changes */
        if (have_group && chown(path, (uid_t)-1, api->group_gid) < 0)
                return log_error_errno(errno, "Failed to give API socket '%s' to group %s: %m", path,
                                       api->group_name);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Failed to listen on API socket '%s': %m", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int start_daemon(ApiServer *api, int listen_fd)
{
        int r;

        api->mhd = MHD_start_daemon(
            MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, api, MHD_OPTION_LISTEN_SOCKET,
            listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api, MHD_OPTION_EXTERNAL_LOGGER,
            on_mhd_log, api, MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTION_LIMIT,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONNECTION_MEMORY_LIMIT,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONNECTION_TIMEOUT_SEC, MHD_OPTION_END);
        if (!api->mhd) {
                safe_close(listen_fd);
                return log_error_errno(EIO, "Failed to start the API's HTTP server.");
        }
        r = mhd_loop_attach(api->event, api->mhd, "api-http", &api->loop);
        if (r < 0)
                return log_error_errno(r, "Failed to run the API's HTTP server on the loop: %m");
        return 0;
}

int api_server_metrics_text(ApiServer *api, char **ret)
{
        return api_metrics_text(api, ret);
}

int api_admit(ApiServer *api, const cJSON *obj, FieldErrors *errs)
{
        if (!api->hooks.admit)
                return 0;
        return api->hooks.admit(api->hooks.userdata, obj, errs);
}

int api_server_new(ApiServer **ret, sd_event *e, Store *store, const ApiOptions *opts, const ApiHooks *hooks)
{
        _cleanup_(api_server_freep) ApiServer *api = NULL;
        int fd = -EBADF, r, have_group;

        if (!ret || !e || !store || !opts || (opts->listen_fd < 0 && isempty(opts->socket_path)))
                return -EINVAL;
        api = calloc(1, sizeof(ApiServer));
        if (!api)
                return log_oom();
        api->event = sd_event_ref(e);
        api->store = store;
        if (hooks)
                api->hooks = *hooks;
        api->log_dir = strdup(opts->log_dir ?: "/var/log/pods");
        api->node_name = strdup(opts->node_name ?: "localhost");
        if (!api->log_dir || !api->node_name)
                return log_oom();
        have_group = resolve_group(api, opts->socket_group);
        if (have_group < 0)
                return log_oom();

        if (opts->listen_fd >= 0) {
                /* MHD closes its listen socket when stopped: give it a copy, the caller keeps its fd */
                fd = fcntl(opts->listen_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return log_error_errno(errno, "Failed to duplicate the API listen socket: %m");
                if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                        safe_close(fd);
                        return log_error_errno(errno,
                                               "Failed to make the API listen socket non-blocking: %m");
                }
        } else {
                r = listen_unix(api, opts->socket_path, have_group > 0, &fd);
                if (r < 0)
                        return r;
        }
        r = start_daemon(api, fd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(api);
        return 0;
}

ApiServer *api_server_free(ApiServer *api)
{
        if (!api)
                return NULL;
        mhd_loop_free(api->loop);
        if (api->mhd)
                MHD_stop_daemon(api->mhd);
        if (api->socket_path)
                (void)unlink(api->socket_path);
        free(api->socket_path);
        free(api->log_dir);
        free(api->node_name);
        free(api->group_name);
        sd_event_unref(api->event);
        free(api);
        return NULL;
}
