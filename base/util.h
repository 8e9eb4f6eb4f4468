/* Pure helpers shared by all modules: time stamps, strings, files, ids. No logging. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "macro.h"

typedef uint64_t usec_t;
#define USEC_PER_SEC ((usec_t)1000000ULL)
#define USEC_PER_MSEC ((usec_t)1000ULL)
#define NSEC_PER_USEC ((uint64_t)1000ULL)
#define USEC_INFINITY ((usec_t)UINT64_MAX)

usec_t now_usec(clockid_t clock);

/* RFC 3339 in UTC, seconds precision ("2026-11-21T19:48:43Z"): Kubernetes metav1.Time. */
int format_rfc3339(usec_t t, char *buf, size_t size);
/* RFC 3339 with nanoseconds ("2026-11-21T19:48:43.123456789Z"): CRI log lines. */
int format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size);
/* Parses RFC 3339 (UTC "Z" or a numeric offset, optional fraction) into usec since epoch. */
int parse_rfc3339(const char *s, usec_t *ret);
/* kubectl's age column: "5s", "3m12s", "2d4h" ... */
void format_age(usec_t delta, char *buf, size_t size);
/* Go-style durations as kubectl takes them for --timeout: "30s", "1m30s", "500ms", "2h". */
int parse_duration(const char *s, usec_t *ret);

/* A random RFC 4122 v4 UUID, lower-case, 36 chars + NUL. */
int uuid_random(char ret[static 37]);
/* n random chars from Kubernetes' name alphabet "bcdfghjklmnpqrstvwxz2456789". */
int random_name_suffix(char *buf, size_t n);

char *strjoin(const char *a, ...) __attribute__((sentinel));
/* Appends a copy of s to the array *v of *n strings (not NULL-terminated). 0 or -ENOMEM. */
int strv_push_copy(char ***v, size_t *n, const char *s);
/* The value of the variable whose name is the len bytes at name in env ("K=V" strings, n_env
 * of them): the last definition wins, as in a Go map filled in order. NULL when undefined. */
const char *strv_env_get_n(char *const *env, size_t n_env, const char *name, size_t len);
/* Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): "$(NAME)" becomes the
 * value of NAME in env (as strv_env_get_n finds it), an undefined reference is kept as
 * written, "$$" is an escaped "$", any other "$" is kept. Returns a malloc'd string or NULL
 * on OOM. */
char *expand_vars(const char *in, char *const *env, size_t n_env);
int asprintf_safe(char **ret, const char *fmt, ...) _printf_(2, 3);
/* Replaces *ret_error (when ret_error is not NULL) with the formatted message and returns r:
 * `return set_errorf(ret_error, -EINVAL, "subPath %s ...", p);`. */
int set_errorf(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
/* qsort()'s comparison for an array of strings (char *), in strcmp() order. */
int strptr_compare(const void *a, const void *b);

/* Reads a whole file (at most max bytes, else -EFBIG) into a NUL-terminated buffer. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);
/* Writes data to path atomically (temp file + fsync + rename) with the given mode. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
/* The same without the fsync: readers see the old or the new contents, never a mix, but a
 * machine crash may lose it. For what is worthless after such a crash anyway (the pid of a
 * running process). */
int write_file_replace(const char *path, const void *data, size_t size, mode_t mode);
/* mkdir -p with the given mode for created directories. */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf that stays on one file system; returns 0 when path does not exist. */
int rm_rf(const char *path);

/* Reads a single line (without the newline) from a small file, e.g. in /proc or cgroupfs. */
int read_one_line_file(const char *path, char **ret);
int write_string_file(const char *path, const char *s);

/* Standard base64 (RFC 4648, with padding). decode rejects bad characters and padding with
 * -EINVAL; the result is NUL-terminated (the size excludes the NUL). */
int base64_encode(const void *data, size_t size, char **ret);
int base64_decode(const char *s, char **ret, size_t *ret_size);
