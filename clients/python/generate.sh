#!/usr/bin/env bash
# Regenerates the code clients/python derives from other files; run it from anywhere, commit the result.
#   catapult/betterproto/  the dataclass-style client, from proto/ with betterproto2-compiler
#                          (sync grpcio stubs only: the async ones need grpclib, a second HTTP/2 stack)
#   catapult/_client.py    the blocking Client, from catapult/_async_client.py (scripts/unasync.py)
# With --check it writes nothing and fails (printing the command that fixes it) when either is stale.
# Needs the repository's dev environment: grpcio-tools, betterproto2-compiler and ruff, found
# next to $PYTHON (default: the repository's .venv).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
COMMITTED=clients/python/catapult/betterproto
CHECK=false
[[ "${1:-}" == "--check" ]] && CHECK=true
if $CHECK; then
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  OUT=$TMP/betterproto
else
  OUT=$COMMITTED
  rm -rf "$OUT"
fi
mkdir -p "$OUT"
# The compiler runs ruff itself, so the venv's bin goes first on PATH.
PATH="$BIN:$PATH" "$PYTHON" -m grpc_tools.protoc -I proto \
  --python_betterproto2_out="$OUT" --python_betterproto2_opt=client_generation=sync \
  proto/catapult/v1/*.proto 2> >(grep -v '^Writing ' >&2)
# Generated code is not ours to lint or type-check (its stubs return Any, its docstrings run past
# our line length); these markers keep the repository's ruff and mypy off it, file by file.
find "$OUT" -name '*.py' | sort | while read -r file; do
  { printf '# ruff: noqa\n# mypy: ignore-errors\n'; cat "$file"; } > "$file.tmp" && mv "$file.tmp" "$file"
done
# Formatted as the repository formats (its pyproject.toml), wherever the files are.
"$BIN/ruff" format --quiet --config "$ROOT/pyproject.toml" "$OUT"

if $CHECK; then
  stale=false
  diff -r -x __pycache__ "$COMMITTED" "$OUT" > /dev/null 2>&1 || { echo "$COMMITTED is out of date"; stale=true; }
  "$PYTHON" clients/python/scripts/unasync.py --check > /dev/null || { echo "clients/python/catapult/_client.py is out of date"; stale=true; }
  if $stale; then
    echo "Run clients/python/generate.sh and commit the result."
    exit 1
  fi
else
  "$PYTHON" clients/python/scripts/unasync.py
fi
