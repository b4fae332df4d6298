#!/usr/bin/env bash
# Refresh the third-party browser libraries committed under static/vendor/.
#
# Each library is fetched from the npm registry with `npm pack` into a
# temporary folder, so nothing is installed globally or into the project.
# The built file, the package's licence and a VERSION file are copied to
# static/vendor/<name>/. The files are committed, so running the product
# never needs Node.js; only this script does.
#
# Usage: scripts/vendor_static.sh
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vendor_root="$repo_root/static/vendor"

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found. Install Node.js and npm (Debian: apt-get install npm) to refresh static/vendor/." >&2
    exit 1
fi

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

# Copy files from one npm package into static/vendor/<dest>/.
# Arguments: package name, exact version, destination folder name, then the
# paths inside the package to copy (the file name is kept, the folders are not).
vendor_package() {
    local package=$1 version=$2 dest=$3
    shift 3

    local pack_dir="$work_dir/$dest"
    mkdir -p "$pack_dir"
    echo "Fetching $package@$version"
    # --json reports the tarball name and its integrity hash, which VERSION
    # records.
    local pack_json
    pack_json=$(cd "$pack_dir" && npm pack --json --silent "$package@$version")

    local tarball integrity
    tarball=$(node -e 'const r = JSON.parse(process.argv[1])[0]; console.log(r.filename)' "$pack_json")
    integrity=$(node -e 'const r = JSON.parse(process.argv[1])[0]; console.log(r.integrity)' "$pack_json")
    tar -xzf "$pack_dir/$tarball" -C "$pack_dir"

    local packed_version
    packed_version=$(node -e 'console.log(require(process.argv[1]).version)' "$pack_dir/package/package.json")
    if [[ $packed_version != "$version" ]]; then
        echo "error: requested $package@$version but npm returned version $packed_version." >&2
        exit 1
    fi

    local target="$vendor_root/$dest"
    rm -rf "$target"
    mkdir -p "$target"
    local path
    for path in "$@" LICENSE; do
        if [[ ! -f $pack_dir/package/$path ]]; then
            echo "error: $package@$version has no file '$path'." >&2
            exit 1
        fi
        cp "$pack_dir/package/$path" "$target/"
    done
    printf '%s %s\nnpm tarball integrity %s\n' "$package" "$version" "$integrity" >"$target/VERSION"
    echo "Wrote ${target#"$repo_root"/}: $* LICENSE VERSION"
}

# htmx is pinned to 2.x, the major version the pages are written for. The
# registry's latest release is a newer major version with breaking changes.
vendor_package htmx.org 2.0.8 htmx dist/htmx.min.js
