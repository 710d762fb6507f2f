package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
	"github.com/warlockee/catapult/clients/go/internal/testserver"
)

// background is the command running while the test goes on: its stdout read line by line,
// its stderr kept.
type background struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

func (b *background) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.Write(p)
}

func (b *background) stderrText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.String()
}

// startCommand starts the command with the test server's address and key (env as deploy's).
func startCommand(t *testing.T, env []string, args ...string) *background {
	t.Helper()
	if srv == nil {
		t.Skip("integration test: needs a live server (not run with -short)")
	}
	b := &background{t: t, cmd: exec.Command(binary, args...), lines: make(chan string, 100), done: make(chan struct{})}
	b.cmd.Env = commandEnv(env)
	b.cmd.Stderr = b
	// A pipe of the test's own, read to its end whenever the command exits (exec's StdoutPipe
	// must be read to the end before Wait, which another goroutine calls).
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stdout = w
	err = b.cmd.Start()
	_ = w.Close()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(b.lines)
		defer stdout.Close()
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			b.lines <- scanner.Text()
		}
	}()
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.done
	})
	go func() {
		_ = b.cmd.Wait()
		close(b.done)
	}()
	return b
}

// waitStderr waits until stderr contains s.
func (b *background) waitStderr(s string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.stderrText(), s) {
		if time.Now().After(deadline) {
			b.t.Fatalf("stderr has no %q after 30 s:\n%s", s, b.stderrText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readLines reads n lines of stdout.
func (b *background) readLines(n int) []string {
	b.t.Helper()
	var out []string
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case line, ok := <-b.lines:
			if !ok {
				b.t.Fatalf("stdout ended after %q; stderr:\n%s", out, b.stderrText())
			}
			out = append(out, line)
		case <-timeout:
			b.t.Fatalf("%d lines of stdout after 30 s, want %d: %q; stderr:\n%s", len(out), n, out, b.stderrText())
		}
	}
	return out
}

// interrupt sends sig and waits for the command to exit, returning its exit code.
func (b *background) interrupt(sig os.Signal) int {
	b.t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.t.Fatalf("the command did not exit within 10 s of %v", sig)
	}
	return b.cmd.ProcessState.ExitCode()
}

// recordWith records a deployment of the release at url with the library.
func recordWith(t *testing.T, c *catapult.Client, releaseID, environment, url string) *catapultv1.Deployment {
	t.Helper()
	d, err := c.RecordDeployment(context.Background(), catapult.DeploymentSpec{
		ReleaseID: releaseID, Environment: environment, EndpointURL: url, Cluster: "k8s-" + environment,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// watch prints a line per change until interrupted, says where it stopped, and resumes from there.
func TestWatchPrintsALinePerChange(t *testing.T) {
	model := newModel(t)
	ids := releases(t, model, "1.0.0", "1.1.0")
	c := client(t)
	url := "https://" + unique("watch") + ".example.test/v1"

	watching := startCommand(t, nil, "watch", "--model", model)
	watching.waitStderr("watching deployments (model " + model + ") from now; Ctrl-C stops")
	first := recordWith(t, c, ids["1.0.0"], "production", url)
	second := recordWith(t, c, ids["1.1.0"], "production", url)
	lines := watching.readLines(3)
	if code := watching.interrupt(syscall.SIGINT); code != 0 {
		t.Fatalf("interrupted, watch exited %d; stderr:\n%s", code, watching.stderrText())
	}
	rows := table(t, strings.Join(lines, "\n"), 12)
	// time, change, id, status, environment, cluster, endpoint, model, version, quantization, digest, cursor
	want := [][]string{
		{"created", first.GetId(), "success", "production", "k8s-production", url, model, "1.0.0", "-", "sha256:" + model + "1.0.0"},
		{"superseded", first.GetId(), "terminated", "production", "k8s-production", url, model, "1.0.0", "-", "sha256:" + model + "1.0.0"},
		{"created", second.GetId(), "success", "production", "k8s-production", url, model, "1.1.0", "-", "sha256:" + model + "1.1.0"},
	}
	for i, row := range rows {
		if got := row[1:11]; strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
		if _, err := time.Parse(timeLayout, row[0]); err != nil || row[11] == "" {
			t.Errorf("line %d has no time or cursor: %q", i, row)
		}
	}
	last := rows[2][11]
	if !strings.HasSuffix(watching.stderrText(), "catapult-deploy: stopped after 3 change(s); --cursor "+last+" resumes after it\n") {
		t.Fatalf("stderr does not say where it stopped:\n%s", watching.stderrText())
	}

	// From a cursor: what came after it, as JSON, one object a line; --count ends it.
	third := recordWith(t, c, ids["1.0.0"], "staging", url)
	r := deploy(t, nil, "watch", "--model", model, "--cursor", rows[0][11], "--count", "3", "--output", "json")
	r.expect(t, 0, "after cursor "+rows[0][11], "stopped after 3 change(s)")
	var events []struct {
		Cursor     string         `json:"cursor"`
		Type       string         `json:"type"`
		ResourceID string         `json:"resource_id"`
		Deployment liveDeployment `json:"deployment"`
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var e struct {
			Cursor     string         `json:"cursor"`
			Type       string         `json:"type"`
			ResourceID string         `json:"resource_id"`
			Deployment liveDeployment `json:"deployment"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not one JSON object a line: %v\n%s", err, r.stdout)
		}
		events = append(events, e)
	}
	if len(events) != 3 || events[0].Cursor != rows[1][11] || events[0].Type != "superseded" ||
		events[1].ResourceID != second.GetId() || events[2].Deployment.ID != third.GetId() || events[2].Type != "created" {
		t.Fatalf("watch --cursor --output json printed %+v", events)
	}
	ids1 := deploy(t, nil, "watch", "--model", model, "--environment", "staging", "--cursor", rows[0][11], "--count", "1", "--output", "id")
	ids1.expect(t, 0, "(environment staging, model "+model+")")
	if ids1.id(t) != third.GetId() {
		t.Fatalf("watch --output id printed %q, want %s", ids1.stdout, third.GetId())
	}

	// --timeout ends a quiet watch as a success; SIGTERM too.
	quiet := deploy(t, nil, "watch", "--model", model, "--environment", "development", "--timeout", "1s")
	quiet.expect(t, 0, "stopped after 0 change(s)")
	if quiet.stdout != "" {
		t.Fatalf("a quiet watch printed %q", quiet.stdout)
	}
	terminated := startCommand(t, nil, "watch", "--active-only")
	terminated.waitStderr("watching deployments (live or leaving) from now")
	if code := terminated.interrupt(syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
}

// watch goes on across a server restart, saying so on stderr, and misses nothing.
func TestWatchResumesAcrossARestart(t *testing.T) {
	if srv == nil {
		t.Skip("integration test: needs a live server (not run with -short)")
	}
	own, err := testserver.StartWith(testserver.Options{Env: []string{"CATAPULT_WATCH_HEARTBEAT_SECONDS=0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := catapult.Dial(ctx, own.Addr, catapult.WithAPIKey(own.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	model := unique("cli-watch")
	if _, err := c.Models.CreateModel(ctx, &catapultv1.CreateModelRequest{
		Model: &catapultv1.Model{Name: model, StoragePath: "s3://m/" + model},
	}); err != nil {
		t.Fatal(err)
	}
	release, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}

	env := []string{"CATAPULT_ADDR=" + own.Addr, "CATAPULT_API_KEY=" + own.APIKey}
	watching := startCommand(t, env, "watch", "--model", model, "--output", "id")
	watching.waitStderr("Ctrl-C stops")
	earlier := recordWith(t, c, release.GetId(), "staging", "https://"+unique("a")+".example.test")
	watching.readLines(1)
	if err := own.Restart(); err != nil {
		t.Fatal(err)
	}
	later := recordWith(t, c, release.GetId(), "staging", "https://"+unique("b")+".example.test")
	got := watching.readLines(1)
	if got[0] != later.GetId() {
		t.Fatalf("after the restart watch printed %q, want %s (before it: %s)", got, later.GetId(), earlier.GetId())
	}
	watching.waitStderr("watching again after cursor")
	if code := watching.interrupt(syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d", code)
	}
	stderr := watching.stderrText()
	if !strings.Contains(stderr, "the stream ended (UNAVAILABLE (SERVER_SHUTTING_DOWN): ") ||
		!strings.Contains(stderr, "resuming after cursor ") || !strings.Contains(stderr, "stopped after 2 change(s)") {
		t.Fatalf("stderr does not tell the resume:\n%s", stderr)
	}
}
