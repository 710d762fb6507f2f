#!/usr/bin/env bash
# Marks a deployment terminated (the record is kept) and prints it as JSON.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG --id DEPLOYMENT_ID

Marks the deployment terminated (status "terminated", terminated_at now) and prints it as JSON.
The record is kept. Terminating a terminated deployment prints it unchanged, so a retry is safe.

Example:
  $PROG --id "\$(live-endpoints.sh --environment staging | jq -r '.deployments[0].id')"

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

id=''
parse_flags "id" "" "$@"
require_flags id
catapult_setup

rpc DeploymentService/DeleteDeployment "{\"id\": $(json_string "$id")}"
