// Command catapult-deploy records releases and deployments in Catapult from a CI or deploy job.
//
// Usage:
//
//	catapult-deploy release   --model M --version V [--quantization Q] [--tag T] [--digest D] …
//	catapult-deploy deploy    --model M --version V [--quantization Q] --environment E --endpoint URL …
//	catapult-deploy terminate --id ID | --environment E --endpoint URL
//	catapult-deploy latest    --model M [--quantization Q] [--environment E]
//	catapult-deploy live      [--environment E] [--endpoint URL] [--at TIME] [--model M] [--digest D] …
//	catapult-deploy history   --environment E --endpoint URL
//	catapult-deploy rollout   --model M
//	catapult-deploy watch     [--environment E] [--endpoint URL] [--model M] [--active-only] [--cursor C] …
//
// The server and key come from --addr and --api-key, or CATAPULT_ADDR (default
// localhost:50051) and CATAPULT_API_KEY. Loopback addresses are reached in plaintext and
// everything else with TLS; --plaintext, --tls or CATAPULT_PLAINTEXT choose explicitly, and
// --ca-file or CATAPULT_CACERT names the CA to verify the server with.
//
// On success the command prints the id of what it recorded, terminated or found on stdout
// (--output json prints the whole record, --output version a release's version; live, history
// and rollout print a table) and one line saying what it did on stderr. watch prints a line per
// change to the deployments it watches (--output json: a JSON object per line) until it is
// interrupted (Ctrl-C, SIGTERM), --count changes have come or --timeout passes, all of which
// exit 0; it resumes by itself after a server restart or a lost connection. deploy's line says what
// the deployment superseded: "…; superseded ID (1.0.0 fp16)" or "…; nothing was live there".
// On failure it prints one line on stderr,
// "catapult-deploy: CODE (REASON): message", and exits with:
//
//	0  success
//	1  an unexpected error (INTERNAL, UNKNOWN, …)
//	2  bad usage: unknown or missing flags, no API key
//	3  NOT_FOUND: the model, release or deployment does not exist
//	4  conflict: ALREADY_EXISTS (the release exists with other values), ABORTED, or a deploy
//	   whose request_id names a deployment terminated since (pass --run-id)
//	5  rejected: INVALID_ARGUMENT or FAILED_PRECONDITION (e.g. RELEASE_DEPRECATED: --force)
//	6  UNAUTHENTICATED or PERMISSION_DENIED: check the API key and its role
//	7  UNAVAILABLE or DEADLINE_EXCEEDED: the server or its database cannot be reached; retry
//
// Retrying is safe: release and deploy send a request_id derived from their flags, so running
// the same command again returns the record the first run made instead of failing or recording
// it twice; --request-id sets the id outright. A release that exists already with the values
// given (recorded some other way) is found, not an error; with other values (another digest)
// it is a conflict. A deploy's id also includes --run-id (CATAPULT_RUN_ID): pass the CI run's
// id so that a later pipeline deploying the same release to the same endpoint records a new
// deployment. terminate is retry-safe by nature.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

const name = "catapult-deploy"

// Exit codes; the package comment is their documentation.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotFound    = 3
	exitConflict    = 4
	exitRejected    = 5
	exitAuth        = 6
	exitUnavailable = 7
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `catapult-deploy records releases and deployments in Catapult from CI.

Usage:
  catapult-deploy release   --model M --version V [--quantization Q] [--tag T] [--digest D] [...]
  catapult-deploy deploy    --model M --version V [--quantization Q] --environment E --endpoint URL [...]
  catapult-deploy terminate --id ID | --environment E --endpoint URL
  catapult-deploy latest    --model M [--quantization Q] [--environment E]
  catapult-deploy live      [--environment E] [--endpoint URL] [--at TIME] [--model M] [--company C]
                            [--digest D] [--artifact-checksum SUM] [--release-status deprecated]
  catapult-deploy history   --environment E --endpoint URL
  catapult-deploy rollout   --model M
  catapult-deploy watch     [--environment E] [--endpoint URL] [--model M] [--company C]
                            [--active-only] [--cursor C] [--count N] [...]

A deployment is live while its status is success, the default. It supersedes what was live
in its slot (the environment and endpoint): deploy says what, history lists the chain,
rollout shows where a model is live, and live --at TIME what was live at a past moment.
watch prints each change to deployments as it happens.

"catapult-deploy COMMAND -h" lists a command's flags. Every command takes
  --addr HOST:PORT   (CATAPULT_ADDR, default localhost:50051)
  --api-key KEY      (CATAPULT_API_KEY; prefer the variable: flags show in ps)
  --plaintext/--tls  (CATAPULT_PLAINTEXT=1/0; default: plaintext for loopback addresses only)
  --ca-file PEM      (CATAPULT_CACERT)
  --output id|json   what to print on stdout (latest also takes "version"; live, history and
                     rollout print a table by default, watch a line per change)
  --timeout 60s      (watch: none; it runs until interrupted)

release and deploy are retry-safe: the request_id is derived from their flags (for deploy
also --run-id, CATAPULT_RUN_ID: pass your CI run id), or set with --request-id. A release
that exists with the values given is found, not an error.

Exit codes:
  0 ok  1 unexpected error  2 bad usage  3 NOT_FOUND  4 conflict (ALREADY_EXISTS, ABORTED)
  5 rejected (INVALID_ARGUMENT, FAILED_PRECONDITION)  6 UNAUTHENTICATED / PERMISSION_DENIED
  7 UNAVAILABLE / DEADLINE_EXCEEDED (retry later)
`

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// conflictError is a conflict the command detects itself (exit 4).
type conflictError struct{ msg string }

func (e conflictError) Error() string { return e.msg }

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmdName, args := args[0], args[1:]
	if cmdName == "-h" || cmdName == "--help" || cmdName == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[cmdName]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q (%s; -h for help)\n", name, cmdName, strings.Join(commandNames, ", "))
		return exitUsage
	}
	inv := &invocation{stdout: stdout, stderr: stderr, getenv: getenv}
	fs := flag.NewFlagSet(name+" "+cmdName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	inv.commonFlags(fs)
	cmd.flags(inv, fs)
	if cmd.endless {
		timeout := fs.Lookup("timeout")
		timeout.Usage = "stop after this long (default: run until interrupted)"
		timeout.DefValue = "0s"
		inv.timeout = 0
	}
	printUsage := func(w io.Writer) {
		fs.SetOutput(w)
		fmt.Fprintf(w, "Usage: %s %s %s\n\n%s\n\nFlags:\n", name, cmdName, cmd.synopsis, cmd.help)
		fs.PrintDefaults()
	}
	// flag would print the usage on -h too, to stderr: it is printed below, once, to stdout
	// when asked for and to stderr after flag's one-line complaint.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		printUsage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s %s: unexpected argument %q (flags only)\n", name, cmdName, fs.Arg(0))
		return exitUsage
	}
	inv.setFlags = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { inv.setFlags[f.Name] = true })

	err := inv.validate(cmdName)
	if err == nil {
		err = cmd.validate(inv)
	}
	if err == nil {
		err = inv.connectAndRun(ctx, cmd.run)
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintf(stderr, "%s %s: %s\n", name, cmdName, describe(err, inv.addr))
	return code
}

// invocation holds the parsed flags and the connection of one run.
type invocation struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	setFlags       map[string]bool

	addr, apiKey, caFile, output string
	plaintext, tls               bool
	timeout                      time.Duration
	requestID, runID             string

	model, version, quantization, releaseID             string
	tag, digest, platform, architecture, os, notes      string
	sizeBytes                                           int64
	environment, endpoint, cluster, namespace, deployID string
	replicas                                            int
	deployStatus                                        string
	force                                               bool
	company, artifactChecksum, releaseStatus, at        string
	moment                                              time.Time
	cursor                                              string
	activeOnly                                          bool
	count                                               int

	client *catapult.Client
}

func (inv *invocation) commonFlags(fs *flag.FlagSet) {
	addr := inv.getenv(catapult.EnvAddr)
	if addr == "" {
		addr = catapult.DefaultAddr
	}
	fs.StringVar(&inv.addr, "addr", addr, "Catapult's gRPC address (CATAPULT_ADDR)")
	// The key's default is not shown (it is a secret): it is read after parsing.
	fs.StringVar(&inv.apiKey, "api-key", "", "API key (default $CATAPULT_API_KEY)")
	fs.BoolVar(&inv.plaintext, "plaintext", false, "connect without TLS (CATAPULT_PLAINTEXT=1)")
	fs.BoolVar(&inv.tls, "tls", false, "connect with TLS even to a loopback address (CATAPULT_PLAINTEXT=0)")
	fs.StringVar(&inv.caFile, "ca-file", inv.getenv(catapult.EnvCACert), "PEM file of the CA that signed the server's certificate (CATAPULT_CACERT)")
	fs.StringVar(&inv.output, "output", "", "what to print on stdout: id or json (default: id; a table for live, history, rollout;\n"+
		"a line per change for watch)")
	fs.DurationVar(&inv.timeout, "timeout", 60*time.Second, "give up after this long")
}

func (inv *invocation) requestIDFlag(fs *flag.FlagSet, derivedFrom string) {
	fs.StringVar(&inv.requestID, "request-id", "", "request_id to send (default: derived from "+derivedFrom+")")
}

func (inv *invocation) releaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&inv.model, "model", "", "model name (required)")
	fs.StringVar(&inv.version, "version", "", "release version, e.g. 1.0.0 (required)")
	fs.StringVar(&inv.quantization, "quantization", "", "release quantization: fp32, bf16, fp16, fp8, int8, int4 or empty")
}

// deploymentFilterFlags are the filters live and watch share.
func (inv *invocation) deploymentFilterFlags(fs *flag.FlagSet) {
	fs.StringVar(&inv.environment, "environment", "", "only this environment, e.g. production (default: all)")
	fs.StringVar(&inv.endpoint, "endpoint", "", "only this endpoint URL")
	fs.StringVar(&inv.model, "model", "", "only this model (its name)")
	fs.StringVar(&inv.company, "company", "", "only models built for this company")
	fs.StringVar(&inv.digest, "digest", "", "only releases with this image digest: where an image is served")
	fs.StringVar(&inv.releaseStatus, "release-status", "", "only releases with this status, e.g. deprecated")
}

func (inv *invocation) validate(cmdName string) error {
	if inv.apiKey == "" {
		inv.apiKey = inv.getenv(catapult.EnvAPIKey)
	}
	if inv.apiKey == "" {
		return usagef("no API key: set CATAPULT_API_KEY (or pass --api-key)")
	}
	if inv.plaintext && inv.tls {
		return usagef("--plaintext and --tls contradict each other")
	}
	switch inv.output {
	case "", "id", "json":
	case "version":
		if cmdName != "latest" {
			return usagef("--output version is for latest only")
		}
	case "table":
		if !commands[cmdName].lists {
			return usagef("--output table is for live, history, rollout and watch only")
		}
	default:
		return usagef("--output %q: want id or json", inv.output)
	}
	return nil
}

func (inv *invocation) connectAndRun(ctx context.Context, fn func(context.Context, *invocation) error) error {
	if inv.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, inv.timeout)
		defer cancel()
	}
	plaintext := inv.getenv(catapult.EnvPlaintext)
	switch {
	case inv.plaintext:
		plaintext = "1"
	case inv.tls:
		plaintext = "0"
	}
	opts, err := catapult.TransportOptions(plaintext, inv.caFile)
	if err != nil {
		return usageError{err.Error()}
	}
	opts = append(opts, catapult.WithAPIKey(inv.apiKey), catapult.WithUserAgent(name))
	client, err := catapult.Dial(ctx, inv.addr, opts...)
	if err != nil {
		return err
	}
	defer client.Close()
	inv.client = client
	return fn(ctx, inv)
}

// say prints the one line a CI log reader sees.
func (inv *invocation) say(format string, args ...any) {
	fmt.Fprintf(inv.stderr, name+": "+format+"\n", args...)
}

// print writes a record to stdout: its id, or all of it as JSON.
func (inv *invocation) print(id string, msg proto.Message) error {
	if inv.output == "json" {
		return writeJSON(inv.stdout, msg)
	}
	_, err := fmt.Fprintln(inv.stdout, id)
	return err
}

var jsonOptions = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// writeJSON prints msg as the JSON the scripts and grpcurl -emit-defaults print.
func writeJSON(w io.Writer, msg proto.Message) error {
	raw, err := jsonOptions.Marshal(msg)
	if err != nil {
		return err
	}
	return writeIndented(w, raw)
}

// writeDeploymentJSON prints d as writeJSON does, with one key more, as
// scripts/record-deployment.sh does: "superseded", the deployment d superseded, or null.
func writeDeploymentJSON(w io.Writer, d, superseded *catapultv1.Deployment) error {
	raw, err := jsonOptions.Marshal(d)
	if err != nil {
		return err
	}
	old := []byte("null")
	if superseded != nil {
		if old, err = jsonOptions.Marshal(superseded); err != nil {
			return err
		}
	}
	// A JSON object ends with its closing brace (protojson may add spaces, never after it).
	raw = bytes.TrimSuffix(bytes.TrimSpace(raw), []byte("}"))
	raw = append(append(append(raw, `,"superseded":`...), old...), '}')
	return writeIndented(w, raw)
}

func writeIndented(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

type command struct {
	synopsis, help string
	flags          func(*invocation, *flag.FlagSet)
	validate       func(*invocation) error
	run            func(context.Context, *invocation) error
	lists          bool // prints a table by default (--output table)
	endless        bool // runs until interrupted: no --timeout unless one is given
}

// commandNames is the order the usage lists the commands in.
var commandNames = []string{"release", "deploy", "terminate", "latest", "live", "history", "rollout", "watch"}

var commands = map[string]command{
	"release": {
		synopsis: "--model M --version V [--quantization Q] [--tag T] [--digest D] [flags]",
		help:     "Records a release (a Docker image of a model at one version and quantization) and prints its id.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			inv.releaseFlags(fs)
			fs.StringVar(&inv.tag, "tag", "", "Docker tag, e.g. v1.0-fp16")
			fs.StringVar(&inv.digest, "digest", "", "Docker image digest, sha256:…")
			fs.StringVar(&inv.platform, "platform", "", "e.g. linux/amd64")
			fs.StringVar(&inv.architecture, "architecture", "", "e.g. amd64")
			fs.StringVar(&inv.os, "os", "", "e.g. linux")
			fs.Int64Var(&inv.sizeBytes, "size-bytes", 0, "image size in bytes")
			fs.StringVar(&inv.notes, "notes", "", "release notes")
			inv.requestIDFlag(fs, "the flags")
		},
		validate: func(inv *invocation) error { return required(inv, "model", "version") },
		run:      runRelease,
	},
	"deploy": {
		synopsis: "--model M --version V [--quantization Q] --environment E --endpoint URL [flags]",
		help: "Records that a release runs in an environment at an endpoint, and prints the deployment's id.\n" +
			"The release is found by model name, version and quantization (or given with --release-id).\n" +
			"Recorded live (the default status), it supersedes the deployment live at the endpoint in the\n" +
			"environment, which is terminated. stderr says which: \"…; superseded ID (1.0.0 fp16)\" or\n" +
			"\"…; nothing was live there\"; --output json adds it to the deployment as \"superseded\" (or null).",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			inv.releaseFlags(fs)
			fs.StringVar(&inv.releaseID, "release-id", "", "the release's id, instead of --model/--version/--quantization")
			fs.StringVar(&inv.environment, "environment", "", "production, staging or development (required)")
			fs.StringVar(&inv.endpoint, "endpoint", "", "the live endpoint URL (required)")
			fs.StringVar(&inv.cluster, "cluster", "", "Kubernetes cluster")
			fs.StringVar(&inv.namespace, "namespace", "", "Kubernetes namespace")
			fs.IntVar(&inv.replicas, "replicas", 0, "number of replicas")
			fs.StringVar(&inv.deployStatus, "status", "", "deploying, success or failed (default: the server's, success: live at once,\n"+
				"superseding what was live there); deploying is live only once updated to success")
			fs.BoolVar(&inv.force, "force", false, "record it even though the release is deprecated")
			fs.StringVar(&inv.runID, "run-id", inv.getenv("CATAPULT_RUN_ID"), "id of the CI run, part of the derived request_id (CATAPULT_RUN_ID)")
			inv.requestIDFlag(fs, "the flags and --run-id")
		},
		validate: func(inv *invocation) error {
			if inv.releaseID == "" {
				if err := required(inv, "model", "version"); err != nil {
					return usagef("%v (or pass --release-id)", err)
				}
			} else if inv.model != "" || inv.version != "" || inv.quantization != "" {
				return usagef("--release-id names the release: drop --model, --version and --quantization")
			}
			if inv.replicas < 0 || inv.replicas > 1<<31-1 {
				return usagef("--replicas %d: want 0 or more", inv.replicas)
			}
			return required(inv, "environment", "endpoint")
		},
		run: runDeploy,
	},
	"terminate": {
		synopsis: "--id ID | --environment E --endpoint URL",
		help: "Marks a deployment terminated (the record is kept), or every deployment that is not yet\n" +
			"terminated in an environment at an endpoint, and prints their ids. Terminating again is not an error.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			fs.StringVar(&inv.deployID, "id", "", "the deployment's id")
			fs.StringVar(&inv.environment, "environment", "", "with --endpoint: terminate what is live there")
			fs.StringVar(&inv.endpoint, "endpoint", "", "with --environment: terminate what is live there")
		},
		validate: func(inv *invocation) error {
			switch {
			case inv.deployID != "" && (inv.environment != "" || inv.endpoint != ""):
				return usagef("give --id, or --environment and --endpoint, not both")
			case inv.deployID != "":
				return nil
			case inv.environment == "" && inv.endpoint == "":
				return usagef("give --id, or --environment and --endpoint")
			}
			return required(inv, "environment", "endpoint")
		},
		run: runTerminate,
	},
	"latest": {
		synopsis: "--model M [--quantization Q] [--environment E]",
		help:     "Prints the newest release of a model, optionally of one quantization or live in an environment.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			fs.StringVar(&inv.model, "model", "", "model name (required)")
			fs.StringVar(&inv.quantization, "quantization", "", "only releases of this quantization")
			fs.StringVar(&inv.environment, "environment", "", "only releases live (deployed successfully, not terminated) here")
		},
		validate: func(inv *invocation) error { return required(inv, "model") },
		run:      runLatest,
	},
	"live": {
		synopsis: "[--environment E] [--endpoint URL] [--at TIME] [--model M] [--company C] [--digest D] [...]",
		help: "Lists what is live now (status success: neither superseded nor terminated), or with --at\n" +
			"what was live at that moment, one deployment a line: endpoint, model, version,\n" +
			"quantization, company, deployment id (tab-separated). Every filter given must match.\n" +
			"--output json prints {\"deployments\": [...]}, like scripts/live-endpoints.sh.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			inv.deploymentFilterFlags(fs)
			fs.StringVar(&inv.at, "at", "", "what was live at this moment, RFC 3339, e.g. 2026-11-17T14:00:00Z (default: now)")
			fs.StringVar(&inv.artifactChecksum, "artifact-checksum", "", "only releases carrying an artifact with this checksum")
		},
		validate: func(inv *invocation) error {
			if inv.at == "" {
				return nil
			}
			moment, err := time.Parse(time.RFC3339Nano, inv.at)
			if err != nil {
				return usagef("--at %q: want an RFC 3339 time such as 2026-11-17T14:00:00Z", inv.at)
			}
			inv.moment = moment
			return nil
		},
		run:   runLive,
		lists: true,
	},
	"history": {
		synopsis: "--environment E --endpoint URL",
		help: "Lists every deployment recorded at an endpoint, newest first, one a line: live since,\n" +
			"terminated at, status, model, version, quantization, deployment id, the id it replaced,\n" +
			"the id that superseded it (tab-separated; - where there is none).\n" +
			"--output json prints {\"deployments\": [...]}, like scripts/endpoint-history.sh.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			fs.StringVar(&inv.environment, "environment", "", "the environment, e.g. production (required)")
			fs.StringVar(&inv.endpoint, "endpoint", "", "the endpoint URL (required)")
		},
		validate: func(inv *invocation) error { return required(inv, "environment", "endpoint") },
		run:      runHistory,
		lists:    true,
	},
	"rollout": {
		synopsis: "--model M",
		help: "Shows where a model is live: per environment, each live deployment, one a line:\n" +
			"environment, endpoint, version, quantization, cluster, namespace, live since, deployment id\n" +
			"(tab-separated; - where there is none). --output json prints the ModelRollout, like\n" +
			"scripts/rollout.sh.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			fs.StringVar(&inv.model, "model", "", "the model's name, or its id (required)")
		},
		validate: func(inv *invocation) error { return required(inv, "model") },
		run:      runRollout,
		lists:    true,
	},
	"watch": {
		synopsis: "[--environment E] [--endpoint URL] [--model M] [--company C] [--active-only] [--cursor C] [...]",
		help: "Prints each change to the deployments matching every filter given, as it commits, one a line:\n" +
			"time, change (created, updated, superseded, terminated, deleted), deployment id, status,\n" +
			"environment, cluster, endpoint, model, version, quantization, digest, cursor (tab-separated;\n" +
			"- where there is none). --output json prints each change as one JSON object a line (the\n" +
			"ChangeEvent: cursor, type, time, api_key_name, deployment), --output id the deployment's id.\n" +
			"It runs until interrupted (Ctrl-C, SIGTERM), --count changes have come or --timeout passes\n" +
			"(exit 0), and says on stderr where it stopped: --cursor CURSOR resumes after it. A server\n" +
			"restart or a lost connection is resumed from the last cursor, missing nothing.",
		flags: func(inv *invocation, fs *flag.FlagSet) {
			inv.deploymentFilterFlags(fs)
			fs.StringVar(&inv.releaseID, "release-id", "", "only this release (its id)")
			fs.StringVar(&inv.cluster, "cluster", "", "only this Kubernetes cluster")
			fs.StringVar(&inv.namespace, "namespace", "", "only this Kubernetes namespace")
			fs.StringVar(&inv.deployStatus, "status", "", "only deployments with this status after the change: deploying, success, failed, terminated")
			fs.BoolVar(&inv.activeOnly, "active-only", false, "only deployments live after the change, or that stopped being live by it")
			fs.StringVar(&inv.cursor, "cursor", "", "start after this change (a cursor printed earlier): every change since, none twice")
			fs.IntVar(&inv.count, "count", 0, "stop after this many changes (default: run until interrupted)")
		},
		validate: func(inv *invocation) error {
			if inv.count < 0 {
				return usagef("--count %d: want 0 or more", inv.count)
			}
			return nil
		},
		run:     runWatch,
		lists:   true,
		endless: true,
	},
}

// required fails for each named flag that is empty.
func required(inv *invocation, flags ...string) error {
	values := map[string]string{
		"model": inv.model, "version": inv.version, "environment": inv.environment, "endpoint": inv.endpoint,
	}
	var missing []string
	for _, f := range flags {
		if values[f] == "" {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// derivedRequestID is --request-id, or one derived from every input: the same command line
// always maps to the same record. scripts/ derives the same id from the same inputs (see
// catapult.RequestID).
func (inv *invocation) derivedRequestID(kind string, parts ...string) string {
	if inv.requestID != "" {
		return inv.requestID
	}
	return catapult.RequestID(kind, parts...)
}

func runRelease(ctx context.Context, inv *invocation) error {
	size := strconv.FormatInt(inv.sizeBytes, 10)
	spec := catapult.ReleaseSpec{
		Model: inv.model, Version: inv.version, Quantization: inv.quantization,
		Tag: inv.tag, Digest: inv.digest, Platform: inv.platform, Architecture: inv.architecture,
		OS: inv.os, SizeBytes: inv.sizeBytes, ReleaseNotes: inv.notes,
		RequestID: inv.derivedRequestID("release", inv.model, inv.version, inv.quantization, inv.tag,
			inv.digest, inv.platform, inv.architecture, inv.os, size, inv.notes),
	}
	r, err := inv.client.RecordRelease(ctx, spec)
	verb := "recorded"
	if catapult.IsAlreadyExists(err) {
		// Recorded before without this request_id (by hand, another tool): fine if it has the
		// values given, a conflict if not (another digest under the same version, say).
		existing, resolveErr := inv.client.ResolveRelease(ctx, inv.model, inv.version, inv.quantization)
		if resolveErr != nil {
			return err
		}
		if differences := releaseDifferences(existing, spec); differences != "" {
			return conflictError{fmt.Sprintf("%s; release %s has %s", describe(err, inv.addr), existing.GetId(), differences)}
		}
		r, err, verb = existing, nil, "found"
	}
	if err != nil {
		return err
	}
	inv.say("%s release %s: %s %s%s%s", verb, r.GetId(), r.GetModelName(), r.GetVersion(),
		quantizationSuffix(r.GetQuantization()), tagSuffix(r.GetTag()))
	return inv.print(r.GetId(), r)
}

// releaseDifferences lists the values given for a release that an existing one does not have.
func releaseDifferences(r *catapultv1.Release, spec catapult.ReleaseSpec) string {
	var out []string
	for _, f := range []struct{ name, have, given string }{
		{"tag", r.GetTag(), spec.Tag},
		{"digest", r.GetDigest(), spec.Digest},
		{"platform", r.GetPlatform(), spec.Platform},
		{"architecture", r.GetArchitecture(), spec.Architecture},
		{"os", r.GetOs(), spec.OS},
		{"release_notes", r.GetReleaseNotes(), spec.ReleaseNotes},
	} {
		if f.given != "" && f.given != f.have {
			out = append(out, fmt.Sprintf("%s %q, not %q", f.name, f.have, f.given))
		}
	}
	if spec.SizeBytes != 0 && spec.SizeBytes != r.GetSizeBytes() {
		out = append(out, fmt.Sprintf("size_bytes %d, not %d", r.GetSizeBytes(), spec.SizeBytes))
	}
	return strings.Join(out, ", ")
}

func runDeploy(ctx context.Context, inv *invocation) error {
	spec := catapult.DeploymentSpec{
		Model: inv.model, Version: inv.version, Quantization: inv.quantization, ReleaseID: inv.releaseID,
		Environment: inv.environment, EndpointURL: inv.endpoint, Cluster: inv.cluster,
		Namespace: inv.namespace, Replicas: int32(inv.replicas), Status: inv.deployStatus, Force: inv.force,
		RequestID: inv.derivedRequestID("deployment", inv.model, inv.version, inv.quantization, inv.releaseID,
			inv.environment, inv.endpoint, inv.cluster, inv.namespace, strconv.Itoa(inv.replicas), inv.deployStatus,
			inv.runID),
	}
	d, err := inv.client.RecordDeployment(ctx, spec)
	if err != nil {
		return err
	}
	if d.GetStatus() == catapult.StatusTerminated && inv.deployStatus != catapult.StatusTerminated {
		// The request_id matched a deployment recorded earlier that has been terminated since:
		// this is a new deployment of the same release at the same place, not a retry.
		return conflictError{fmt.Sprintf("request_id %s already recorded deployment %s, terminated at %s; "+
			"to record a new deployment pass --run-id (your CI run id) or --request-id",
			spec.RequestID, d.GetId(), d.GetTerminatedAt().AsTime().Format(time.RFC3339))}
	}
	superseded, err := inv.client.Replaced(ctx, d)
	if err != nil {
		// The deployment is recorded; running the command again returns it (same request_id).
		return fmt.Errorf("recorded deployment %s, but reading what it superseded failed: %w", d.GetId(), err)
	}
	inv.say("recorded deployment %s: %s in %s at %s (%s); %s", d.GetId(), releaseName(d, ""),
		d.GetEnvironment(), d.GetEndpointUrl(), d.GetStatus(), supersededPhrase(d, superseded))
	if inv.output == "json" {
		return writeDeploymentJSON(inv.stdout, d, superseded)
	}
	return inv.print(d.GetId(), d)
}

// supersededPhrase says what d superseded when it became live.
func supersededPhrase(d, superseded *catapultv1.Deployment) string {
	switch {
	case superseded != nil:
		return fmt.Sprintf("superseded %s (%s)", superseded.GetId(), releaseName(superseded, d.GetModelName()))
	case d.GetLiveSince() == nil:
		return fmt.Sprintf("not live while %s, so it superseded nothing", d.GetStatus())
	}
	return "nothing was live there"
}

// releaseName is "1.0.0 fp16": d's release version and quantization, after its model's name
// unless that is sameModel.
func releaseName(d *catapultv1.Deployment, sameModel string) string {
	out := d.GetReleaseVersion() + quantizationSuffix(d.GetQuantization())
	if d.GetModelName() != sameModel {
		out = d.GetModelName() + " " + out
	}
	return out
}

func runTerminate(ctx context.Context, inv *invocation) error {
	var terminated []*catapultv1.Deployment
	if inv.deployID != "" {
		d, err := inv.client.TerminateDeployment(ctx, inv.deployID)
		if err != nil {
			return err
		}
		terminated = append(terminated, d)
	} else {
		var err error
		terminated, err = inv.client.TerminateAt(ctx, inv.environment, inv.endpoint)
		if err != nil {
			return err
		}
		if len(terminated) == 0 {
			inv.say("nothing to terminate: every deployment in %s at %s already is", inv.environment, inv.endpoint)
			if inv.output == "json" {
				return writeJSON(inv.stdout, &catapultv1.ListDeploymentsResponse{})
			}
			return nil
		}
	}
	for _, d := range terminated {
		inv.say("terminated deployment %s: %s %s%s in %s at %s", d.GetId(), d.GetModelName(), d.GetReleaseVersion(),
			quantizationSuffix(d.GetQuantization()), d.GetEnvironment(), d.GetEndpointUrl())
	}
	if inv.output == "json" {
		if inv.deployID != "" {
			return writeJSON(inv.stdout, terminated[0])
		}
		return writeJSON(inv.stdout, &catapultv1.ListDeploymentsResponse{Deployments: terminated})
	}
	for _, d := range terminated {
		fmt.Fprintln(inv.stdout, d.GetId())
	}
	return nil
}

func runLatest(ctx context.Context, inv *invocation) error {
	r, err := inv.client.LatestRelease(ctx, inv.model, catapult.LatestOptions{
		Quantization: inv.quantization, Environment: inv.environment,
	})
	if err != nil {
		return err
	}
	where := ""
	if inv.environment != "" {
		where = " live in " + inv.environment
	}
	inv.say("latest release%s of %s: %s %s%s%s", where, r.GetModelName(), r.GetId(), r.GetVersion(),
		quantizationSuffix(r.GetQuantization()), tagSuffix(r.GetTag()))
	if inv.output == "version" {
		_, err := fmt.Fprintln(inv.stdout, r.GetVersion())
		return err
	}
	return inv.print(r.GetId(), r)
}

func runLive(ctx context.Context, inv *invocation) error {
	filter := catapult.DeploymentFilter{
		Environment: inv.environment, EndpointURL: inv.endpoint, Model: inv.model, Company: inv.company,
		Digest: inv.digest, ArtifactChecksum: inv.artifactChecksum, ReleaseStatus: inv.releaseStatus,
	}
	var live []*catapultv1.Deployment
	var err error
	if inv.moment.IsZero() {
		filter.ActiveOnly = true
		live, err = inv.client.FindDeployments(ctx, filter)
	} else {
		live, err = inv.client.LiveAt(ctx, inv.moment, filter)
	}
	if err != nil {
		return err
	}
	where := "anywhere"
	if inv.environment != "" {
		where = "in " + inv.environment
	}
	if inv.endpoint != "" {
		where += " at " + inv.endpoint
	}
	if inv.moment.IsZero() {
		inv.say("%d deployment(s) live %s", len(live), where)
	} else {
		inv.say("%d deployment(s) were live %s on %s", len(live), where, formatTime(timestamppb.New(inv.moment)))
	}
	return inv.printDeployments(live, func(d *catapultv1.Deployment) []string {
		return []string{d.GetEndpointUrl(), d.GetModelName(), d.GetReleaseVersion(), d.GetQuantization(), d.GetCompany(), d.GetId()}
	})
}

func runHistory(ctx context.Context, inv *invocation) error {
	history, err := inv.client.EndpointHistory(ctx, inv.environment, inv.endpoint)
	if err != nil {
		return err
	}
	now := "none live now"
	for _, d := range history {
		if d.GetStatus() == catapult.StatusSuccess {
			now = fmt.Sprintf("live now: %s (%s)", d.GetId(), releaseName(d, ""))
		}
	}
	inv.say("%d deployment(s) recorded in %s at %s; %s", len(history), inv.environment, inv.endpoint, now)
	return inv.printDeployments(history, func(d *catapultv1.Deployment) []string {
		return []string{formatTime(d.GetLiveSince()), formatTime(d.GetTerminatedAt()), d.GetStatus(),
			d.GetModelName(), d.GetReleaseVersion(), d.GetQuantization(), d.GetId(), d.GetReplacesId(), d.GetSupersededById()}
	})
}

func runRollout(ctx context.Context, inv *invocation) error {
	rollout, err := inv.client.ModelRollout(ctx, inv.model)
	if err != nil {
		return err
	}
	var perEnvironment []string
	var live []*catapultv1.Deployment
	for _, e := range rollout.GetEnvironments() {
		perEnvironment = append(perEnvironment, fmt.Sprintf("%s (%d)", e.GetEnvironment(), len(e.GetLive())))
		live = append(live, e.GetLive()...)
	}
	if len(perEnvironment) == 0 {
		inv.say("%s is live nowhere", rollout.GetModelName())
	} else {
		inv.say("%s is live in %d environment(s): %s", rollout.GetModelName(), len(perEnvironment), strings.Join(perEnvironment, ", "))
	}
	if inv.output == "json" {
		return writeJSON(inv.stdout, rollout)
	}
	return inv.printDeployments(live, func(d *catapultv1.Deployment) []string {
		return []string{d.GetEnvironment(), d.GetEndpointUrl(), d.GetReleaseVersion(), d.GetQuantization(),
			d.GetCluster(), d.GetK8SNamespace(), formatTime(d.GetLiveSince()), d.GetId()}
	})
}

// printDeployments prints a listing: {"deployments": [...]} for --output json, ids for --output
// id, else a table of the columns row gives, tab-separated, "-" for an empty cell.
func (inv *invocation) printDeployments(ds []*catapultv1.Deployment, row func(*catapultv1.Deployment) []string) error {
	switch inv.output {
	case "json":
		return writeJSON(inv.stdout, &catapultv1.ListDeploymentsResponse{Deployments: ds})
	case "id":
		for _, d := range ds {
			fmt.Fprintln(inv.stdout, d.GetId())
		}
		return nil
	}
	for _, d := range ds {
		cells := row(d)
		for i, c := range cells {
			if c == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(inv.stdout, strings.Join(cells, "\t"))
	}
	return nil
}

// timeLayout is RFC 3339 in UTC to the microsecond, the precision the server keeps: a boundary
// read from history can be passed to --at exactly, and the columns of a table line up.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// formatTime prints a timestamp in timeLayout; "" for none.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(timeLayout)
}

func quantizationSuffix(q string) string {
	if q == "" {
		return ""
	}
	return " " + q
}

func tagSuffix(tag string) string {
	if tag == "" {
		return ""
	}
	return " (tag " + tag + ")"
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var usage usageError
	var conflict conflictError
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &conflict):
		return exitConflict
	}
	switch catapult.Code(err) {
	case codes.NotFound:
		return exitNotFound
	case codes.AlreadyExists, codes.Aborted:
		return exitConflict
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return exitRejected
	case codes.Unauthenticated, codes.PermissionDenied:
		return exitAuth
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return exitUnavailable
	}
	return exitError
}

// describe renders err as the one line a CI log shows: "CODE (REASON): message", with a hint.
func describe(err error, addr string) string {
	var grpcErr interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &grpcErr) {
		return err.Error()
	}
	st := grpcErr.GRPCStatus()
	head := upperSnake(st.Code().String())
	if reason := catapult.Reason(err); reason != "" {
		head += " (" + reason + ")"
	}
	msg := strings.Join(strings.Fields(st.Message()), " ") // one line
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		if catapult.Reason(err) == "" {
			msg = fmt.Sprintf("cannot reach Catapult at %s: %s", addr, msg)
		}
		msg += " (retry later)"
	case codes.Unauthenticated:
		msg += " (check CATAPULT_API_KEY)"
	}
	return head + ": " + msg
}

// upperSnake turns a gRPC code name ("NotFound") into its canonical form ("NOT_FOUND").
func upperSnake(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		if unicode.IsUpper(r) && unicode.IsLower(prev) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
		prev = r
	}
	return b.String()
}
