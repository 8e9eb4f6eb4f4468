/* Per-set records of the controllers' cluster mode (a claim or release in flight, a roll-out
 * slot held), one per namespace and name, in a singly linked list. A record type starts with a
 * SetCall and is handled through it. */
#pragma once

#include <stddef.h>

typedef struct SetCall {
        struct SetCall *next;
        char *ns, *name;
} SetCall;

SetCall *set_call_find(SetCall *head, const char *ns, const char *name);
/* A zeroed record of size bytes (at least sizeof(SetCall)) with ns and name copied, put first in
 * *head; NULL when out of memory. */
void *set_call_new(SetCall **head, size_t size, const char *ns, const char *name);
/* Takes k out of *head and frees it with its ns and name (what else it holds is the caller's). */
void set_call_free(SetCall **head, SetCall *k);
