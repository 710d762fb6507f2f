package catapult

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// Event is one change a watch delivers: what happened (Type, one of the Event… constants), to
// which resource (ResourceType, ResourceId), when (Time), by which key (ApiKeyName), the
// resource as it is after the change (GetDeployment, GetRelease, …; as it was, for
// EventDeleted) and the Cursor a later watch resumes after. It is the generated message: a
// func(*catapultv1.ChangeEvent) error is a func(Event) error.
type Event = *catapultv1.ChangeEvent

// Event types: the closed vocabulary of catapult.v1.ChangeEvent.type, whose
// (catapult.v1.rules).choices a test compares these with.
const (
	EventCreated = "created"
	EventUpdated = "updated"
	// EventSuperseded is a deployment terminated because another became live in its slot.
	EventSuperseded = "superseded"
	EventTerminated = "terminated"
	// EventDeleted is a forced delete; the event carries the resource as it was.
	EventDeleted = "deleted"
)

// DeploymentWatchFilter selects the deployment changes WatchDeployments delivers. Every field
// set must match the deployment as it is after the change; a zero field does not filter. It is
// the typed form of a WatchDeploymentsRequest; the fields DeploymentFilter has too mean what they
// mean there.
type DeploymentWatchFilter struct {
	// Cursor resumes after the change it names (an Event's Cursor): every later change is
	// delivered first, none twice. Empty: from now on.
	Cursor string

	Environment, EndpointURL, Model, ModelID, ReleaseID, Company, Cluster, Namespace string
	// Status is the deployment's status after the change, one of the Status… constants.
	Status string
	// ActiveOnly keeps the changes of deployments that are live after the change or stopped
	// being live by it: a new deployment arriving, and the one it superseded leaving.
	ActiveOnly bool
	// Digest and ReleaseStatus are the release's image digest and status (after the change).
	Digest, ReleaseStatus string
}

// Request returns the WatchDeploymentsRequest the filter stands for.
func (f DeploymentWatchFilter) Request() *catapultv1.WatchDeploymentsRequest {
	return &catapultv1.WatchDeploymentsRequest{
		Cursor:        f.Cursor,
		Environment:   f.Environment,
		EndpointUrl:   f.EndpointURL,
		ModelName:     f.Model,
		ModelId:       f.ModelID,
		ReleaseId:     f.ReleaseID,
		Company:       f.Company,
		Cluster:       f.Cluster,
		K8SNamespace:  f.Namespace,
		Status:        f.Status,
		ActiveOnly:    f.ActiveOnly,
		Digest:        f.Digest,
		ReleaseStatus: f.ReleaseStatus,
	}
}

// ChangeWatchFilter selects the changes WatchChanges delivers.
type ChangeWatchFilter struct {
	// Cursor resumes after the change it names, as DeploymentWatchFilter.Cursor.
	Cursor string
	// ResourceType is "model", "release", "artifact", "deployment" or "api_key" (admin keys
	// only); empty for every type (API keys' changes then reach admin keys only).
	ResourceType string
	// ResourceID is one resource's id.
	ResourceID string
}

// Request returns the WatchChangesRequest the filter stands for.
func (f ChangeWatchFilter) Request() *catapultv1.WatchChangesRequest {
	return &catapultv1.WatchChangesRequest{Cursor: f.Cursor, ResourceType: f.ResourceType, ResourceId: f.ResourceID}
}

// Backoff between a watch stream's end and its resume: DefaultWatchBackoff doubling up to
// DefaultWatchMaxBackoff, each wait a random half to all of that (WatchBackoff changes them).
const (
	DefaultWatchBackoff    = 250 * time.Millisecond
	DefaultWatchMaxBackoff = 5 * time.Second
)

// A WatchOption configures WatchDeployments and WatchChanges.
type WatchOption func(*watchConfig)

type watchConfig struct {
	initial, maxBackoff time.Duration
	onConnect           func(resumed bool)
	onResume            func(err error, cursor string, wait time.Duration)
}

// WatchBackoff sets the first wait before a resume and the longest one (see
// DefaultWatchBackoff). Waits double from initial up to longest, each a random half to all of that;
// they start over once a stream is in place again.
func WatchBackoff(initial, longest time.Duration) WatchOption {
	return func(c *watchConfig) { c.initial, c.maxBackoff = initial, longest }
}

// OnWatchConnect calls fn each time a stream is in place: its first message came, so every
// change that commits from then on is delivered (after the changes since the cursor, when
// there is one). resumed is false for the first stream and true for each resume.
func OnWatchConnect(fn func(resumed bool)) WatchOption {
	return func(c *watchConfig) { c.onConnect = fn }
}

// OnWatchResume calls fn when a stream ends in a way a resume mends, before the wait: err is
// why it ended, cursor where the watch resumes from ("" when the first stream of a watch started
// without a cursor never got in place: then from the moment it resumes), wait how long it waits
// first.
func OnWatchResume(fn func(err error, cursor string, wait time.Duration)) WatchOption {
	return func(c *watchConfig) { c.onResume = fn }
}

// WatchDeployments calls fn with each change to the deployments matching f, in the order the
// changes committed, each once, for as long as ctx lasts: created, updated, superseded,
// terminated, deleted (see the Event… constants). The server sends changes in batches; fn
// sees them one at a time. Empty batches (a stream's first message, heartbeats on an idle
// stream) move the watch's place and do not reach fn.
//
// A stream that ends in a way a resume mends is resumed from the last place received, after a backoff (WatchBackoff), as often as it takes: UNAVAILABLE (the
// server shutting down or restarting, the connection lost, no replica answering; through Envoy
// a server lost mid-stream is an INTERNAL RST_STREAM, resumed alike), and
// RESOURCE_EXHAUSTED WATCHER_TOO_SLOW (fn kept up too slowly: resumed from the cursor the
// server names). No change is missed or repeated across a resume, except when the first stream
// of a watch started without a cursor never got in place: having no place yet, it resumes from
// the moment it reconnects. OnWatchResume reports each resume and OnWatchConnect each stream.
//
// It returns only:
//   - ctx.Err() when ctx is cancelled or its deadline passes: the way to stop a watch;
//   - fn's error, unchanged, when fn returns one: no later change is delivered;
//   - the status error that ended the stream when a resume cannot mend it: INVALID_ARGUMENT
//     (a bad filter or cursor), FAILED_PRECONDITION CURSOR_EXPIRED (the changes after the
//     cursor were pruned: list what you need again, then watch without a cursor),
//     RESOURCE_EXHAUSTED TOO_MANY_WATCHES, UNAUTHENTICATED (the key was revoked or expired,
//     also while watching), PERMISSION_DENIED.
//
// fn runs on the calling goroutine, one event at a time; the stream is not read meanwhile. Its
// goroutines are gone when WatchDeployments returns.
func (c *Client) WatchDeployments(ctx context.Context, f DeploymentWatchFilter, fn func(Event) error, opts ...WatchOption) error {
	return watch(ctx, f.Cursor, func(ctx context.Context, cursor string) (grpc.ServerStreamingClient[catapultv1.ChangeBatch], error) {
		req := f.Request()
		req.Cursor = cursor
		return c.Deployments.WatchDeployments(ctx, req)
	}, fn, opts)
}

// WatchChanges calls fn with each change to the registry matching f (every resource type, one
// type, or one resource), as WatchDeployments does for deployments: in commit order, each once,
// resumed across UNAVAILABLE and WATCHER_TOO_SLOW, until ctx ends or fn returns an error.
// PERMISSION_DENIED for ResourceType "api_key" without an admin key.
func (c *Client) WatchChanges(ctx context.Context, f ChangeWatchFilter, fn func(Event) error, opts ...WatchOption) error {
	return watch(ctx, f.Cursor, func(ctx context.Context, cursor string) (grpc.ServerStreamingClient[catapultv1.ChangeBatch], error) {
		req := f.Request()
		req.Cursor = cursor
		return c.Changes.WatchChanges(ctx, req)
	}, fn, opts)
}

// errStreamEnded is a stream the server closed without an error: a watch has no end, so it is
// resumed like one cut off.
var errStreamEnded = errors.New("the watch stream ended")

// callbackError carries fn's error out of a stream, apart from the stream's own errors (fn may
// well return a status error of its own: it must not be resumed).
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

type openStream func(ctx context.Context, cursor string) (grpc.ServerStreamingClient[catapultv1.ChangeBatch], error)

type watcher struct {
	cfg     watchConfig
	open    openStream
	fn      func(Event) error
	cursor  string
	resumed bool
}

func watch(ctx context.Context, cursor string, open openStream, fn func(Event) error, opts []WatchOption) error {
	if fn == nil {
		return errors.New("catapult: a watch needs a function to call with each event")
	}
	cfg := watchConfig{initial: DefaultWatchBackoff, maxBackoff: DefaultWatchMaxBackoff}
	for _, opt := range opts {
		opt(&cfg)
	}
	w := &watcher{cfg: cfg, open: open, fn: fn, cursor: cursor}
	failures := 0 // since a stream was last in place
	for {
		connected, err := w.follow(ctx)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var stop callbackError
		if errors.As(err, &stop) {
			return stop.err
		}
		if !resumable(err) {
			return err
		}
		if HasReason(err, catapultv1.ErrorReason_WATCHER_TOO_SLOW) {
			if c := ErrorInfo(err).GetMetadata()["cursor"]; c != "" {
				w.cursor = c
			}
		}
		if connected {
			failures = 0
		}
		failures++
		wait := w.backoff(failures)
		if w.cfg.onResume != nil {
			w.cfg.onResume(err, w.cursor, wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		w.resumed = true
	}
}

// follow reads one stream from w.cursor until it ends, moving w.cursor to each batch's cursor
// and calling fn with each of its events; connected says whether the stream was in place (its
// first message, an empty batch naming the stream's place, came).
func (w *watcher) follow(ctx context.Context) (connected bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream and its goroutines, however this returns
	stream, err := w.open(ctx, w.cursor)
	if err != nil {
		return false, err
	}
	for {
		batch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return connected, errStreamEnded
		}
		if err != nil {
			return connected, err
		}
		if !connected {
			connected = true
			if w.cfg.onConnect != nil {
				w.cfg.onConnect(w.resumed)
			}
		}
		for _, event := range batch.GetEvents() {
			if err := w.fn(event); err != nil {
				// The events fn saw count: a resume goes on after the last of them.
				return connected, callbackError{err}
			}
			w.cursor = event.GetCursor()
		}
		// An empty batch (the first message, a heartbeat) moves the place too.
		if c := batch.GetCursor(); c != "" {
			w.cursor = c
		}
	}
}

// resumable reports whether a watch resumes after a stream ended with err.
func resumable(err error) bool {
	switch {
	case errors.Is(err, errStreamEnded):
		return true
	case Code(err) == codes.Unavailable:
		return true
	case HasReason(err, catapultv1.ErrorReason_WATCHER_TOO_SLOW):
		return true
	case Code(err) == codes.Internal && ErrorInfo(err) == nil && strings.Contains(err.Error(), "RST_STREAM"):
		// A proxy resetting the stream: Envoy does when it loses the server mid-stream (a crash,
		// a cut connection). The server's own INTERNAL errors carry an ErrorInfo.
		return true
	}
	return false
}

// backoff is the wait before resume number n (since a stream was last in place): initial ×
// 2^(n-1), at most maxBackoff, of which a random half is dropped so that the watchers a restart
// cut off do not all come back at once.
func (w *watcher) backoff(n int) time.Duration {
	d := w.cfg.initial
	for i := 1; i < n && d < w.cfg.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.maxBackoff)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}
