# shellcheck shell=bash
# Sourced by the scripts in this directory (not a command): settings, flag parsing, the grpcurl
# call and its errors. Each script defines PROG and usage() before sourcing this file.
#
# The exit codes are those of the Go command catapult-deploy:
#   0 ok, 1 unexpected error, 2 bad usage, 3 NOT_FOUND, 4 conflict (ALREADY_EXISTS, ABORTED),
#   5 rejected (INVALID_ARGUMENT, FAILED_PRECONDITION), 6 UNAUTHENTICATED/PERMISSION_DENIED,
#   7 UNAVAILABLE/DEADLINE_EXCEEDED or the server cannot be reached (retry later).

CATAPULT_ADDR=${CATAPULT_ADDR:-localhost:50051}
CATAPULT_API_KEY=${CATAPULT_API_KEY:-}
CATAPULT_PLAINTEXT=${CATAPULT_PLAINTEXT:-}
CATAPULT_CACERT=${CATAPULT_CACERT:-}
CATAPULT_TIMEOUT=${CATAPULT_TIMEOUT:-60}
CATAPULT_CONNECT_TIMEOUT=${CATAPULT_CONNECT_TIMEOUT:-10}
CATAPULT_RUN_ID=${CATAPULT_RUN_ID:-}
CATAPULT_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The environment every script reads; printed at the end of each usage text.
common_usage() {
  cat <<'EOF'
Environment:
  CATAPULT_ADDR             server address (default localhost:50051)
  CATAPULT_API_KEY          API key (required; sent as x-api-key, never on a command line)
  CATAPULT_PLAINTEXT        1/true: no TLS; 0/false: TLS; unset: plaintext for loopback addresses only
  CATAPULT_CACERT           PEM file of the CA to verify the server with (TLS)
  CATAPULT_TIMEOUT          seconds a call may take (60); CATAPULT_CONNECT_TIMEOUT (10)
  GRPCURL                   grpcurl to use (default: on PATH, else the repository's .tools/bin)

Output: the JSON grpcurl prints (snake_case, defaults included; int64 as strings), for jq.
Exit codes: 0 ok, 1 unexpected error, 2 bad usage, 3 NOT_FOUND, 4 conflict (ALREADY_EXISTS,
ABORTED), 5 rejected (INVALID_ARGUMENT, FAILED_PRECONDITION), 6 UNAUTHENTICATED or
PERMISSION_DENIED, 7 server unreachable or UNAVAILABLE (retry). Errors are one line on stderr:
"PROG: CODE (REASON): the server's message".
EOF
}

# fail CODE MESSAGE…: one line on stderr, then exit CODE.
fail() {
  local code=$1
  shift
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit "$code"
}

usage_error() { fail 2 "$* (-h for help)"; }

# parse_flags "VALUE FLAGS" "BOOLEAN FLAGS" "$@": --name VALUE and --name=VALUE set the variable
# name (dashes become underscores), a boolean flag sets it to 1; -h/--help prints the usage.
# The script initialises every variable first.
parse_flags() {
  local values=" $1 " bools=" $2 " arg name value inline
  shift 2
  while (($# > 0)); do
    arg=$1
    case $arg in
      -h | --help)
        usage
        exit 0
        ;;
      --*=*) name=${arg%%=*} value=${arg#*=} inline=1 ;;
      --*) name=$arg value='' inline=0 ;;
      *) usage_error "unexpected argument '$arg'" ;;
    esac
    name=${name#--}
    if [[ $values == *" $name "* ]]; then
      if ((!inline)); then
        (($# >= 2)) || usage_error "--$name needs a value"
        value=$2
        shift
      fi
      printf -v "${name//-/_}" '%s' "$value"
    elif [[ $bools == *" $name "* ]]; then
      ((!inline)) || usage_error "--$name takes no value"
      printf -v "${name//-/_}" '%s' 1
    else
      usage_error "unknown option --$name"
    fi
    shift
  done
}

# require_flags NAME…: fail with usage when a variable is empty.
require_flags() {
  local name missing=()
  for name in "$@"; do
    [[ -n ${!name} ]] || missing+=("--${name//_/-}")
  done
  if ((${#missing[@]} > 0)); then
    usage_error "missing ${missing[*]}"
  fi
}

# json_string VALUE: VALUE as a JSON string literal.
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# json_members NAME VALUE…: '"NAME": "VALUE"' for each non-empty VALUE, comma-separated, to
# splice into a request. An empty value is left out rather than sent: for a filter it means
# "no filter", and an empty timestamp would not parse.
json_members() {
  local out=''
  while (($# >= 2)); do
    [[ -z $2 ]] || out+="${out:+, }\"$1\": $(json_string "$2")"
    shift 2
  done
  printf '%s' "$out"
}

# is_rfc3339 VALUE: is VALUE a time such as 2026-11-17T14:00:00Z (the form timestamps take in
# JSON requests)? Checked here so a typo is a usage error, not grpcurl's parse failure.
is_rfc3339() {
  [[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$ ]]
}

# is_uuid VALUE: is VALUE shaped like the ids the server assigns?
is_uuid() {
  [[ $1 =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]]
}

# json_field NAME < JSON: the value of a top-level string field of a grpcurl response.
json_field() {
  sed -n "s/^  \"$1\": \"\\(.*\\)\",\{0,1\}\$/\\1/p" | head -n 1
}

# derive_request_id KIND PART…: a stable request_id: SHA-256 over each argument followed by a
# NUL byte, as a version 8 UUID. The same as catapult.RequestID in the Go client, so a Go tool
# and a script recording the same thing share one id.
derive_request_id() {
  local sum b6 b8
  if command -v sha256sum >/dev/null; then
    sum=$(printf '%s\0' "$@" | sha256sum)
  else
    sum=$(printf '%s\0' "$@" | shasum -a 256)
  fi
  b6=$(((16#${sum:12:2} & 0x0f) | 0x80))
  b8=$(((16#${sum:16:2} & 0x3f) | 0x80))
  printf '%s-%s-%02x%s-%02x%s-%s\n' "${sum:0:8}" "${sum:8:4}" "$b6" "${sum:14:2}" "$b8" "${sum:18:2}" "${sum:20:12}"
}

# is_loopback ADDR: does the address name this machine?
is_loopback() {
  local addr=${1#dns:///} host
  case $addr in unix:* | unix-abstract:*) return 0 ;; esac
  host=${addr%:*}
  [[ $addr == *:* ]] || host=$addr
  host=${host#[}
  host=${host%]}
  case $host in
    localhost | LOCALHOST | ::1 | 127.*) return 0 ;;
  esac
  return 1
}

find_grpcurl() {
  if [[ -n ${GRPCURL:-} ]]; then
    printf '%s\n' "$GRPCURL"
  elif command -v grpcurl >/dev/null; then
    command -v grpcurl
  elif [[ -x $CATAPULT_SCRIPTS_DIR/../.tools/bin/grpcurl ]]; then
    printf '%s\n' "$CATAPULT_SCRIPTS_DIR/../.tools/bin/grpcurl"
  else
    fail 1 "grpcurl not found: put it on PATH, set GRPCURL, or run 'make install' in the repository"
  fi
}

# catapult_setup: check the settings and find grpcurl; call once, after parse_flags.
catapult_setup() {
  [[ -n $CATAPULT_API_KEY ]] || usage_error "CATAPULT_API_KEY is not set"
  export CATAPULT_API_KEY # grpcurl -expand-headers reads it, so it never is an argument
  GRPCURL_BIN=$(find_grpcurl)
  TRANSPORT=()
  case $(printf '%s' "$CATAPULT_PLAINTEXT" | tr '[:upper:]' '[:lower:]') in
    1 | true | yes | on) TRANSPORT=(-plaintext) ;;
    0 | false | no | off) ;;
    "") is_loopback "$CATAPULT_ADDR" && TRANSPORT=(-plaintext) ;;
    *) usage_error "CATAPULT_PLAINTEXT=$CATAPULT_PLAINTEXT: want 1/true or 0/false" ;;
  esac
  if [[ -n $CATAPULT_CACERT ]]; then
    ((${#TRANSPORT[@]} == 0)) || usage_error "CATAPULT_CACERT is for TLS, but the connection is plaintext"
    TRANSPORT=(-cacert "$CATAPULT_CACERT")
  fi
}

# exit_code_for GRPC_CODE_NAME (e.g. NOT_FOUND): the documented exit code.
exit_code_for() {
  case $1 in
    NOT_FOUND) echo 3 ;;
    ALREADY_EXISTS | ABORTED) echo 4 ;;
    INVALID_ARGUMENT | FAILED_PRECONDITION | OUT_OF_RANGE) echo 5 ;;
    UNAUTHENTICATED | PERMISSION_DENIED) echo 6 ;;
    UNAVAILABLE | DEADLINE_EXCEEDED | RESOURCE_EXHAUSTED) echo 7 ;;
    *) echo 1 ;;
  esac
}

# rpc_call METHOD JSON: call catapult.v1.METHOD (e.g. ModelService/GetModelByName). Sets RPC_OUT
# to the response JSON; on an error returns 1 and sets what rpc_failure sets. A create sets
# CATAPULT_IDEMPOTENCY_KEY to its request_id for the call: sent as the idempotency-key header too,
# it lets an Envoy in front of several servers retry the create safely.
rpc_call() {
  local method=$1 data=$2 rc=0 err_file err
  RPC_OUT='' RPC_CODE='' RPC_REASON='' RPC_ERROR='' RPC_EXIT=0
  err_file=$(mktemp)
  # The key is expanded by grpcurl from its environment (single quotes on purpose), so it is
  # never a command-line argument other users could read in ps.
  # shellcheck disable=SC2016
  local headers=(-rpc-header 'x-api-key: ${CATAPULT_API_KEY}')
  # shellcheck disable=SC2016
  [[ -z ${CATAPULT_IDEMPOTENCY_KEY:-} ]] || headers+=(-rpc-header 'idempotency-key: ${CATAPULT_IDEMPOTENCY_KEY}')
  RPC_OUT=$("$GRPCURL_BIN" "${TRANSPORT[@]}" -emit-defaults \
    -connect-timeout "$CATAPULT_CONNECT_TIMEOUT" -max-time "$CATAPULT_TIMEOUT" \
    -expand-headers "${headers[@]}" \
    -d "$data" "$CATAPULT_ADDR" "catapult.v1.$method" 2>"$err_file") || rc=$?
  err=$(cat "$err_file")
  rm -f "$err_file"
  ((rc != 0)) || return 0
  rpc_failure "$rc" "$err"
  return 1
}

# rpc_failure RC STDERR: what a grpcurl call that exited with RC and printed STDERR failed with.
# Sets RPC_CODE (e.g. NOT_FOUND), RPC_REASON (the ErrorInfo reason, e.g. RESOURCE_NOT_FOUND, or
# empty), RPC_ERROR (the one line to print: "CODE (REASON): message") and RPC_EXIT (the
# documented exit code).
rpc_failure() {
  local rc=$1 err=$2 message
  RPC_CODE=$(sed -n 's/^  Code: //p' <<<"$err" | head -n 1)
  RPC_REASON=''
  if [[ -n $RPC_CODE ]]; then
    # grpcurl's "Code: NotFound" → NOT_FOUND (a case change bash's ${//} cannot express)
    # shellcheck disable=SC2001
    RPC_CODE=$(sed 's/\([a-z]\)\([A-Z]\)/\1_\2/g' <<<"$RPC_CODE" | tr '[:lower:]' '[:upper:]')
    message=$(sed -n 's/^  Message: //p' <<<"$err" | head -n 1)
    RPC_REASON=$(sed -n 's/.*"reason": "\([A-Z_]*\)".*/\1/p' <<<"$err" | head -n 1)
    case $RPC_CODE in
      UNAUTHENTICATED) message="$message (check CATAPULT_API_KEY)" ;;
      UNAVAILABLE | DEADLINE_EXCEEDED) message="$message (retry later)" ;;
    esac
    RPC_ERROR="$RPC_CODE${RPC_REASON:+ ($RPC_REASON)}: $message"
    RPC_EXIT=$(exit_code_for "$RPC_CODE")
    return 0
  fi
  err=$(tr '\n' ' ' <<<"$err" | sed 's/  */ /g; s/ $//')
  if [[ $err == *"Failed to dial target host"* ]]; then
    RPC_CODE=UNAVAILABLE RPC_EXIT=7
    RPC_ERROR="UNAVAILABLE: cannot reach Catapult at $CATAPULT_ADDR: $err (retry later)"
  elif [[ $err =~ code\ =\ Unavailable\ desc\ =\ (.*)$ ]]; then
    # Server reflection failed before the call: e.g. Envoy answering for a server that is down.
    RPC_CODE=UNAVAILABLE RPC_EXIT=7
    RPC_ERROR="UNAVAILABLE: ${BASH_REMATCH[1]} (retry later)"
  else
    RPC_CODE=UNKNOWN RPC_EXIT=1
    RPC_ERROR="grpcurl failed (exit $rc): $err"
  fi
}

# rpc METHOD JSON: rpc_call, printing the response JSON; on an error print the one line on
# stderr and exit with the documented code (from a $(…) the caller's set -e carries it on).
rpc() {
  rpc_call "$@" || fail "$RPC_EXIT" "$RPC_ERROR"
  printf '%s\n' "$RPC_OUT"
}

# find_release MODEL VERSION QUANTIZATION: print the release with exactly this quantization
# ("" is the one without) as JSON, or nothing. Fails like rpc when the call fails. An empty
# quantization is no filter to the server, so the version's releases (a handful: one page) are
# listed and the match is picked from grpcurl's output (one field a line, 6 spaces deep).
find_release() {
  local releases
  releases=$(rpc ReleaseService/ListReleases "{\"model_name\": $(json_string "$1"),
    \"version\": $(json_string "$2"), \"page_size\": 1000}")
  awk -v want="$3" '
    /^    \{$/ { buf = "{\n"; inside = 1; q = ""; next }
    inside && /^    \},?$/ { inside = 0; if (q == want) { printf "%s}\n", buf; exit } next }
    inside {
      buf = buf substr($0, 5) "\n"
      if ($0 ~ /^      "quantization": "/) { q = $0; sub(/^      "quantization": "/, "", q); sub(/",?$/, "", q) }
    }' <<<"$releases"
}

# release_quantizations MODEL VERSION: "fp16, no quantization": what the version has.
release_quantizations() {
  rpc ReleaseService/ListReleases "{\"model_name\": $(json_string "$1"),
    \"version\": $(json_string "$2"), \"page_size\": 1000}" |
    sed -n 's/^      "quantization": "\(.*\)",\{0,1\}$/\1/p' | sed 's/^$/no quantization/' |
    sort | paste -sd, - | sed 's/,/, /g'
}

# list_deployments MEMBERS PAGE_SIZE: every deployment ListDeployments returns for the request
# members MEMBERS (see json_members), all pages read, printed as one {"deployments": [...]}.
# A page's deployments are the lines between `  "deployments": [` and `  ]` in grpcurl's output;
# the pages' lines are joined into one array.
list_deployments() {
  local members=$1 page_size=$2 body='' token='' page items
  while :; do
    page=$(rpc DeploymentService/ListDeployments "{$members${members:+, }
      \"page_size\": $page_size, \"page_token\": $(json_string "$token")}")
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
}
