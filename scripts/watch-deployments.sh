#!/usr/bin/env bash
# Prints each change to deployments as it commits, one line per change, until interrupted.
set -euo pipefail

PROG=$(basename "$0")
usage() {
  cat <<EOF
Usage: $PROG [--environment E] [--endpoint URL] [--model NAME] [--company C] [--active-only]
       [--cursor C] [--count N] [--text] [...]

Prints each change to the deployments matching every option given, as it commits, in commit
order, one line per change: the ChangeEvent as one line of JSON (cursor, type: created,
updated, superseded, terminated or deleted, time, api_key_name, and the deployment after the
change), or with --text a tab-separated line: time, type, deployment id, status, environment,
cluster, endpoint, model, version, quantization, digest, cursor (- where there is none).
Runs until interrupted (Ctrl-C, SIGTERM) or --count changes are printed, then says on stderr
where it stopped and exits 0. When the stream is cut (the server restarting, a lost connection:
UNAVAILABLE; a reader too slow for the server: WATCHER_TOO_SLOW) it resumes after the last
cursor, missing nothing and printing nothing twice (also after Envoy's RST_STREAM for a server
lost mid-stream).

Options:
  --environment E       only this environment, e.g. production
  --endpoint URL        only this endpoint
  --model NAME          only deployments of this model
  --release-id ID       only deployments of this release
  --company C           only deployments of models built for this company
  --cluster C           only this Kubernetes cluster
  --namespace N         only this Kubernetes namespace
  --status S            only deployments with this status after the change
  --digest D            only releases with this image digest
  --release-status S    only releases with this status, e.g. deprecated
  --active-only         only deployments live after the change, or that stopped being live by it
  --cursor C            start after this change (a cursor printed earlier): every change since
  --count N             stop after N changes (default: run until interrupted)
  --text                tab-separated lines instead of JSON
  -h, --help            this text

Example:
  $PROG --environment production --active-only \\
    | jq -r --unbuffered '[.type, .deployment.endpoint_url, .deployment.release_version] | @tsv'
  $PROG --model llama-3-7b-companyA --text --count 1    # wait for the model's next change

$(common_usage)
CATAPULT_TIMEOUT does not apply: the stream is open for as long as the script runs.
EOF
}
# shellcheck source-path=SCRIPTDIR source=catapult-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/catapult-common.sh"

environment='' endpoint='' model='' release_id='' company='' cluster='' namespace='' status=''
digest='' release_status='' cursor='' count=0 active_only='' text=''
parse_flags "environment endpoint model release-id company cluster namespace status digest release-status cursor count" \
  "active-only text" "$@"
[[ $count =~ ^[0-9]+$ ]] || usage_error "--count $count: want a number"
catapult_setup

# grpcurl prints each message (a ChangeBatch) over many lines, one field a line, indented by two
# spaces a level: "{" and "}" alone at the start of a line bound a batch, "    {" and "    }" one
# of its events, whose fields are six spaces in and the deployment's eight. Each event is printed
# as one line, and where the stream stands (changes printed in all, the last cursor; an empty
# batch, the stream's first message or a heartbeat, moves it too) is written to STATE, for a
# resume. Exits 3 once COUNT changes are printed in all.
# shellcheck disable=SC2016
READER='
  function value(line) {
    sub(/^ *"[a-z_]+": "?/, "", line)
    sub(/"?,?$/, "", line)
    return line
  }
  function cell(v) { return v == "" ? "-" : v }
  function save(cursor) {
    print printed, cursor > state
    close(state)
  }
  /^    \{$/ { json = "{"; event = 1; deployment = 0; split("", f); next }
  /^    \},?$/ {
    event = 0
    if (text) {
      print f["time"] "\t" f["type"] "\t" cell(f["d.id"]) "\t" cell(f["d.status"]) "\t" \
        cell(f["d.environment"]) "\t" cell(f["d.cluster"]) "\t" cell(f["d.endpoint_url"]) "\t" \
        cell(f["d.model_name"]) "\t" cell(f["d.release_version"]) "\t" cell(f["d.quantization"]) "\t" \
        cell(f["d.release_digest"]) "\t" f["cursor"]
    } else {
      print json "}"
    }
    fflush()
    printed++
    save(f["cursor"])
    if (count > 0 && printed >= count) exit 3
    next
  }
  event {
    line = $0
    sub(/^ +/, "", line)
    json = json line
  }
  event && /^      "deployment": \{$/ { deployment = 1; next }
  event && /^      \}/ { deployment = 0; next }
  event && /^      "[a-z_]+": / { name = $1; gsub(/[":]/, "", name); f[name] = value($0); next }
  deployment && /^        "[a-z_]+": / { name = $1; gsub(/[":]/, "", name); f["d." name] = value($0); next }
  /^  "cursor": / { save(value($0)) }
'

# mawk reads a pipe in blocks, holding lines back until a block fills: -W interactive has it
# read line by line (gawk and BSD awk do by themselves). The version is read whole, not piped to
# `grep -q`: grep would exit at its match, and awk, cut off mid-write, would fail the pipeline
# (pipefail) now and then.
READ_LINES=()
if [[ $(awk -W version 2>&1 || true) == *[Mm][Aa][Ww][Kk]* ]]; then
  READ_LINES=(-W interactive)
fi

work=$(mktemp -d)
mkfifo "$work/stream"
grpc_pid='' reader_pid='' sleep_pid='' printed=0

# stop_stream: end grpcurl (its reader then reads to the end and exits), or the wait before a
# resume, and wait for them: nothing is left running.
stop_stream() {
  if [[ -n $sleep_pid ]]; then
    kill "$sleep_pid" 2>/dev/null || true
    wait "$sleep_pid" 2>/dev/null || true
    sleep_pid=''
  fi
  if [[ -n $grpc_pid ]]; then
    kill "$grpc_pid" 2>/dev/null || true
    wait "$grpc_pid" 2>/dev/null || true
  fi
  if [[ -n $reader_pid ]]; then
    wait "$reader_pid" 2>/dev/null || true
  fi
  grpc_pid='' reader_pid=''
}

read_state() {
  local saved_printed saved_cursor
  if [[ -s $work/state ]]; then
    read -r saved_printed saved_cursor <"$work/state" || true
    printed=${saved_printed:-$printed}
    cursor=${saved_cursor:-$cursor}
  fi
}

stopped() {
  read_state
  printf '%s: stopped after %d change(s)%s\n' "$PROG" "$printed" "${cursor:+; --cursor $cursor resumes after it}" >&2
}

trap 'stop_stream; stopped; rm -rf "$work"; exit 0' INT TERM
trap 'stop_stream; rm -rf "$work"' EXIT

# Starts the stream from $cursor in the background: grpcurl writes into a FIFO that the reader
# (awk) prints from; when the reader ends first (--count reached, stdout closed), it ends grpcurl.
start_stream() {
  local members
  members=$(json_members environment "$environment" endpoint_url "$endpoint" model_name "$model" \
    release_id "$release_id" company "$company" cluster "$cluster" k8s_namespace "$namespace" \
    status "$status" digest "$digest" release_status "$release_status" cursor "$cursor")
  [[ -z $active_only ]] || members+="${members:+, }\"active_only\": true"
  # The key is expanded by grpcurl from its environment, never an argument (see rpc_call).
  # shellcheck disable=SC2016
  "$GRPCURL_BIN" "${TRANSPORT[@]}" -emit-defaults -connect-timeout "$CATAPULT_CONNECT_TIMEOUT" \
    -expand-headers -rpc-header 'x-api-key: ${CATAPULT_API_KEY}' \
    -d "{$members}" "$CATAPULT_ADDR" catapult.v1.DeploymentService/WatchDeployments \
    >"$work/stream" 2>"$work/err" &
  grpc_pid=$!
  {
    rc=0
    awk "${READ_LINES[@]}" -v state="$work/state" -v printed="$printed" -v count="$count" -v text="$text" \
      "$READER" <"$work/stream" || rc=$?
    kill "$grpc_pid" 2>/dev/null || true
    exit "$rc"
  } &
  reader_pid=$!
}

attempt=0 streams=0
while :; do
  before="$printed $cursor"
  start_stream
  streams=$((streams + 1))
  grpc_rc=0 reader_rc=0
  wait "$grpc_pid" || grpc_rc=$?
  wait "$reader_pid" || reader_rc=$?
  grpc_pid='' reader_pid=''
  read_state
  case $reader_rc in
    0) ;;
    3)
      stopped
      exit 0
      ;;
    *) exit 0 ;; # stdout is gone (e.g. `| head -n 3` has what it wants): nothing more to print
  esac
  if ((grpc_rc == 0)); then
    why="the server ended the stream"
  else
    rpc_failure "$grpc_rc" "$(cat "$work/err")"
    case $RPC_CODE/$RPC_REASON in
      UNAVAILABLE/*)
        # A server that cannot be reached at all at the start is an error (exit 7), as for every
        # script; once watching, it is a restart or a lost connection to wait out.
        if ((streams == 1)) && [[ $RPC_ERROR == *"cannot reach Catapult"* ]]; then
          fail "$RPC_EXIT" "$RPC_ERROR"
        fi
        ;;
      INTERNAL/)
        # Envoy resets the stream when it loses the server mid-stream (a crash, a cut
        # connection); the server's own INTERNAL errors carry a reason.
        [[ $RPC_ERROR == *RST_STREAM* ]] || fail "$RPC_EXIT" "$RPC_ERROR"
        ;;
      RESOURCE_EXHAUSTED/WATCHER_TOO_SLOW)
        resume_at=$(sed -n 's/.*"cursor": "\([^"]*\)".*/\1/p' "$work/err" | head -n 1)
        cursor=${resume_at:-$cursor}
        ;;
      *) fail "$RPC_EXIT" "$RPC_ERROR" ;;
    esac
    why=${RPC_ERROR% (retry later)}
  fi
  # The backoff starts over after a stream that delivered something; each wait is 250 ms
  # doubling up to 5 s, a random half to all of it.
  if [[ "$printed $cursor" != "$before" ]]; then
    attempt=0
  fi
  attempt=$((attempt + 1))
  ceiling=250
  for ((i = 1; i < attempt && ceiling < 5000; i++)); do ceiling=$((ceiling * 2)); done
  ((ceiling <= 5000)) || ceiling=5000
  wait_ms=$((ceiling / 2 + RANDOM % (ceiling / 2 + 1)))
  delay=$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))
  printf '%s: %s; resuming%s in %s s\n' "$PROG" "$why" "${cursor:+ after cursor $cursor}" "$delay" >&2
  sleep "$delay" &
  sleep_pid=$!
  wait "$sleep_pid" || true
  sleep_pid=''
done
