#!/bin/sh
# check-man.sh PAGE...: fails when man(1) reports a groff warning for a page, or when
# lexgrog(1) cannot read its NAME section (what mandb and apropos rely on).
set -eu
rc=0
for page in "$@"; do
        warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || rc=1
        if [ -n "$warnings" ]; then
                printf '%s: groff warnings:\n%s\n' "$page" "$warnings" >&2
                rc=1
        fi
        if ! lexgrog "$page" >/dev/null; then
                printf '%s: lexgrog cannot parse the NAME section\n' "$page" >&2
                rc=1
        fi
done
exit $rc
