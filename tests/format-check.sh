#!/bin/sh
# Every C file tracked by git must match the committed .clang-format.
cd "${1:?source dir}" || exit 1
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/install-deps.sh --test)"; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null) || { echo "not a git checkout"; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
