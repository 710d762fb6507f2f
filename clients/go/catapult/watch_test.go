package catapult_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
	"github.com/warlockee/catapult/clients/go/internal/testserver"
)

// recorder runs a watch in the background and keeps what it delivers, for a test to wait on.
type recorder struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan struct{}
	err    error // what the watch returned, once done is closed

	mu       sync.Mutex
	events   []catapult.Event
	connects int     // streams in place, the first included
	resumes  []error // why each resume happened
	cursors  []string
	gate     chan struct{} // when set, a resume waits for it to close
}

type watchFunc func(ctx context.Context, fn func(catapult.Event) error, opts ...catapult.WatchOption) error

// watchDeployments is c.WatchDeployments with f, as a watchFunc.
func watchDeployments(c *catapult.Client, f catapult.DeploymentWatchFilter) watchFunc {
	return func(ctx context.Context, fn func(catapult.Event) error, opts ...catapult.WatchOption) error {
		return c.WatchDeployments(ctx, f, fn, opts...)
	}
}

// startWatch starts watch in the background and waits until its stream is in place, so what
// the test writes next reaches it. It is stopped when the test ends. Resumes wait 10–50 ms.
func startWatch(t *testing.T, watch watchFunc, opts ...catapult.WatchOption) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{t: t, cancel: cancel, done: make(chan struct{})}
	opts = append([]catapult.WatchOption{catapult.WatchBackoff(20*time.Millisecond, 50*time.Millisecond)}, opts...)
	opts = append(opts,
		catapult.OnWatchConnect(func(bool) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.connects++
		}),
		catapult.OnWatchResume(func(err error, cursor string, _ time.Duration) {
			r.mu.Lock()
			r.resumes = append(r.resumes, err)
			r.cursors = append(r.cursors, cursor)
			gate := r.gate
			r.mu.Unlock()
			if gate != nil {
				<-gate
			}
		}))
	go func() {
		defer close(r.done)
		r.err = watch(ctx, func(e catapult.Event) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, e)
			return nil
		}, opts...)
	}()
	t.Cleanup(func() { r.stop() })
	r.waitFor("the stream in place", func() bool { return r.connects >= 1 })
	return r
}

// waitFor polls cond (called with r.mu held) until it holds, failing the test after 20 s.
func (r *recorder) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		summary := fmt.Sprintf("%d events, %d streams, resumes %v", len(r.events), r.connects, r.resumes)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.done:
			r.t.Fatalf("waiting for %s: the watch returned %v (%s)", what, r.err, summary)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waiting for %s: not within 20 s (%s)", what, summary)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count waits until n events arrived and returns the first n.
func (r *recorder) count(n int) []catapult.Event {
	r.t.Helper()
	r.waitFor(fmt.Sprintf("%d events", n), func() bool { return len(r.events) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events[:n])
}

func (r *recorder) snapshot() []catapult.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// resumed returns why each resume happened, and the cursor it resumed from.
func (r *recorder) resumed() (errs []error, cursors []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resumes), slices.Clone(r.cursors)
}

// streams is how many streams were in place, the first included.
func (r *recorder) streams() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connects
}

// hold makes the next resumes wait until the returned function is called.
func (r *recorder) hold() (release func()) {
	gate := make(chan struct{})
	r.mu.Lock()
	r.gate = gate
	r.mu.Unlock()
	return sync.OnceFunc(func() {
		r.mu.Lock()
		r.gate = nil
		r.mu.Unlock()
		close(gate)
	})
}

// stop cancels the watch and returns what it returned, failing the test if it does not return
// within 5 s.
func (r *recorder) stop() error {
	r.t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(5 * time.Second):
		r.t.Fatalf("the watch did not return within 5 s of its context's end")
		return nil
	}
}

// changes is each event as "type resource_id", to compare with what a test wrote.
func changes(events []catapult.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.GetType() + " " + e.GetResourceId()
	}
	return out
}

// keys is each event as "cursor type resource_id": two watches that saw the same changes in the
// same order have the same keys.
func keys(events []catapult.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.GetCursor() + " " + e.GetType() + " " + e.GetResourceId()
	}
	return out
}

// expectOnceInOrder fails unless got is want: every change once, in the order it committed,
// with cursors that differ.
func expectOnceInOrder(t *testing.T, got []catapult.Event, want []string) {
	t.Helper()
	if !slices.Equal(changes(got), want) {
		t.Fatalf("events\n  %q\nwant\n  %q", changes(got), want)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.GetCursor()] {
			t.Fatalf("cursor %s delivered twice", e.GetCursor())
		}
		seen[e.GetCursor()] = true
	}
}

// deployments is a model with two releases, to deploy in a test.
type deployments struct {
	t       *testing.T
	c       *catapult.Client
	model   string
	release map[string]*catapultv1.Release
}

func newDeployments(t *testing.T, c *catapult.Client) *deployments {
	t.Helper()
	model := createModel(t, c)
	return &deployments{t: t, c: c, model: model, release: recordReleases(t, c, model, "1.0.0", "1.1.0")}
}

// deploy records version live in environment at url.
func (d *deployments) deploy(version, environment, url string) *catapultv1.Deployment {
	d.t.Helper()
	return record(d.t, d.c, catapult.DeploymentSpec{
		ReleaseID: d.release[version].GetId(), Environment: environment, EndpointURL: url, Cluster: "k8s-" + environment,
	})
}

func TestWatchDeploymentsDeliversEachChange(t *testing.T) {
	c := dial(t)
	d := newDeployments(t, c)
	production := startWatch(t, watchDeployments(c, catapult.DeploymentWatchFilter{Model: d.model, Environment: "production"}))
	all := startWatch(t, watchDeployments(c, catapult.DeploymentWatchFilter{Model: d.model}))

	url := endpoint("watch")
	first := d.deploy("1.0.0", "production", url)
	second := d.deploy("1.1.0", "production", url) // supersedes first
	staging := d.deploy("1.0.0", "staging", url)
	if _, err := c.TerminateDeployment(testContext(t), second.GetId()); err != nil {
		t.Fatal(err)
	}
	other := newDeployments(t, c) // another model: not watched
	other.deploy("1.0.0", "production", endpoint("other"))

	// A deploy that supersedes commits two changes: the old deployment leaving, the new one
	// arriving.
	want := []string{
		"created " + first.GetId(),
		"superseded " + first.GetId(), "created " + second.GetId(),
		"terminated " + second.GetId(),
	}
	got := production.count(len(want))
	if !slices.Equal(changes(got), want) {
		t.Fatalf("production events %q, want %q", changes(got), want)
	}
	allWant := slices.Insert(slices.Clone(want), 3, "created "+staging.GetId())
	expectOnceInOrder(t, all.count(len(allWant)), allWant)

	created, superseded := got[0], got[1]
	if created.GetResourceType() != "deployment" || created.GetTime() == nil || created.GetApiKeyName() == "" ||
		created.GetCursor() == "" {
		t.Fatalf("created event lacks its resource type, time, key or cursor: %v", created)
	}
	dep := created.GetDeployment()
	if dep.GetId() != first.GetId() || dep.GetEnvironment() != "production" || dep.GetEndpointUrl() != url ||
		dep.GetReleaseVersion() != "1.0.0" || dep.GetModelName() != d.model || dep.GetStatus() != catapult.StatusSuccess {
		t.Fatalf("created event carries %v, want the deployment as recorded", dep)
	}
	if s := superseded.GetDeployment(); s.GetStatus() != catapult.StatusTerminated || s.GetSupersededById() != second.GetId() {
		t.Fatalf("superseded event carries %v, want it terminated, superseded by %s", s, second.GetId())
	}

	// A cursor resumes after the change it names: a new watch from the first event's cursor
	// gets every later change, none twice.
	from := startWatch(t, watchDeployments(c, catapult.DeploymentWatchFilter{Model: d.model, Cursor: got[0].GetCursor()}))
	expectOnceInOrder(t, from.count(len(allWant)-1), allWant[1:])
	time.Sleep(200 * time.Millisecond)
	if n := len(from.snapshot()); n != len(allWant)-1 {
		t.Fatalf("the resumed watch got %d events, want %d", n, len(allWant)-1)
	}
	for _, r := range []*recorder{production, all, from} {
		if err := r.stop(); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled watch returned %v, want context.Canceled", err)
		}
	}
}

func TestWatchChanges(t *testing.T) {
	c := dial(t)
	models := startWatch(t, func(ctx context.Context, fn func(catapult.Event) error, opts ...catapult.WatchOption) error {
		return c.WatchChanges(ctx, catapult.ChangeWatchFilter{ResourceType: "model"}, fn, opts...)
	})
	m := createModelFor(t, c, "CompanyW")
	recordReleases(t, c, m.GetName(), "1.0.0") // a release: another resource type
	one := startWatch(t, func(ctx context.Context, fn func(catapult.Event) error, opts ...catapult.WatchOption) error {
		return c.WatchChanges(ctx, catapult.ChangeWatchFilter{ResourceID: m.GetId()}, fn, opts...)
	})
	if _, err := c.Models.UpdateModel(testContext(t), &catapultv1.UpdateModelRequest{
		Model: &catapultv1.Model{Id: m.GetId(), Description: "watched"},
	}); err != nil {
		t.Fatal(err)
	}
	var mine []catapult.Event
	models.waitFor("the model's two changes", func() bool {
		mine = slices.DeleteFunc(slices.Clone(models.events), func(e catapult.Event) bool { return e.GetResourceId() != m.GetId() })
		return len(mine) >= 2
	})
	if got := changes(mine); !slices.Equal(got, []string{"created " + m.GetId(), "updated " + m.GetId()}) {
		t.Fatalf("model events %q", got)
	}
	if mine[1].GetModel().GetDescription() != "watched" {
		t.Fatalf("the update event carries %v", mine[1].GetModel())
	}
	if got := one.count(1); got[0].GetType() != catapult.EventUpdated || got[0].GetResourceId() != m.GetId() {
		t.Fatalf("a watch of one resource got %q", changes(got))
	}
	for _, e := range models.snapshot() {
		if e.GetResourceType() != "model" {
			t.Fatalf("a watch of models got a %s change", e.GetResourceType())
		}
	}
}

// cutter is a TCP proxy to the server whose connections a test can cut, as a failing network
// or a load balancer dropping connections would.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCutter(t *testing.T, target string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutter{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutter) Addr() string { return p.ln.Addr().String() }

func (p *cutter) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(up, down)
		go pipe(down, up)
	}
}

// cut closes every connection through the proxy; new ones are accepted as before.
func (p *cutter) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *cutter) close() {
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// dialVia connects to addr (the server, or a proxy in front of it) with key.
func dialVia(t *testing.T, addr, key string, opts ...catapult.Option) *catapult.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := catapult.Dial(ctx, addr, append([]catapult.Option{catapult.WithAPIKey(key)}, opts...)...)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A watch whose connection is cut resumes from its last cursor: it delivers every change once,
// in order, the same as a watch that was never cut, including what committed while it was away.
func TestWatchResumesAfterADisconnect(t *testing.T) {
	c := dial(t)
	proxy := newCutter(t, srv.Addr)
	cut := dialVia(t, proxy.Addr(), srv.APIKey)
	d := newDeployments(t, c)
	filter := catapult.DeploymentWatchFilter{Model: d.model}
	reference := startWatch(t, watchDeployments(c, filter))
	watched := startWatch(t, watchDeployments(cut, filter))

	urls := []string{endpoint("a"), endpoint("b"), endpoint("c")}
	var want []string
	var last = map[string]string{}
	deploy := func(i int) {
		url := urls[i%len(urls)]
		dep := d.deploy([]string{"1.0.0", "1.1.0"}[i%2], "production", url)
		if old := last[url]; old != "" {
			want = append(want, "superseded "+old)
		}
		want = append(want, "created "+dep.GetId())
		last[url] = dep.GetId()
	}
	for i := range 4 {
		deploy(i)
	}
	watched.count(len(want))
	proxy.cut() // idle: between changes
	for i := 4; i < 8; i++ {
		deploy(i) // while it resumes
	}
	watched.count(len(want))

	atSecondCut := len(want)
	release := watched.hold()
	proxy.cut()
	watched.waitFor("the resume", func() bool { return len(watched.resumes) >= 2 })
	for i := 8; i < 12; i++ {
		deploy(i) // while it is away: it must read these from its cursor
	}
	release()

	expectOnceInOrder(t, reference.count(len(want)), want)
	expectOnceInOrder(t, watched.count(len(want)), want)
	if !slices.Equal(keys(watched.snapshot()), keys(reference.snapshot())) {
		t.Fatalf("the cut watch saw\n  %q\nthe uncut one\n  %q", keys(watched.snapshot()), keys(reference.snapshot()))
	}
	errs, cursors := watched.resumed()
	for _, err := range errs {
		if catapult.Code(err) != codes.Unavailable {
			t.Fatalf("resumed after %v, want UNAVAILABLE", err)
		}
	}
	if n := watched.streams(); n < 3 {
		t.Fatalf("%d streams for two cuts", n)
	}
	// The last resume started from the cursor of the last event before the cut.
	if lastBefore := watched.snapshot()[atSecondCut-1].GetCursor(); cursors[len(cursors)-1] != lastBefore {
		t.Fatalf("the last resume was from cursor %s, want %s (the last event's)", cursors[len(cursors)-1], lastBefore)
	}
}

// ownServer starts a server for one test (its own settings, or to restart it), stopped after it.
func ownServer(t *testing.T, env ...string) *testserver.Server {
	t.Helper()
	if srv == nil {
		t.Skip("integration test: needs a live server (not run with -short)")
	}
	own, err := testserver.StartWith(testserver.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Stop() })
	return own
}

// A watch survives its server's restart (SIGINT: UNAVAILABLE SERVER_SHUTTING_DOWN, then no
// server for a while): it resumes from its cursor once the server is back, missing nothing that
// committed in between.
func TestWatchResumesAfterTheServerRestarts(t *testing.T) {
	own := ownServer(t)
	c := dialVia(t, own.Addr, own.APIKey)
	d := newDeployments(t, c)
	watched := startWatch(t, watchDeployments(c, catapult.DeploymentWatchFilter{Model: d.model}))

	var want []string
	for range 3 {
		dep := d.deploy("1.0.0", "staging", endpoint("restart"))
		want = append(want, "created "+dep.GetId())
	}
	watched.count(len(want))
	release := watched.hold()
	start := time.Now()
	if err := own.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted in %s", time.Since(start))
	for range 3 { // the server is back, the watch not yet
		dep := d.deploy("1.1.0", "staging", endpoint("restart"))
		want = append(want, "created "+dep.GetId())
	}
	release()
	watched.waitFor("the stream in place again", func() bool { return watched.connects >= 2 })
	for range 2 {
		dep := d.deploy("1.0.0", "staging", endpoint("restart"))
		want = append(want, "created "+dep.GetId())
	}
	expectOnceInOrder(t, watched.count(len(want)), want)
	errs, _ := watched.resumed()
	t.Logf("resumed after %v", errs)
	if len(errs) == 0 || !catapult.IsUnavailable(errs[0]) {
		t.Fatalf("resumes %v, want UNAVAILABLE first", errs)
	}
}

// A watch that cannot keep up is cut off by the server (RESOURCE_EXHAUSTED WATCHER_TOO_SLOW,
// with the cursor to resume from): it resumes, and fn still gets every change once, in order.
func TestWatchResumesWhenTooSlow(t *testing.T) {
	own := ownServer(t, "CATAPULT_WATCH_BUFFER=3")
	c := dialVia(t, own.Addr, own.APIKey)
	// Fixed HTTP/2 windows (64 KiB) instead of ones that grow: the server blocks on a reader
	// that does not read after a few bulky events, and its buffer of 3 overflows. Straight to
	// the server, even under CATAPULT_TEST_VIA_ENVOY: Envoy reads on for a slow client (its
	// upstream window is Envoy's default, 256 MiB), so the server never sees one.
	slow := dialVia(t, own.GRPCAddr, own.APIKey, catapult.WithDialOptions(
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16)))
	d := newDeployments(t, c)
	bulky, err := structpb.NewStruct(map[string]any{"notes": strings.Repeat("x", 30_000)})
	if err != nil {
		t.Fatal(err)
	}

	stalled := make(chan struct{})
	var mu sync.Mutex
	var got []catapult.Event
	var resumes []error
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connected := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- slow.WatchDeployments(ctx, catapult.DeploymentWatchFilter{Model: d.model}, func(e catapult.Event) error {
			<-stalled // the first call waits until every write is done
			mu.Lock()
			defer mu.Unlock()
			got = append(got, e)
			return nil
		}, catapult.OnWatchConnect(func(bool) {
			select {
			case connected <- struct{}{}:
			default:
			}
		}), catapult.OnWatchResume(func(err error, _ string, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			resumes = append(resumes, err)
		}))
	}()
	<-connected
	var want []string
	for i := range 30 {
		dep, err := c.RecordDeployment(testContext(t), catapult.DeploymentSpec{
			ReleaseID: d.release["1.0.0"].GetId(), Environment: "production",
			EndpointURL: endpoint(fmt.Sprint("slow", i)), Metadata: bulky,
		})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, "created "+dep.GetId())
	}
	close(stalled)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the watch returned %v", err)
	}
	expectOnceInOrder(t, got, want)
	if len(resumes) == 0 || !catapult.HasReason(resumes[0], catapultv1.ErrorReason_WATCHER_TOO_SLOW) {
		t.Fatalf("resumes %v, want WATCHER_TOO_SLOW (the test did not stall the stream enough?)", resumes)
	}
}

// An idle watch keeps its place (the stream's first message, then heartbeats name it): one cut
// before any change came resumes from there and misses nothing. fn sees changes only.
func TestWatchHeartbeats(t *testing.T) {
	own := ownServer(t, "CATAPULT_WATCH_HEARTBEAT_SECONDS=0.2")
	c := dialVia(t, own.Addr, own.APIKey)
	proxy := newCutter(t, own.Addr)
	cut := dialVia(t, proxy.Addr(), own.APIKey)
	d := newDeployments(t, c)
	filter := catapult.DeploymentWatchFilter{Model: d.model}

	quiet := startWatch(t, watchDeployments(cut, filter))
	time.Sleep(time.Second) // five heartbeats
	if n := len(quiet.snapshot()); n != 0 {
		t.Fatalf("fn was called %d times while nothing changed", n)
	}

	release := quiet.hold()
	proxy.cut()
	quiet.waitFor("the resume", func() bool { return len(quiet.resumes) >= 1 })
	dep := d.deploy("1.0.0", "development", endpoint("beat"))
	release()
	expectOnceInOrder(t, quiet.count(1), []string{"created " + dep.GetId()})
	if _, cursors := quiet.resumed(); cursors[0] == "" {
		t.Fatalf("the resume had no cursor: the stream's place was not kept")
	}
}

var errEnough = errors.New("enough")

// fn's error stops the watch: WatchDeployments returns it, and fn is not called again.
func TestWatchStopsOnTheCallbacksError(t *testing.T) {
	c := dial(t)
	d := newDeployments(t, c)
	for _, stopWith := range []error{errEnough, status.Error(codes.Unavailable, "fn's own UNAVAILABLE")} {
		calls := 0
		connected := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- c.WatchDeployments(testContext(t), catapult.DeploymentWatchFilter{Model: d.model}, func(catapult.Event) error {
				calls++
				if calls == 2 {
					return fmt.Errorf("after two: %w", stopWith)
				}
				return nil
			}, catapult.OnWatchConnect(func(bool) { close(connected) }))
		}()
		<-connected
		for range 3 {
			d.deploy("1.0.0", "production", endpoint("stop"))
		}
		select {
		case err := <-done:
			if !errors.Is(err, stopWith) {
				t.Fatalf("the watch returned %v, want fn's error %v", err, stopWith)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the watch did not stop on fn's error")
		}
		if calls != 2 {
			t.Fatalf("fn was called %d times, want 2", calls)
		}
	}
}

// Cancelling the context stops a watch, streaming or waiting to resume, and leaves no goroutine
// behind.
func TestWatchStopsWithItsContext(t *testing.T) {
	c := dial(t)
	proxy := newCutter(t, srv.Addr)
	cut := dialVia(t, proxy.Addr(), srv.APIKey)
	if _, err := cut.System.GetInfo(testContext(t), &catapultv1.GetInfoRequest{}); err != nil {
		t.Fatal(err)
	}
	settle := func() int {
		// The connections' own goroutines come and go with a cut; give them a moment.
		time.Sleep(300 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	before := settle()

	for round := range 5 {
		streaming := startWatch(t, watchDeployments(c, catapult.DeploymentWatchFilter{Environment: "production"}))
		away := startWatch(t, watchDeployments(cut, catapult.DeploymentWatchFilter{}),
			catapult.WatchBackoff(time.Hour, time.Hour)) // once cut, it waits
		proxy.cut()
		away.waitFor("the resume", func() bool { return len(away.resumes) >= 1 })
		for _, r := range []*recorder{streaming, away} {
			start := time.Now()
			if err := r.stop(); !errors.Is(err, context.Canceled) {
				t.Fatalf("round %d: a cancelled watch returned %v", round, err)
			}
			if took := time.Since(start); took > time.Second {
				t.Fatalf("round %d: the watch took %s to stop", round, took)
			}
		}
	}

	deadline, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.WatchDeployments(deadline, catapult.DeploymentWatchFilter{}, func(catapult.Event) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a watch past its deadline returned %v", err)
	}

	var after int
	for range 20 {
		if after = settle(); after <= before {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("%d goroutines before the watches, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
}

// What a resume cannot mend ends the watch with the server's error.
func TestWatchReturnsWhatCannotBeResumed(t *testing.T) {
	c := dial(t)
	nothing := func(catapult.Event) error { return nil }
	err := c.WatchDeployments(testContext(t), catapult.DeploymentWatchFilter{Cursor: "yesterday"}, nothing)
	if !catapult.IsInvalidArgument(err) || len(catapult.FieldViolations(err)) == 0 ||
		catapult.FieldViolations(err)[0].GetField() != "cursor" {
		t.Fatalf("a bad cursor: %v, want INVALID_ARGUMENT naming cursor", err)
	}
	err = c.WatchDeployments(testContext(t), catapult.DeploymentWatchFilter{Status: "sleeping"}, nothing)
	if !catapult.IsInvalidArgument(err) {
		t.Fatalf("an unknown status: %v, want INVALID_ARGUMENT", err)
	}

	created, err := c.APIKeys.CreateApiKey(testContext(t), &catapultv1.CreateApiKeyRequest{
		ApiKey: &catapultv1.ApiKey{Name: unique("go-watch-reader"), Role: "reader"},
	})
	if err != nil {
		t.Fatal(err)
	}
	reader := dialVia(t, srv.Addr, created.GetSecret())
	err = reader.WatchChanges(testContext(t), catapult.ChangeWatchFilter{ResourceType: "api_key"}, nothing)
	if !catapult.IsPermissionDenied(err) {
		t.Fatalf("a reader watching API keys: %v, want PERMISSION_DENIED", err)
	}

	// A key revoked while it watches ends the watch (the server checks every second).
	watching := startWatch(t, watchDeployments(reader, catapult.DeploymentWatchFilter{}))
	if _, err := c.APIKeys.RevokeApiKey(testContext(t), &catapultv1.RevokeApiKeyRequest{Id: created.GetApiKey().GetId()}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-watching.done:
		if !catapult.IsUnauthenticated(watching.err) || catapult.Reason(watching.err) != "API_KEY_REVOKED" {
			t.Fatalf("a revoked key's watch returned %v, want UNAUTHENTICATED (API_KEY_REVOKED)", watching.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a revoked key's watch goes on")
	}
}
