/* The per-set records of set-calls.h. */
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "set-calls.h"

SetCall *set_call_find(SetCall *head, const char *ns, const char *name)
{
        for (SetCall *k = head; k; k = k->next)
                if (streq(k->ns, ns) && streq(k->name, name))
                        return k;
        return NULL;
}

void *set_call_new(SetCall **head, size_t size, const char *ns, const char *name)
{
        SetCall *k = calloc(1, MAX(size, sizeof(SetCall)));

        if (!k)
                return NULL;
        k->ns = strdup(ns);
        k->name = strdup(name);
        if (!k->ns || !k->name) {
                free(k->ns);
                free(k->name);
                free(k);
                return NULL;
        }
        k->next = *head;
        *head = k;
        return k;
}

void set_call_free(SetCall **head, SetCall *k)
{
        for (SetCall **p = head; *p; p = &(*p)->next)
                if (*p == k) {
                        *p = k->next;
                        break;
                }
        free(k->ns);
        free(k->name);
        free(k);
}
