#!/usr/bin/env bash
# Records that a release of a model runs in an environment at an endpoint; prints it as JSON.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG --model NAME --version V [--quantization Q] --environment E --endpoint URL [options]
       $PROG --release-id ID --environment E --endpoint URL [options]

Records that release V (quantization Q; none if not given) of the model NAME runs in
environment E at the endpoint URL, and prints the deployment as JSON (with its model name,
company and release version).
Recorded live (the default status), it supersedes the deployment live at the endpoint in the
environment, which is terminated. One line on stderr says which ("…; superseded ID (1.0.0 fp16)"
or "…; nothing was live there"), and the JSON has it as "superseded" (null when none).
Retry-safe: the request_id is derived from the options and the run id, so running the same
command again prints the deployment the first run recorded. Pass your CI run id (--run-id or
CATAPULT_RUN_ID) so that a later pipeline deploying the same release to the same endpoint
records a new deployment.

Options:
  --model NAME          the model's name
  --version V           the release's version, e.g. 1.0.0
  --quantization Q      the release's quantization (fp16, int8, …); none if not given
  --release-id ID       the release's id, instead of --model/--version/--quantization
  --environment E       production, staging or development (required)
  --endpoint URL        the live endpoint (required)
  --cluster C           Kubernetes cluster
  --namespace NS        Kubernetes namespace
  --replicas N          number of replicas
  --status S            deploying, success or failed (default: the server's, success: live at
                        once); deploying is live only once updated to success
  --force               record it even though the release is deprecated
  --run-id ID           id of the CI run, part of the derived request_id (CATAPULT_RUN_ID)
  --request-id ID       the request_id to send instead of the derived one
  -h, --help            this text

Example:
  $PROG --model llama-3-7b-companyA --version 1.0.0 --quantization fp16 \\
    --environment production --endpoint https://api.companyA.prod/v1/llama | jq -r .id

$(common_usage)
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

model='' version='' quantization='' release_id='' environment='' endpoint='' cluster='' namespace='' replicas=0
status='' force='' request_id='' run_id=$CATAPULT_RUN_ID
parse_flags "model version quantization release-id environment endpoint cluster namespace replicas status request-id run-id" \
  "force" "$@"
if [[ -z $release_id ]]; then
  require_flags model version
elif [[ -n $model$version$quantization ]]; then
  usage_error "--release-id names the release: drop --model, --version and --quantization"
fi
require_flags environment endpoint
[[ $replicas =~ ^[0-9]+$ ]] || usage_error "--replicas $replicas: want 0 or more"
catapult_setup

# The same parts, in the same order, as `catapult-deploy deploy`.
request_id=${request_id:-$(derive_request_id deployment "$model" "$version" "$quantization" "$release_id" \
  "$environment" "$endpoint" "$cluster" "$namespace" "$replicas" "$status" "$run_id")}

if [[ -z $release_id ]]; then
  release=$(find_release "$model" "$version" "$quantization")
  if [[ -z $release ]]; then
    # The model itself missing is the server's NOT_FOUND; else say which releases there are.
    rpc ModelService/GetModelByName "{\"name\": $(json_string "$model")}" >/dev/null
    have=$(release_quantizations "$model" "$version")
    fail 3 "NOT_FOUND (RESOURCE_NOT_FOUND): model \"$model\" has no release $version with" \
      "${quantization:+quantization }${quantization:-no quantization}${have:+ (it has $have)}"
  fi
  release_id=$(json_field id <<<"$release")
fi

# release_name DEPLOYMENT_JSON SAME_MODEL: "1.0.0 fp16", after the model's name unless it is
# SAME_MODEL (as catapult-deploy says it).
release_name() {
  local model version quantization
  model=$(json_field model_name <<<"$1")
  version=$(json_field release_version <<<"$1")
  quantization=$(json_field quantization <<<"$1")
  [[ $model == "$2" ]] || version="$model $version"
  printf '%s%s' "$version" "${quantization:+ $quantization}"
}

force_json=false
[[ -z $force ]] || force_json=true
deployment=$(CATAPULT_IDEMPOTENCY_KEY=$request_id rpc DeploymentService/CreateDeployment "{
  \"deployment\": {
    \"release_id\": $(json_string "$release_id"),
    \"environment\": $(json_string "$environment"),
    \"endpoint_url\": $(json_string "$endpoint"),
    \"cluster\": $(json_string "$cluster"),
    \"k8s_namespace\": $(json_string "$namespace"),
    \"replicas\": $replicas${status:+,
    \"status\": $(json_string "$status")}
  },
  \"request_id\": $(json_string "$request_id"),
  \"force\": $force_json
}")
if [[ $(json_field status <<<"$deployment") == terminated && $status != terminated ]]; then
  # The request_id matched a deployment recorded earlier and terminated since: this is a new
  # deployment of the same release at the same place, not a retry.
  fail 4 "request_id $request_id already recorded deployment $(json_field id <<<"$deployment"), terminated" \
    "at $(json_field terminated_at <<<"$deployment"); to record a new deployment pass --run-id (your CI run id)" \
    "or --request-id"
fi

# What it superseded: the deployment named by replaces_id, set when it became live.
replaces_id=$(json_field replaces_id <<<"$deployment")
model_name=$(json_field model_name <<<"$deployment")
superseded=null
if [[ -n $replaces_id ]]; then
  superseded=$(rpc DeploymentService/GetDeployment "{\"id\": $(json_string "$replaces_id")}")
  what="superseded $replaces_id ($(release_name "$superseded" "$model_name"))"
elif [[ -z $(json_field live_since <<<"$deployment") ]]; then
  what="not live while $(json_field status <<<"$deployment"), so it superseded nothing"
else
  what="nothing was live there"
fi
printf '%s: recorded deployment %s: %s in %s at %s (%s); %s\n' "$PROG" "$(json_field id <<<"$deployment")" \
  "$(release_name "$deployment" '')" "$(json_field environment <<<"$deployment")" \
  "$(json_field endpoint_url <<<"$deployment")" "$(json_field status <<<"$deployment")" "$what" >&2
# The deployment with one member more (catapult-deploy --output json prints the same): its
# closing brace is the last line of grpcurl's output, the superseded deployment is indented one
# level deeper.
printf '%s,\n  "superseded": %s\n}\n' "${deployment%$'\n'\}}" "$(sed '2,$s/^/  /' <<<"$superseded")"
