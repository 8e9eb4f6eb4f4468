/* The runtime interface: backend dispatch, RuntimeContainer helpers, the kubelet's log
 * path layout and the CRI log reader (P/F joining, timestamps, tail, offsets). */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime-cri.h"
#include "runtime-host.h"
#include "runtime-systemd.h"

/* The systemd backend rides behind the common layout of runtime-host.h: a Runtime of type
 * RUNTIME_SYSTEMD is the first member of this. */
typedef struct RuntimeWithSystemd {
        Runtime rt;
        RuntimeSystemd *systemd;
} RuntimeWithSystemd;

static RuntimeSystemd *systemd_of(Runtime *rt)
{
        return rt->type == RUNTIME_SYSTEMD ? ((RuntimeWithSystemd *)rt)->systemd : NULL;
}

/* Likewise for the cri backend. */
typedef struct RuntimeWithCri {
        Runtime rt;
        RuntimeCri *cri;
} RuntimeWithCri;

static RuntimeCri *cri_of(Runtime *rt)
{
        return rt->type == RUNTIME_CRI ? ((RuntimeWithCri *)rt)->cri : NULL;
}

#define RUNTIME_LOG_READ_MAX ((size_t)256 * 1024 * 1024)

void runtime_container_done(RuntimeContainer *c)
{
        if (!c)
                return;
        free(c->id);
        free(c->pod_uid);
        free(c->pod_name);
        free(c->pod_namespace);
        free(c->container_name);
        free(c->image);
        free(c->reason);
        free(c->message);
        free(c->log_path);
        free(c->runtime_id);
        free(c->image_id);
        free(c->pod_ip);
        *c = (RuntimeContainer){0};
}

void runtime_container_array_free(RuntimeContainer *c, size_t n)
{
        if (!c)
                return;
        for (size_t i = 0; i < n; i++)
                runtime_container_done(&c[i]);
        free(c);
}

static int dup_str(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int runtime_container_copy(const RuntimeContainer *src, RuntimeContainer *dst)
{
        *dst = *src;
        dst->id = dst->pod_uid = dst->pod_name = dst->pod_namespace = NULL;
        dst->container_name = dst->image = dst->reason = dst->message = dst->log_path = NULL;
        dst->runtime_id = dst->image_id = dst->pod_ip = NULL;
        if (dup_str(src->id, &dst->id) < 0 || dup_str(src->pod_uid, &dst->pod_uid) < 0 ||
            dup_str(src->pod_name, &dst->pod_name) < 0 ||
            dup_str(src->pod_namespace, &dst->pod_namespace) < 0 ||
            dup_str(src->container_name, &dst->container_name) < 0 || dup_str(src->image, &dst->image) < 0 ||
            dup_str(src->reason, &dst->reason) < 0 || dup_str(src->message, &dst->message) < 0 ||
            dup_str(src->log_path, &dst->log_path) < 0 || dup_str(src->runtime_id, &dst->runtime_id) < 0 ||
            dup_str(src->image_id, &dst->image_id) < 0 || dup_str(src->pod_ip, &dst->pod_ip) < 0) {
                runtime_container_done(dst);
                return -ENOMEM;
        }
        return 0;
}

bool runtime_has_images(Runtime *rt)
{
        return rt && rt->type == RUNTIME_CRI;
}

const char *runtime_id_scheme(Runtime *rt)
{
        if (rt && rt->type == RUNTIME_SYSTEMD)
                return "systemd";
        if (rt && rt->type == RUNTIME_CRI)
                return runtime_cri_scheme(cri_of(rt));
        return "host";
}

int runtime_container_list_copy(size_t n, const RuntimeContainer *(*get)(void *userdata, size_t i),
                                void *userdata, RuntimeContainer **ret, size_t *ret_n)
{
        RuntimeContainer *l = calloc(n + 1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = runtime_container_copy(get(userdata, i), &l[i]);
                if (r < 0) {
                        runtime_container_array_free(l, i);
                        return r;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static int runtime_systemd_wrap(Runtime **ret, sd_event *e, const RuntimeOptions *opts)
{
        RuntimeWithSystemd *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->rt.type = RUNTIME_SYSTEMD;
        r = runtime_systemd_new(&w->systemd, &w->rt, e, opts);
        if (r < 0) {
                free(w);
                return r;
        }
        *ret = &w->rt;
        return 0;
}

static int runtime_cri_wrap(Runtime **ret, sd_event *e, const RuntimeOptions *opts)
{
        RuntimeWithCri *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->rt.type = RUNTIME_CRI;
        r = runtime_cri_new(&w->cri, &w->rt, e, opts);
        if (r < 0) {
                free(w);
                return r;
        }
        *ret = &w->rt;
        return 0;
}

void runtime_set_call_observer(Runtime *rt, runtime_call_observer_t cb, void *userdata)
{
        if (rt && rt->type == RUNTIME_CRI)
                runtime_cri_set_observer(cri_of(rt), cb, userdata);
}

int runtime_new(Runtime **ret, sd_event *e, const RuntimeOptions *opts)
{
        Runtime *rt;
        int r;

        if (!ret || !e || !opts)
                return -EINVAL;
        if (opts->type == RUNTIME_CRI)
                return runtime_cri_wrap(ret, e, opts);
        if (opts->type == RUNTIME_SYSTEMD)
                return runtime_systemd_wrap(ret, e, opts);
        if (opts->type != RUNTIME_HOST)
                return -EINVAL;
        rt = calloc(1, sizeof(*rt));
        if (!rt)
                return -ENOMEM;
        rt->type = opts->type;
        r = runtime_host_new(&rt->host, rt, e, opts);
        if (r < 0) {
                free(rt);
                return r;
        }
        *ret = rt;
        return 0;
}

Runtime *runtime_free(Runtime *rt)
{
        if (!rt)
                return NULL;
        if (rt->type == RUNTIME_SYSTEMD)
                runtime_systemd_free(systemd_of(rt));
        else if (rt->type == RUNTIME_CRI)
                runtime_cri_free(cri_of(rt));
        else
                runtime_host_free(rt->host);
        free(rt);
        return NULL;
}

void runtime_set_on_exit(Runtime *rt, runtime_on_exit_t cb, void *userdata)
{
        rt->on_exit = cb;
        rt->userdata = userdata;
}

void runtime_set_on_start(Runtime *rt, runtime_on_exit_t cb, void *userdata)
{
        rt->on_start = cb;
        rt->start_userdata = userdata;
}

int runtime_start_container(Runtime *rt, const RuntimeContainerConfig *cfg, char **ret_id)
{
        if (!rt || !cfg || !ret_id)
                return -EINVAL;
        if (rt->type == RUNTIME_CRI)
                return runtime_cri_start(cri_of(rt), cfg, ret_id);
        if (rt->type == RUNTIME_SYSTEMD)
                return runtime_systemd_start(systemd_of(rt), cfg, ret_id);
        return runtime_host_start(rt->host, cfg, ret_id);
}

int runtime_stop_container(Runtime *rt, const char *id, usec_t grace)
{
        if (!rt || !id)
                return -EINVAL;
        if (rt->type == RUNTIME_CRI)
                return runtime_cri_stop(cri_of(rt), id, grace);
        if (rt->type == RUNTIME_SYSTEMD)
                return runtime_systemd_stop(systemd_of(rt), id, grace);
        return runtime_host_stop(rt->host, id, grace);
}

int runtime_remove_container(Runtime *rt, const char *id)
{
        if (!rt || !id)
                return -EINVAL;
        if (rt->type == RUNTIME_CRI)
                return runtime_cri_remove(cri_of(rt), id);
        if (rt->type == RUNTIME_SYSTEMD)
                return runtime_systemd_remove(systemd_of(rt), id);
        return runtime_host_remove(rt->host, id);
}

void runtime_release_pod(Runtime *rt, const char *pod_uid)
{
        if (rt && pod_uid && rt->type == RUNTIME_CRI)
                runtime_cri_release_pod(cri_of(rt), pod_uid);
}

int runtime_container_status(Runtime *rt, const char *id, RuntimeContainer *ret)
{
        if (!rt || !id || !ret)
                return -EINVAL;
        if (rt->type == RUNTIME_CRI)
                return runtime_cri_status(cri_of(rt), id, ret);
        if (rt->type == RUNTIME_SYSTEMD)
                return runtime_systemd_status(systemd_of(rt), id, ret);
        return runtime_host_status(rt->host, id, ret);
}

int runtime_list_containers(Runtime *rt, RuntimeContainer **ret, size_t *ret_n)
{
        if (!rt || !ret || !ret_n)
                return -EINVAL;
        if (rt->type == RUNTIME_CRI)
                return runtime_cri_list(cri_of(rt), ret, ret_n);
        if (rt->type == RUNTIME_SYSTEMD)
                return runtime_systemd_list(systemd_of(rt), ret, ret_n);
        return runtime_host_list(rt->host, ret, ret_n);
}

int runtime_exec(Runtime *rt, const char *id, char *const *argv, usec_t timeout, size_t max_output,
                 runtime_exec_done_t done, void *userdata, RuntimeExec **ret)
{
        if (!rt || !id || !argv || isempty(argv[0]) || !done)
                return -EINVAL;
        if (rt->type == RUNTIME_CRI)
                return runtime_cri_exec(cri_of(rt), id, argv, timeout, max_output, done, userdata, ret);
        if (rt->type == RUNTIME_SYSTEMD)
                return runtime_systemd_exec(systemd_of(rt), id, argv, timeout, max_output, done, userdata,
                                            ret);
        return runtime_host_exec(rt->host, id, argv, timeout, max_output, done, userdata, ret);
}

void runtime_exec_cancel(RuntimeExec *x)
{
        /* every backend's exec begins with its RuntimeType */
        if (x && *(const RuntimeType *)(const void *)x == RUNTIME_CRI)
                runtime_cri_exec_cancel(x);
        else
                host_exec_cancel(x);
}

static bool path_component_ok(const char *s)
{
        return !isempty(s) && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

int runtime_log_path(const char *log_dir, const char *ns, const char *pod, const char *uid,
                     const char *container, unsigned attempt, char **ret)
{
        if (isempty(log_dir) || !path_component_ok(ns) || !path_component_ok(pod) ||
            !path_component_ok(uid) || !path_component_ok(container) || !ret)
                return -EINVAL;
        int r = asprintf_safe(ret, "%s/%s_%s_%s/%s/%u.log", log_dir, ns, pod, uid, container, attempt);
        return r < 0 ? r : 0;
}

/* One parsed CRI line; pointers into the buffer being read. */
typedef struct LogLine {
        const char *ts, *text;
        size_t ts_len, text_len;
        bool partial;
} LogLine;

/* "<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <text>". Returns false for malformed lines. */
static bool parse_line(const char *line, size_t len, LogLine *ret)
{
        const char *end = line + len, *sp, *p;
        char ts[64];
        usec_t t;

        sp = memchr(line, ' ', len);
        if (!sp || sp == line || (size_t)(sp - line) >= sizeof(ts))
                return false;
        memcpy(ts, line, (size_t)(sp - line));
        ts[sp - line] = 0;
        if (parse_rfc3339(ts, &t) < 0)
                return false;
        ret->ts = line;
        ret->ts_len = (size_t)(sp - line);

        p = sp + 1;
        if ((size_t)(end - p) >= 7 && (memcmp(p, "stdout ", 7) == 0 || memcmp(p, "stderr ", 7) == 0))
                p += 7;
        else
                return false;

        if (p >= end || (*p != 'P' && *p != 'F'))
                return false;
        ret->partial = *p == 'P';
        p++;
        if (p < end && *p == ':') /* further tags, unused */
                while (p < end && *p != ' ')
                        p++;
        if (p < end && *p != ' ')
                return false;
        if (p < end)
                p++;
        ret->text = p;
        ret->text_len = (size_t)(end - p);
        return true;
}

typedef int (*line_cb_t)(const LogLine *l, bool first_of_message, void *userdata);

/* Calls cb for every well-formed line in buf[0..size) (complete lines only) and returns the
 * number of messages (an F line closes one; a trailing P group counts as one). */
static size_t for_each_line(const char *buf, size_t size, line_cb_t cb, void *userdata, size_t *ret_consumed)
{
        size_t messages = 0, pos = 0;
        bool open = false;

        while (pos < size) {
                const char *nl = memchr(buf + pos, '\n', size - pos);
                if (!nl)
                        break;
                LogLine l;
                size_t len = (size_t)(nl - (buf + pos));
                if (parse_line(buf + pos, len, &l)) {
                        if (cb)
                                cb(&l, !open, userdata);
                        if (!open)
                                messages++;
                        open = l.partial;
                }
                pos += len + 1;
        }
        *ret_consumed = pos;
        return messages;
}

typedef struct ReadCtx {
        FILE *out;
        bool timestamps;
        size_t skip; /* messages to drop for tail */
        size_t seen;
} ReadCtx;

static int emit_line(const LogLine *l, bool first, void *userdata)
{
        ReadCtx *c = userdata;

        if (first)
                c->seen++;
        if (c->seen <= c->skip)
                return 0;
        if (first && c->timestamps) {
                fwrite(l->ts, 1, l->ts_len, c->out);
                fputc(' ', c->out);
        }
        fwrite(l->text, 1, l->text_len, c->out);
        if (!l->partial)
                fputc('\n', c->out);
        return 0;
}

static int read_from(const char *path, uint64_t from, char **ret, size_t *ret_size, uint64_t *ret_start)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (from > (uint64_t)st.st_size) /* truncated or rotated under us */
                from = (uint64_t)st.st_size;
        if (lseek(fd, (off_t)from, SEEK_SET) < 0)
                return negative_errno();
        *ret_start = from;
        return read_full_fd(fd, RUNTIME_LOG_READ_MAX, ret, ret_size);
}

int runtime_log_read(const char *path, uint64_t from, bool timestamps, int64_t tail_lines, char **ret,
                     size_t *ret_size, uint64_t *ret_next)
{
        _cleanup_free_ char *buf = NULL, *out = NULL;
        size_t size, consumed, out_size = 0;
        uint64_t start;
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = read_from(path, from, &buf, &size, &start);
        if (r < 0)
                return r;

        ReadCtx c = {.timestamps = timestamps};
        size_t messages = for_each_line(buf, size, NULL, NULL, &consumed);
        if (tail_lines >= 0 && (uint64_t)tail_lines < messages)
                c.skip = messages - (size_t)tail_lines;

        c.out = open_memstream(&out, &out_size);
        if (!c.out)
                return -ENOMEM;
        for_each_line(buf, size, emit_line, &c, &consumed);
        if (fclose(c.out) != 0)
                return -ENOMEM;

        if (ret_size)
                *ret_size = out_size;
        if (ret_next)
                *ret_next = start + consumed;
        *ret = TAKE_PTR(out);
        return 0;
}
