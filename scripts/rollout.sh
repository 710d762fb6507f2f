#!/usr/bin/env bash
# Prints where a model is live, per environment, as JSON.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG --model NAME_OR_ID

Prints the environment matrix of a model as JSON: {"model_id", "model_name", "company",
"environments": [{"environment", "live": [...]}]}, the environments where it is live by name,
and in each its live deployments, newest first, with their release (release_version,
release_tag, quantization, release_digest) and slot (cluster, k8s_namespace, endpoint_url,
live_since).

Options:
  --model NAME_OR_ID    the model's name, or its id (required)
  -h, --help            this text

Example:
  $PROG --model llama-3-7b-companyA \\
    | jq -r '.environments[] | .environment as \$e | .live[] | [\$e, .endpoint_url, .release_version] | @tsv'

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

model=''
parse_flags "model" "" "$@"
require_flags model
catapult_setup

if is_uuid "$model"; then
  rpc ModelService/GetModelRollout "{\"id\": $(json_string "$model")}"
else
  rpc ModelService/GetModelRollout "{\"model_name\": $(json_string "$model")}"
fi
