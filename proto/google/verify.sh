#!/usr/bin/env bash
# Checks (or with --update, refreshes) the vendored google/api protos against
# the npm package they were copied from.
set -euo pipefail
version=5.0.3
files=(api/annotations.proto api/http.proto api/field_behavior.proto)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "google-proto-files@$version" >/dev/null && tar xzf google-proto-files-*.tgz)
status=0
for f in "${files[@]}"; do
  if [ "${1:-}" = "--update" ]; then
    cp "$tmp/package/google/$f" "$here/$f"
  elif ! cmp -s "$tmp/package/google/$f" "$here/$f"; then
    echo "proto/google/$f differs from google-proto-files@$version"; status=1
  fi
done
[ $status -eq 0 ] && echo "vendored protos match google-proto-files@$version"
exit $status
