#include <criterion/criterion.h>

#include "set-calls.h"

typedef struct Rec {
        SetCall call;
        int value;
} Rec;

Test(set_calls, finds_each_record_by_namespace_and_name_and_frees_any_of_them)
{
        SetCall *head = NULL;
        Rec *a = set_call_new(&head, sizeof(Rec), "default", "web"),
            *b = set_call_new(&head, sizeof(Rec), "default", "db"),
            *c = set_call_new(&head, sizeof(Rec), "other", "web");

        cr_assert(a && b && c);
        cr_assert_eq(a->value, 0, "the record is zeroed");
        a->value = 7;
        cr_assert_eq(set_call_find(head, "default", "web"), &a->call);
        cr_assert_eq(((Rec *)set_call_find(head, "default", "web"))->value, 7);
        cr_assert_eq(set_call_find(head, "other", "web"), &c->call);
        cr_assert_null(set_call_find(head, "other", "db"));
        /* from the middle, the head and the tail */
        set_call_free(&head, &b->call);
        cr_assert_null(set_call_find(head, "default", "db"));
        cr_assert_eq(set_call_find(head, "default", "web"), &a->call);
        set_call_free(&head, &c->call);
        set_call_free(&head, &a->call);
        cr_assert_null(head);
}
