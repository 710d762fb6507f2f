#!/usr/bin/env bash
# Records a release of a model (found by name) in Catapult and prints it as JSON.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG --model NAME --version V [--quantization Q] [--tag T] [--digest sha256:…] [options]

Records release V (quantization Q) of the model NAME and prints the release as JSON.
Retry-safe: the request_id is derived from the options, so running the same command again
prints the release the first run recorded. When the release exists already (recorded some other
way) with the values given, it is printed too; with other values (another digest, say) the
script fails with ALREADY_EXISTS (exit 4) and says which value differs.

Options:
  --model NAME          the model's name (required)
  --version V           e.g. 1.0.0 (required)
  --quantization Q      fp32, bf16, fp16, fp8, int8, int4, or none
  --tag T               Docker tag, e.g. v1.0-fp16
  --digest D            Docker image digest, sha256:…
  --platform P          e.g. linux/amd64
  --architecture A      e.g. amd64
  --os OS               e.g. linux
  --size-bytes N        image size in bytes
  --notes TEXT          release notes
  --request-id ID       the request_id to send instead of the derived one
  -h, --help            this text

Example:
  $PROG --model llama-3-7b-companyA --version 1.0.0 --quantization fp16 --tag v1.0-fp16 | jq -r .id

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

model='' version='' quantization='' tag='' digest='' platform='' architecture='' os='' size_bytes=0 notes=''
request_id=''
parse_flags "model version quantization tag digest platform architecture os size-bytes notes request-id" "" "$@"
require_flags model version
[[ $size_bytes =~ ^[0-9]+$ ]] || usage_error "--size-bytes $size_bytes: want a number of bytes"
catapult_setup

# The same parts, in the same order, as `catapult-deploy release`.
request_id=${request_id:-$(derive_request_id release "$model" "$version" "$quantization" "$tag" "$digest" \
  "$platform" "$architecture" "$os" "$size_bytes" "$notes")}

model_json=$(rpc ModelService/GetModelByName "{\"name\": $(json_string "$model")}")
model_id=$(json_field id <<<"$model_json")

if CATAPULT_IDEMPOTENCY_KEY=$request_id rpc_call ReleaseService/CreateRelease "{
  \"release\": {
    \"image_id\": $(json_string "$model_id"),
    \"version\": $(json_string "$version"),
    \"quantization\": $(json_string "$quantization"),
    \"tag\": $(json_string "$tag"),
    \"digest\": $(json_string "$digest"),
    \"platform\": $(json_string "$platform"),
    \"architecture\": $(json_string "$architecture"),
    \"os\": $(json_string "$os"),
    \"size_bytes\": \"$size_bytes\",
    \"release_notes\": $(json_string "$notes")
  },
  \"request_id\": $(json_string "$request_id")
}"; then
  printf '%s\n' "$RPC_OUT"
  exit 0
fi
[[ $RPC_CODE == ALREADY_EXISTS ]] || fail "$RPC_EXIT" "$RPC_ERROR"

# The release exists (recorded without this request_id): fine if it has the values given.
existing=$(find_release "$model" "$version" "$quantization")
[[ -n $existing ]] || fail "$RPC_EXIT" "$RPC_ERROR"
differs=()
for pair in "tag=$tag" "digest=$digest" "platform=$platform" "architecture=$architecture" "os=$os" \
  "release_notes=$notes" "size_bytes=${size_bytes#0}"; do
  field=${pair%%=*} given=${pair#*=}
  [[ -n $given ]] || continue
  given=$(json_string "$given")
  given=${given:1:${#given}-2}
  have=$(json_field "$field" <<<"$existing")
  [[ $have == "$given" ]] || differs+=("$field \"$have\", not \"$given\"")
done
if ((${#differs[@]} > 0)); then
  differences=$(printf '%s, ' "${differs[@]}")
  fail 4 "$RPC_ERROR; release $(json_field id <<<"$existing") has ${differences%, }"
fi
printf '%s\n' "$existing"
