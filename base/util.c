/* Implementation of the pure helpers in util.h: time formats, ids, strings, files. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "util.h"

usec_t now_usec(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / NSEC_PER_USEC;
}

int format_rfc3339(usec_t t, char *buf, size_t size)
{
        time_t sec = (time_t)(t / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&sec, &tm))
                return -EINVAL;
        if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -ENOBUFS;
        return 0;
}

int format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size)
{
        struct tm tm;
        char base[32];
        int n;

        if (!gmtime_r(&ts->tv_sec, &tm))
                return -EINVAL;
        if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return -ENOBUFS;
        n = snprintf(buf, size, "%s.%09ldZ", base, (long)ts->tv_nsec);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}

static int parse_digits(const char **p, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (**p < '0' || **p > '9')
                        return -EINVAL;
                v = v * 10 + (**p - '0');
                (*p)++;
        }
        *ret = v;
        return 0;
}

int parse_rfc3339(const char *s, usec_t *ret)
{
        struct tm tm = {0};
        int y, mo, d, h, mi, sec, frac_us = 0, off = 0;
        const char *p = s;

        if (!s)
                return -EINVAL;
        if (parse_digits(&p, 4, &y) < 0 || *p++ != '-' || parse_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
            parse_digits(&p, 2, &d) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
                return -EINVAL;
        p++;
        if (parse_digits(&p, 2, &h) < 0 || *p++ != ':' || parse_digits(&p, 2, &mi) < 0 || *p++ != ':' ||
            parse_digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                int digits = 0;
                p++;
                while (*p >= '0' && *p <= '9') {
                        if (digits < 6)
                                frac_us = frac_us * 10 + (*p - '0');
                        digits++;
                        p++;
                }
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 6; digits++)
                        frac_us *= 10;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1, oh, om;
                p++;
                if (parse_digits(&p, 2, &oh) < 0 || *p++ != ':' || parse_digits(&p, 2, &om) < 0)
                        return -EINVAL;
                off = sign * (oh * 3600 + om * 60);
        } else
                return -EINVAL;
        if (*p != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;

        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        time_t t = timegm(&tm);
        if (t == (time_t)-1 || t - off < 0)
                return -ERANGE;
        *ret = (usec_t)(t - off) * USEC_PER_SEC + (usec_t)frac_us;
        return 0;
}

void format_age(usec_t delta, char *buf, size_t size)
{
        /* k8s.io/apimachinery/pkg/util/duration.HumanDuration, case for case */
        unsigned long long s = delta / USEC_PER_SEC, m = s / 60, h = s / 3600, d = h / 24;

        if (s < 120)
                snprintf(buf, size, "%llus", s);
        else if (m < 10)
                s % 60 == 0 ? snprintf(buf, size, "%llum", m) : snprintf(buf, size, "%llum%llus", m, s % 60);
        else if (m < 180)
                snprintf(buf, size, "%llum", m);
        else if (h < 8)
                m % 60 == 0 ? snprintf(buf, size, "%lluh", h) : snprintf(buf, size, "%lluh%llum", h, m % 60);
        else if (h < 48)
                snprintf(buf, size, "%lluh", h);
        else if (h < 24 * 8)
                h % 24 == 0 ? snprintf(buf, size, "%llud", d) : snprintf(buf, size, "%llud%lluh", d, h % 24);
        else if (h < 24 * 365 * 2)
                snprintf(buf, size, "%llud", d);
        else if (h < 24 * 365 * 8)
                d % 365 == 0 ? snprintf(buf, size, "%lluy", d / 365)
                             : snprintf(buf, size, "%lluy%llud", d / 365, d % 365);
        else
                snprintf(buf, size, "%lluy", d / 365);
}

int parse_duration(const char *s, usec_t *ret)
{
        static const struct {
                const char *unit;
                usec_t mult;
        } units[] = {
            {"ms", USEC_PER_MSEC},    {"us", 1},           {"h", 3600 * USEC_PER_SEC},
            {"m", 60 * USEC_PER_SEC}, {"s", USEC_PER_SEC},
        };
        usec_t total = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        while (*p) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(p, &end, 10);
                if (errno != 0 || end == p || *p == '-' || *p == '+')
                        return -EINVAL;
                p = end;
                size_t i;
                for (i = 0; i < ELEMENTSOF(units); i++)
                        if (startswith(p, units[i].unit))
                                break;
                if (i == ELEMENTSOF(units))
                        return -EINVAL;
                total += v * units[i].mult;
                p += strlen(units[i].unit);
        }
        *ret = total;
        return 0;
}

int uuid_random(char ret[static 37])
{
        uint8_t b[16];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return negative_errno();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}

int random_name_suffix(char *buf, size_t n)
{
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        uint8_t r[64];

        if (n >= sizeof(r))
                return -EINVAL;
        if (getrandom(r, n, 0) != (ssize_t)n)
                return negative_errno();
        for (size_t i = 0; i < n; i++)
                buf[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
        buf[n] = 0;
        return 0;
}

char *strjoin(const char *a, ...)
{
        va_list ap;
        size_t len = 0;
        char *r, *p;

        va_start(ap, a);
        for (const char *s = a; s; s = va_arg(ap, const char *))
                len += strlen(s);
        va_end(ap);
        r = malloc(len + 1);
        if (!r)
                return NULL;
        p = r;
        va_start(ap, a);
        for (const char *s = a; s; s = va_arg(ap, const char *))
                p = stpcpy(p, s);
        va_end(ap);
        return r;
}

int strv_push_copy(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 1) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

const char *strv_env_get_n(char *const *env, size_t n_env, const char *name, size_t len)
{
        for (size_t i = n_env; i > 0; i--) {
                const char *e = env[i - 1];

                if (strncmp(e, name, len) == 0 && e[len] == '=')
                        return e + len + 1;
        }
        return NULL;
}

char *expand_vars(const char *in, char *const *env, size_t n_env)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (const char *p = in; *p; p++) {
                const char *close, *v;

                if (p[0] != '$' || p[1] == 0) {
                        fputc(*p, f);
                        continue;
                }
                if (p[1] == '$') { /* escaped operator */
                        fputc('$', f);
                        p++;
                        continue;
                }
                if (p[1] != '(') { /* not an expression: keep "$x" */
                        fputc('$', f);
                        fputc(p[1], f);
                        p++;
                        continue;
                }
                close = strchr(p + 2, ')');
                if (!close) { /* incomplete reference: keep "$(" and go on after it */
                        fputs("$(", f);
                        p++;
                        continue;
                }
                v = strv_env_get_n(env, n_env, p + 2, (size_t)(close - p - 2));
                if (v)
                        fputs(v, f);
                else
                        fwrite(p, 1, (size_t)(close - p + 1), f);
                p = close;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

int set_errorf(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        if (!ret_error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(*ret_error);
        *ret_error = s;
        return r;
}

int asprintf_safe(char **ret, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return r;
}

bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int strptr_compare(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                if (size + 4096 + 1 > alloc) {
                        size_t n = alloc ? alloc * 2 : 8192;
                        char *b = realloc(buf, n);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        alloc = n;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                size += (size_t)k;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        return read_full_fd(fd, max, ret, ret_size);
}

static int write_file_rename(const char *path, const void *data, size_t size, mode_t mode, bool sync);

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode)
{
        return write_file_rename(path, data, size, mode, true);
}

int write_file_replace(const char *path, const void *data, size_t size, mode_t mode)
{
        return write_file_rename(path, data, size, mode, false);
}

static int write_file_rename(const char *path, const void *data, size_t size, mode_t mode, bool sync)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *p = data;
        int r;

        r = asprintf_safe(&tmp, "%s.%d.tmp", path, (int)getpid());
        if (r < 0)
                return r;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return negative_errno();
        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto out_unlink;
                }
                p += k;
                size -= (size_t)k;
        }
        if ((sync && fsync(fd) < 0) || rename(tmp, path) < 0) {
                r = negative_errno();
                goto out_unlink;
        }
        return 0;
out_unlink:
        unlink(tmp);
        return r;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int rm_rf_at(int parent_fd, const char *name, dev_t dev)
{
        struct stat st;

        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
        if (st.st_dev != dev)
                return -EXDEV; /* a mount point: never descend into another file system */

        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = rm_rf_at(dirfd(d), de->d_name, dev);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        if (r < 0)
                return r;
        return unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? negative_errno() : 0;
}

int rm_rf(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

int read_one_line_file(const char *path, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file(path, 1 << 20, &buf, NULL);

        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int write_string_file(const char *path, const char *s)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        size_t n = strlen(s);

        if (fd < 0)
                return negative_errno();
        ssize_t k = write(fd, s, n);
        if (k < 0)
                return negative_errno();
        if ((size_t)k != n)
                return -EIO;
        return 0;
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t size, char **ret)
{
        const uint8_t *in = data;
        char *out = malloc(4 * ((size + 2) / 3) + 1), *p = out;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                if (i + 1 < size)
                        v |= (uint32_t)in[i + 1] << 8;
                if (i + 2 < size)
                        v |= in[i + 2];
                *p++ = b64_alphabet[(v >> 18) & 63];
                *p++ = b64_alphabet[(v >> 12) & 63];
                *p++ = i + 1 < size ? b64_alphabet[(v >> 6) & 63] : '=';
                *p++ = i + 2 < size ? b64_alphabet[v & 63] : '=';
        }
        *p = 0;
        *ret = out;
        return 0;
}

int base64_decode(const char *s, char **ret, size_t *ret_size)
{
        size_t len = strlen(s), n = 0;
        _cleanup_free_ char *out = NULL;
        uint32_t acc = 0;
        int bits = 0, pad = 0;

        if (len % 4 != 0)
                return -EINVAL;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                const char *c = s[i] ? strchr(b64_alphabet, s[i]) : NULL;
                if (s[i] == '=') {
                        if (i < len - 2)
                                return -EINVAL;
                        pad++;
                        continue;
                }
                if (!c || pad > 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t)(c - b64_alphabet);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char)((acc >> bits) & 0xff);
                }
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        if (ret_size)
                *ret_size = n;
        return 0;
}
