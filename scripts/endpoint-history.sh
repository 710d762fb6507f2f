#!/usr/bin/env bash
# Prints every deployment ever recorded at an endpoint, newest first, as one JSON document.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG --environment E --endpoint URL [--page-size N]

Prints the history of an endpoint in an environment, newest first, as one JSON document
{"deployments": [...]}: the deployment live there now (status success), and before it the ones
it superseded, each with its release_version, live_since and terminated_at (it was live in
between), replaces_id (what it superseded) and superseded_by_id (what superseded it).
Reads every page.

Options:
  --environment E       the environment, e.g. production (required)
  --endpoint URL        the endpoint (required)
  --page-size N         deployments per call (default 1000, the server's maximum)
  -h, --help            this text

Example:
  $PROG --environment production --endpoint https://api.companyA.prod/v1/llama \\
    | jq -r '.deployments[] | [.live_since, .status, .release_version, .id, .replaces_id] | @tsv'

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

environment='' endpoint='' page_size=1000
parse_flags "environment endpoint page-size" "" "$@"
require_flags environment endpoint
[[ $page_size =~ ^[0-9]+$ ]] || usage_error "--page-size $page_size: want a number"
catapult_setup

list_deployments "$(json_members environment "$environment" endpoint_url "$endpoint")" "$page_size"
