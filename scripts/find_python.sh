#!/usr/bin/env bash
# Print the path of a Python interpreter that is 3.12 or newer.
#
# Search order:
#   1. $PYTHON, if set. It must run and be >= 3.12, or the script fails.
#   2. python3.13, python3.12 and python3 on PATH, in that order.
#   3. $(pyenv root)/versions/*/bin/python3, highest version first, when
#      pyenv is installed.
# Each candidate is actually run, because a pyenv shim can exist on PATH
# and still fail when its version is not selected.
set -euo pipefail

readonly MIN_MAJOR=3
readonly MIN_MINOR=12
readonly MIN_VERSION="${MIN_MAJOR}.${MIN_MINOR}"

tried=()

# Print the absolute path of interpreter $1 if it runs and is new enough.
# Record why it was rejected otherwise.
check_interpreter() {
    local candidate=$1
    local output
    local status=0
    output=$("$candidate" -c "
import sys
print(sys.executable)
print('%d.%d.%d' % sys.version_info[:3])
raise SystemExit(0 if sys.version_info >= (${MIN_MAJOR}, ${MIN_MINOR}) else 3)
" 2>/dev/null) || status=$?
    if [[ $status -ne 0 ]]; then
        if [[ $status -eq 3 ]]; then
            tried+=("$candidate (version $(sed -n 2p <<<"$output"), too old)")
        else
            tried+=("$candidate (failed to run, exit code $status)")
        fi
        return 1
    fi
    # sys.executable can be empty in unusual embeddings, so fall back to the
    # path that was run.
    local executable
    executable=$(sed -n 1p <<<"$output")
    if [[ -z $executable ]]; then
        executable=$(command -v "$candidate")
    fi
    printf '%s\n' "$executable"
}

if [[ -n ${PYTHON:-} ]]; then
    if check_interpreter "$PYTHON"; then
        exit 0
    fi
    echo "error: PYTHON is set to '$PYTHON', which is not a usable Python >= $MIN_VERSION: ${tried[0]}." >&2
    echo "Set PYTHON to a Python $MIN_VERSION or newer, or unset it to search automatically." >&2
    exit 1
fi

for name in python3.13 python3.12 python3; do
    if command -v "$name" >/dev/null 2>&1; then
        if check_interpreter "$name"; then
            exit 0
        fi
    else
        tried+=("$name (not on PATH)")
    fi
done

if command -v pyenv >/dev/null 2>&1; then
    pyenv_root=$(pyenv root 2>/dev/null || true)
    if [[ -n $pyenv_root && -d $pyenv_root/versions ]]; then
        # sort -V orders 3.9 before 3.10, and -r puts the highest first.
        while IFS= read -r version_dir; do
            candidate="$version_dir/bin/python3"
            if [[ -x $candidate ]]; then
                if check_interpreter "$candidate"; then
                    exit 0
                fi
            fi
        done < <(find "$pyenv_root/versions" -mindepth 1 -maxdepth 1 \( -type d -o -type l \) | sort -rV)
    else
        tried+=("pyenv versions (no versions folder under '${pyenv_root:-?}')")
    fi
else
    tried+=("pyenv (not installed)")
fi

echo "error: no Python >= $MIN_VERSION found. Tried:" >&2
for entry in "${tried[@]}"; do
    echo "  - $entry" >&2
done
echo "Install Python $MIN_VERSION or newer, or set PYTHON=/path/to/python3.12 (or newer)." >&2
exit 1
