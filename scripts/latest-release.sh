#!/usr/bin/env bash
# Prints the newest release of a model as JSON.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG --model NAME [--quantization Q] [--environment E]

Prints the newest release (by creation time) of the model NAME as JSON; with --quantization
only among releases of that quantization, with --environment only among releases with a
successful, not terminated deployment there ("what is live in production?").

Example:
  $PROG --model llama-3-7b-companyA --quantization fp16 --environment production | jq -r .version

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

model='' quantization='' environment=''
parse_flags "model quantization environment" "" "$@"
require_flags model
catapult_setup

rpc ReleaseService/GetLatestRelease "{
  \"model_name\": $(json_string "$model"),
  \"quantization\": $(json_string "$quantization"),
  \"environment\": $(json_string "$environment")
}"
