/* Internal: the host backend's "RuntimeDefault" seccomp profile, a deny list in the spirit
 * of docker's default profile: everything is allowed except the syscalls listed in
 * host-seccomp.c, which fail with EPERM (clone3 with ENOSYS so libc falls back to clone). */
#pragma once

#include <seccomp.h>

#include "macro.h"

/* The names of the syscalls denied outright (NULL-terminated), for documentation and tests. */
const char *const *host_seccomp_denied(void);
/* Builds the filter for the native architecture; the caller seccomp_release()s it. It does
 * not set no_new_privs (SCMP_FLTATR_CTL_NNP off): loading it then needs CAP_SYS_ADMIN. */
int host_seccomp_build(scmp_filter_ctx *ret);
/* Builds and loads the filter into the calling process. */
int host_seccomp_apply(void);
