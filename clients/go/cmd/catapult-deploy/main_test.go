package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
	"github.com/warlockee/catapult/clients/go/internal/testserver"
)

var (
	// srv is the live server the command runs against (see internal/testserver).
	srv *testserver.Server
	// binary is the command, built with `go build` as a CI job would.
	binary string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "catapult-deploy-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "catapult-deploy")
		if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
		return testserver.Main(m, &srv)
	}())
}

type result struct {
	code           int
	stdout, stderr string
}

// deploy runs the built command with CATAPULT_ADDR and CATAPULT_API_KEY pointing at the test
// server (env entries "NAME=value" override them; "NAME=" unsets).
func deploy(t *testing.T, env []string, args ...string) result {
	t.Helper()
	if srv == nil {
		t.Skip("integration test: needs a live server (not run with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = commandEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %v: %v", args, err)
	}
	r := result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("catapult-deploy %s → %d\nstdout: %sstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// commandEnv is the command's environment: this process's without CATAPULT_* variables, then
// CATAPULT_ADDR and CATAPULT_API_KEY for the test server, then env ("NAME=" unsets).
func commandEnv(env []string) []string {
	base := map[string]string{catapult.EnvAddr: srv.Addr, catapult.EnvAPIKey: srv.APIKey}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		base[k] = v
	}
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CATAPULT_") {
			out = append(out, kv)
		}
	}
	for k, v := range base {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func (r result) expect(t *testing.T, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d (stderr: %s)", r.code, code, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Fatalf("stderr %q does not contain %q", r.stderr, s)
		}
	}
	if code != 0 && strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 {
		t.Fatalf("an error should be one line on stderr, got:\n%s", r.stderr)
	}
}

var uuidLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`)

func (r result) id(t *testing.T) string {
	t.Helper()
	if !uuidLine.MatchString(r.stdout) {
		t.Fatalf("stdout %q is not one id", r.stdout)
	}
	return strings.TrimSpace(r.stdout)
}

// client connects to the test server with the library, to set up and check what the command did.
func client(t *testing.T) *catapult.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := catapult.Dial(ctx, srv.Addr, catapult.WithAPIKey(srv.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func unique(prefix string) string { return prefix + "-" + strings.ToLower(rand.Text()[:10]) }

// newModel registers a model for a test and returns its name.
func newModel(t *testing.T) string {
	t.Helper()
	if srv == nil {
		t.Skip("integration test: needs a live server (not run with -short)")
	}
	name := unique("cli-model")
	_, err := client(t).Models.CreateModel(context.Background(), &catapultv1.CreateModelRequest{
		Model: &catapultv1.Model{Name: name, Company: "CompanyB", StoragePath: "s3://m/" + name},
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// The whole CI flow: record a release, deploy it, see it live, terminate it; every step retried.
func TestReleaseDeployLiveTerminate(t *testing.T) {
	model := newModel(t)
	url := "https://" + unique("api") + ".example.test/v1/llama"

	rel := deploy(t, nil, "release", "--model", model, "--version", "1.0.0", "--quantization", "fp16",
		"--tag", "v1.0.0-fp16", "--digest", "sha256:abc")
	rel.expect(t, 0, "recorded release", model+" 1.0.0 fp16")
	releaseID := rel.id(t)
	retried := deploy(t, nil, "release", "--model", model, "--version", "1.0.0", "--quantization", "fp16",
		"--tag", "v1.0.0-fp16", "--digest", "sha256:abc")
	retried.expect(t, 0)
	if retried.id(t) != releaseID {
		t.Fatalf("retrying release recorded %s, want %s again", retried.id(t), releaseID)
	}

	deployArgs := []string{"deploy", "--model", model, "--version", "1.0.0", "--quantization", "fp16",
		"--environment", "production", "--endpoint", url, "--cluster", "k8s-prod", "--replicas", "3"}
	dep := deploy(t, nil, deployArgs...)
	dep.expect(t, 0, "recorded deployment", model+" 1.0.0 fp16 in production at "+url+" (success); nothing was live there")
	deploymentID := dep.id(t)
	again := deploy(t, nil, deployArgs...)
	again.expect(t, 0)
	if again.id(t) != deploymentID {
		t.Fatalf("retrying deploy recorded %s, want %s again", again.id(t), deploymentID)
	}

	live := deploy(t, nil, "live", "--environment", "production")
	live.expect(t, 0, "live in production")
	wantLine := strings.Join([]string{url, model, "1.0.0", "fp16", "CompanyB", deploymentID}, "\t")
	if !strings.Contains(live.stdout, wantLine+"\n") {
		t.Fatalf("live does not list %q:\n%s", wantLine, live.stdout)
	}
	liveJSON := deploy(t, nil, "live", "--environment", "production", "--output", "json")
	liveJSON.expect(t, 0)
	var listed struct {
		Deployments []liveDeployment `json:"deployments"`
	}
	if err := json.Unmarshal([]byte(liveJSON.stdout), &listed); err != nil {
		t.Fatalf("live --output json: %v\n%s", err, liveJSON.stdout)
	}
	if !slices.ContainsFunc(listed.Deployments, func(d liveDeployment) bool {
		return d.ID == deploymentID && d.EndpointURL == url && d.Status == "success"
	}) {
		t.Fatalf("live --output json does not list %s:\n%s", deploymentID, liveJSON.stdout)
	}

	latest := deploy(t, nil, "latest", "--model", model, "--environment", "production", "--output", "version")
	latest.expect(t, 0, "latest release live in production")
	if latest.stdout != "1.0.0\n" {
		t.Fatalf("latest --output version printed %q", latest.stdout)
	}

	term := deploy(t, nil, "terminate", "--environment", "production", "--endpoint", url)
	term.expect(t, 0, "terminated deployment "+deploymentID)
	if term.id(t) != deploymentID {
		t.Fatalf("terminate printed %q", term.stdout)
	}
	deploy(t, nil, "terminate", "--environment", "production", "--endpoint", url).expect(t, 0, "nothing to terminate")
	deploy(t, nil, "terminate", "--id", deploymentID).expect(t, 0, "terminated deployment")
	if got := deploy(t, nil, "live", "--environment", "production").stdout; strings.Contains(got, deploymentID) {
		t.Fatalf("a terminated deployment is still live:\n%s", got)
	}

	// Deploying the same release to the same endpoint again is a new deployment, not a retry:
	// without a run id the command refuses to pass the terminated record off as it.
	deploy(t, nil, deployArgs...).expect(t, exitConflict, "--run-id", deploymentID)
	redeploy := deploy(t, []string{"CATAPULT_RUN_ID=pipeline-42"}, deployArgs...)
	redeploy.expect(t, 0)
	if redeploy.id(t) == deploymentID {
		t.Fatalf("a new run id recorded no new deployment")
	}
	explicit := deploy(t, nil, append(deployArgs, "--request-id", unique("explicit"), "--output", "json")...)
	explicit.expect(t, 0, "superseded "+redeploy.id(t)+" (1.0.0 fp16)")
	var d struct {
		EndpointURL string          `json:"endpoint_url"`
		Status      string          `json:"status"`
		ReplacesID  string          `json:"replaces_id"`
		Superseded  *liveDeployment `json:"superseded"`
	}
	if err := json.Unmarshal([]byte(explicit.stdout), &d); err != nil || d.EndpointURL != url || d.Status != "success" {
		t.Fatalf("deploy --output json printed %v (%v)", explicit.stdout, err)
	}
	if d.ReplacesID != redeploy.id(t) || d.Superseded == nil || d.Superseded.ID != redeploy.id(t) || d.Superseded.Status != "terminated" {
		t.Fatalf("deploy --output json: replaces_id %q, superseded %+v; want the redeploy, terminated", d.ReplacesID, d.Superseded)
	}
}

type liveDeployment struct {
	ID             string `json:"id"`
	EndpointURL    string `json:"endpoint_url"`
	Status         string `json:"status"`
	ReleaseVersion string `json:"release_version"`
	ReplacesID     string `json:"replaces_id"`
	SupersededByID string `json:"superseded_by_id"`
	LiveSince      string `json:"live_since"`
}

func TestExitCodes(t *testing.T) {
	model := newModel(t)
	deploy(t, nil, "release", "--model", model, "--version", "2.0.0", "--digest", "sha256:one").expect(t, 0)

	for _, tc := range []struct {
		name      string
		env       []string
		args      []string
		code      int
		stderrHas []string
	}{
		{"unknown model", nil, []string{"release", "--model", unique("nope"), "--version", "1"},
			exitNotFound, []string{"NOT_FOUND (RESOURCE_NOT_FOUND):", "not found"}},
		{"unknown release", nil, []string{"deploy", "--model", model, "--version", "2.0.0", "--quantization", "int8",
			"--environment", "staging", "--endpoint", "https://x.test"},
			exitNotFound, []string{"NOT_FOUND (RESOURCE_NOT_FOUND):", "has no release 2.0.0 with quantization int8 (it has no quantization)"}},
		{"release exists with other values", nil, []string{"release", "--model", model, "--version", "2.0.0", "--digest", "sha256:two"},
			exitConflict, []string{"ALREADY_EXISTS (RESOURCE_ALREADY_EXISTS):", `has digest "sha256:one", not "sha256:two"`}},
		{"unknown environment", nil, []string{"deploy", "--model", model, "--version", "2.0.0",
			"--environment", "The Moon", "--endpoint", "https://x.test"},
			exitRejected, []string{"INVALID_ARGUMENT (INVALID_FIELD):", "deployment.environment"}},
		{"not a deployment id", nil, []string{"terminate", "--id", "not-a-uuid"}, exitRejected, []string{"INVALID_ARGUMENT"}},
		{"unknown deployment", nil, []string{"terminate", "--id", "00000000-0000-4000-8000-000000000000"},
			exitNotFound, []string{"NOT_FOUND (RESOURCE_NOT_FOUND)"}},
		{"nothing ever at the endpoint", nil, []string{"terminate", "--environment", "staging", "--endpoint", "https://never.test"},
			exitNotFound, []string{"no deployment was ever recorded in staging at https://never.test"}},
		{"bad key", []string{"CATAPULT_API_KEY=ctp_bad_key"}, []string{"latest", "--model", model},
			exitAuth, []string{"UNAUTHENTICATED (API_KEY_INVALID):", "check CATAPULT_API_KEY"}},
		{"no key", []string{"CATAPULT_API_KEY="}, []string{"latest", "--model", model},
			exitUsage, []string{"no API key"}},
		{"missing flag", nil, []string{"release", "--model", model}, exitUsage, []string{"missing --version"}},
		{"unknown flag", nil, []string{"release", "--modle", model}, exitUsage, []string{"-modle"}},
		{"unknown command", nil, []string{"rollback"}, exitUsage, []string{`unknown command "rollback"`, "history, rollout"}},
		{"history without an endpoint", nil, []string{"history", "--environment", "production"}, exitUsage, []string{"missing --endpoint"}},
		{"rollout of an unknown model", nil, []string{"rollout", "--model", unique("nope")},
			exitNotFound, []string{"NOT_FOUND (RESOURCE_NOT_FOUND)"}},
		{"live at a moment that is not a time", nil, []string{"live", "--at", "last tuesday"},
			exitUsage, []string{`--at "last tuesday": want an RFC 3339 time`}},
		{"a table for a single record", nil, []string{"latest", "--model", model, "--output", "table"},
			exitUsage, []string{"--output table is for live, history, rollout and watch only"}},
		{"watch with an unknown status", nil, []string{"watch", "--status", "sleeping"},
			exitRejected, []string{"INVALID_ARGUMENT (INVALID_FIELD):", "status"}},
		{"watch from a cursor that is none", nil, []string{"watch", "--cursor", "yesterday"},
			exitRejected, []string{"INVALID_ARGUMENT (INVALID_FIELD):", "cursor"}},
		{"watch a negative count", nil, []string{"watch", "--count", "-1"}, exitUsage, []string{"--count -1"}},
		{"watch with a bad key", []string{"CATAPULT_API_KEY=ctp_bad_key"}, []string{"watch"},
			exitAuth, []string{"UNAUTHENTICATED (API_KEY_INVALID):"}},
		{"watch an unreachable server", []string{"CATAPULT_ADDR=127.0.0.1:1"}, []string{"watch"},
			exitUnavailable, []string{"UNAVAILABLE: cannot reach Catapult at 127.0.0.1:1"}},
		{"unreachable", []string{"CATAPULT_ADDR=127.0.0.1:1"}, []string{"latest", "--model", model},
			exitUnavailable, []string{"UNAVAILABLE: cannot reach Catapult at 127.0.0.1:1", "retry later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := deploy(t, tc.env, tc.args...)
			if tc.code == exitUsage && strings.Contains(r.stderr, "Usage:") {
				// flag's own errors print the usage after the message; the rest stays one line.
				r.stderr = strings.SplitN(r.stderr, "\n", 2)[0] + "\n"
			}
			r.expect(t, tc.code, tc.stderrHas...)
			if r.stdout != "" {
				t.Fatalf("a failure printed %q on stdout", r.stdout)
			}
		})
	}
}

// A release recorded some other way (no request_id, or another one) is found when the values
// given match it, so a pipeline re-run for the same image passes.
func TestExistingReleaseIsFound(t *testing.T) {
	model := newModel(t)
	made, err := client(t).RecordRelease(context.Background(), catapult.ReleaseSpec{
		Model: model, Version: "4.0.0", Quantization: "int8", Tag: "v4.0.0-int8", Digest: "sha256:four",
	})
	if err != nil {
		t.Fatal(err)
	}
	found := deploy(t, nil, "release", "--model", model, "--version", "4.0.0", "--quantization", "int8",
		"--digest", "sha256:four")
	found.expect(t, 0, "found release "+made.GetId())
	if found.id(t) != made.GetId() {
		t.Fatalf("release printed %s, want the existing %s", found.id(t), made.GetId())
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	model := newModel(t)
	r := deploy(t, []string{"CATAPULT_ADDR=127.0.0.1:1", "CATAPULT_API_KEY=ctp_bad_key"},
		"release", "--model", model, "--version", "1.0.0", "--addr", srv.Addr, "--api-key", srv.APIKey)
	r.expect(t, 0, "recorded release")
}

func TestDeprecatedReleaseNeedsForce(t *testing.T) {
	model := newModel(t)
	id := deploy(t, nil, "release", "--model", model, "--version", "0.1.0").id(t)
	if _, err := client(t).Releases.UpdateRelease(context.Background(), &catapultv1.UpdateReleaseRequest{
		Release: &catapultv1.Release{Id: id, Status: "deprecated"},
	}); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--release-id", id, "--environment", "development", "--endpoint", "https://dev.test"}
	deploy(t, nil, args...).expect(t, exitRejected, "FAILED_PRECONDITION (RELEASE_DEPRECATED)")
	deploy(t, nil, append(args, "--force")...).expect(t, 0, "recorded deployment")
}

// The command and scripts/record-deployment.sh derive the same request_id from the same inputs
// (tests/scripts asserts the same constant), so a job may retry a step with either.
func TestDerivedRequestIDIsSharedWithTheScripts(t *testing.T) {
	// No --status: the status part is empty (the server's default applies).
	const want = "0e70c948-b3cf-8823-8e22-0ac8f73ee571"
	got := catapult.RequestID("deployment", "parity-model", "1.0.0", "fp16", "", "staging",
		"https://parity.example.test/v1", "", "", "0", "", "")
	if got != want {
		t.Fatalf("RequestID = %s, want %s", got, want)
	}
	if srv == nil {
		return
	}
	c := client(t)
	ctx := context.Background()
	_, err := c.Models.CreateModel(ctx, &catapultv1.CreateModelRequest{
		Model: &catapultv1.Model{Name: "parity-model", StoragePath: "s3://m/parity"},
	})
	if err != nil && !catapult.IsAlreadyExists(err) { // a reused server (CATAPULT_TEST_ADDR) has it
		t.Fatal(err)
	}
	_, err = c.RecordRelease(ctx, catapult.ReleaseSpec{Model: "parity-model", Version: "1.0.0", Quantization: "fp16"})
	if err != nil && !catapult.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	r := deploy(t, nil, "deploy", "--model", "parity-model", "--version", "1.0.0", "--quantization", "fp16",
		"--environment", "staging", "--endpoint", "https://parity.example.test/v1")
	r.expect(t, 0)
	logs, err := c.AuditLogs.ListAuditLogs(ctx, &catapultv1.ListAuditLogsRequest{
		ResourceType: "deployment", ResourceId: r.id(t), Action: "create",
	})
	if err != nil || len(logs.GetAuditLogs()) != 1 || logs.GetAuditLogs()[0].GetRequestId() != want {
		t.Fatalf("the deployment's audit row = %v, %v; want request_id %s", logs.GetAuditLogs(), err, want)
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("-h exited %d", code)
	}
	for _, want := range []string{"Exit codes:", "3 NOT_FOUND", "CATAPULT_ADDR", "CATAPULT_API_KEY", "--run-id",
		"history   --environment E --endpoint URL", "rollout   --model M", "--at TIME", "supersedes",
		"watch     [--environment E]"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	stdout.Reset()
	env := func(k string) string {
		if k == catapult.EnvAPIKey {
			return "ctp_secret_must_not_show"
		}
		return ""
	}
	if code := run(context.Background(), []string{"deploy", "-h"}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("deploy -h exited %d", code)
	}
	for _, want := range []string{"-endpoint", "-environment", "-release-id", "-force", "-request-id", "nothing was live there"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("deploy -h lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "ctp_secret_must_not_show") {
		t.Errorf("deploy -h shows the API key from the environment")
	}
	if stderr.Len() != 0 {
		t.Errorf("deploy -h printed on stderr too:\n%s", stderr.String())
	}
	if code := run(context.Background(), nil, env, &stdout, &stderr); code != exitUsage {
		t.Errorf("no command exited %d, want %d", code, exitUsage)
	}
}
