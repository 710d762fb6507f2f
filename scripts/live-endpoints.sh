#!/usr/bin/env bash
# Prints every deployment that is live (status success, not terminated) as one JSON document.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG [--environment E] [--model NAME] [--company C] [--page-size N]

Prints what is live (deployed successfully and not terminated), newest first, as one JSON
document {"deployments": [...]}: each deployment with its endpoint_url, model_name, company,
release_version and quantization. Reads every page.

Options:
  --environment E       production, staging or development (default: all)
  --model NAME          only deployments of this model
  --company C           only deployments of models built for this company
  --page-size N         deployments per call (default 1000, the server's maximum)
  -h, --help            this text

Example:
  $PROG --environment production | jq -r '.deployments[] | [.endpoint_url, .model_name, .release_version] | @tsv'

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

environment='' model='' company='' page_size=1000
parse_flags "environment model company page-size" "" "$@"
[[ $page_size =~ ^[0-9]+$ ]] || usage_error "--page-size $page_size: want a number"
catapult_setup

# A page's deployments are the lines between `  "deployments": [` and `  ]` in grpcurl's
# output; the pages' lines are joined into one array.
body='' token=''
while :; do
  page=$(rpc DeploymentService/ListDeployments "{
    \"environment\": $(json_string "$environment"),
    \"model_name\": $(json_string "$model"),
    \"company\": $(json_string "$company"),
    \"status\": \"success\",
    \"active_only\": true,
    \"page_size\": $page_size,
    \"page_token\": $(json_string "$token")
  }")
  items=$(awk '/^  "deployments": \[$/ { inside = 1; next } inside && /^  \],?$/ { exit } inside { print }' <<<"$page")
  if [[ -n $items ]]; then
    body=${body:+$body,$'\n'}$items
  fi
  token=$(json_field next_page_token <<<"$page")
  [[ -n $token ]] || break
done

if [[ -z $body ]]; then
  printf '{\n  "deployments": []\n}\n'
else
  printf '{\n  "deployments": [\n%s\n  ]\n}\n' "$body"
fi
