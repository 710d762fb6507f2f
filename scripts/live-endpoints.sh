#!/usr/bin/env bash
# Prints every deployment live now (or at a moment) as one JSON document.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG [--environment E] [--endpoint URL] [--at TIME] [--model NAME] [--company C]
       [--digest D] [--artifact-checksum SUM] [--release-status S] [--page-size N]

Prints what is live now (status success: neither superseded nor terminated), or with --at
what was live at that moment, newest first, as one JSON document {"deployments": [...]}: each
deployment with its endpoint_url, model_name, company, release_version, quantization,
live_since and replaces_id. Every option given must match. Reads every page.

Options:
  --environment E       only this environment, e.g. production (default: all)
  --endpoint URL        only this endpoint
  --at TIME             what was live at this moment, RFC 3339, e.g. 2026-11-17T14:00:00Z
  --model NAME          only deployments of this model
  --company C           only deployments of models built for this company
  --digest D            only releases with this image digest: where an image is served
  --artifact-checksum SUM  only releases carrying an artifact with this checksum
  --release-status S    only releases with this status, e.g. deprecated
  --page-size N         deployments per call (default 1000, the server's maximum)
  -h, --help            this text

Example:
  $PROG --environment production | jq -r '.deployments[] | [.endpoint_url, .model_name, .release_version] | @tsv'
  $PROG --environment production --endpoint https://api.companyA.prod/v1/llama --at 2026-11-17T14:00:00Z

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

environment='' endpoint='' at='' model='' company='' digest='' artifact_checksum='' release_status='' page_size=1000
parse_flags "environment endpoint at model company digest artifact-checksum release-status page-size" "" "$@"
[[ $page_size =~ ^[0-9]+$ ]] || usage_error "--page-size $page_size: want a number"
[[ -z $at ]] || is_rfc3339 "$at" || usage_error "--at $at: want an RFC 3339 time such as 2026-11-17T14:00:00Z"
catapult_setup

members=$(json_members environment "$environment" endpoint_url "$endpoint" model_name "$model" \
  company "$company" digest "$digest" artifact_checksum "$artifact_checksum" \
  release_status "$release_status" live_at "$at")
if [[ -z $at ]]; then
  members+="${members:+, }\"active_only\": true"
fi
list_deployments "$members" "$page_size"
