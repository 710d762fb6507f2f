package catapult

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// catapultError is a status error as the server sends it, with its ErrorInfo.
func catapultError(t *testing.T, code codes.Code, reason catapultv1.ErrorReason, md map[string]string) error {
	t.Helper()
	st, err := status.New(code, "from the test").WithDetails(
		&errdetails.ErrorInfo{Reason: reason.String(), Domain: ErrorDomain, Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestResumable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"server shutting down", catapultError(t, codes.Unavailable, catapultv1.ErrorReason_SERVER_SHUTTING_DOWN, nil), true},
		{"connection lost", status.Error(codes.Unavailable, "error reading from server: EOF"), true},
		{"too slow", catapultError(t, codes.ResourceExhausted, catapultv1.ErrorReason_WATCHER_TOO_SLOW, map[string]string{"cursor": "7"}), true},
		{"ended by the server", errStreamEnded, true},
		{"too many watches", catapultError(t, codes.ResourceExhausted, catapultv1.ErrorReason_TOO_MANY_WATCHES, nil), false},
		{"cursor expired", catapultError(t, codes.FailedPrecondition, catapultv1.ErrorReason_CURSOR_EXPIRED, nil), false},
		{"revoked", catapultError(t, codes.Unauthenticated, catapultv1.ErrorReason_API_KEY_REVOKED, nil), false},
		{"bad filter", catapultError(t, codes.InvalidArgument, catapultv1.ErrorReason_INVALID_FIELD, nil), false},
		{"denied", status.Error(codes.PermissionDenied, "no"), false},
		{"internal", catapultError(t, codes.Internal, catapultv1.ErrorReason_INTERNAL_ERROR, nil), false},
		{"reset by a proxy", status.Error(codes.Internal, "stream terminated by RST_STREAM with error code: INTERNAL_ERROR"), true},
		{"undecodable", status.Error(codes.Internal, "grpc: failed to unmarshal the received message"), false},
	} {
		if got := resumable(tc.err); got != tc.want {
			t.Errorf("%s: resumable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestWatchBackoffGrowsToItsBound(t *testing.T) {
	w := &watcher{cfg: watchConfig{initial: 100 * time.Millisecond, maxBackoff: time.Second}}
	for n, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 50 {
			if d := w.backoff(n); d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, want between %s and %s", n, d, ceiling/2, ceiling)
			}
		}
	}
	if d := (&watcher{}).backoff(3); d != 0 {
		t.Fatalf("a zero backoff waits %s", d)
	}
}

// fakeStream replays batches, then ends with err.
type fakeStream struct {
	grpc.ClientStream // not called
	batches           []*catapultv1.ChangeBatch
	err               error
}

func (s *fakeStream) Recv() (*catapultv1.ChangeBatch, error) {
	if len(s.batches) == 0 {
		return nil, s.err
	}
	b := s.batches[0]
	s.batches = s.batches[1:]
	return b, nil
}

// place is the empty batch a stream starts with (and an idle stream's heartbeat).
func place(cursor string) *catapultv1.ChangeBatch { return &catapultv1.ChangeBatch{Cursor: cursor} }

func batch(events ...*catapultv1.ChangeEvent) *catapultv1.ChangeBatch {
	return &catapultv1.ChangeBatch{Events: events, Cursor: events[len(events)-1].GetCursor()}
}

// The watch resumes from the cursor WATCHER_TOO_SLOW names, from a heartbeat's, and after a
// stream the server ended cleanly; a stream that is refused outright is no connection.
func TestWatchResumesFromTheCursorTheServerNames(t *testing.T) {
	tooSlow := catapultError(t, codes.ResourceExhausted, catapultv1.ErrorReason_WATCHER_TOO_SLOW, map[string]string{"cursor": "41"})
	revoked := catapultError(t, codes.Unauthenticated, catapultv1.ErrorReason_API_KEY_REVOKED, nil)
	streams := []*fakeStream{
		{batches: []*catapultv1.ChangeBatch{place("40")}, err: tooSlow}, // cut off before fn saw anything: only the server knows where
		{batches: []*catapultv1.ChangeBatch{place("41"), batch(&catapultv1.ChangeEvent{Cursor: "42", Type: EventCreated})}, err: io.EOF},
		{err: status.Error(codes.Unavailable, "no server")},
		{batches: []*catapultv1.ChangeBatch{place("42"), place("44")}, err: status.Error(codes.Unavailable, "lost")},
		{batches: []*catapultv1.ChangeBatch{place("44"), batch(&catapultv1.ChangeEvent{Cursor: "45", Type: EventUpdated}, &catapultv1.ChangeEvent{Cursor: "46", Type: EventTerminated})}, err: revoked},
	}
	var opened []string
	open := func(_ context.Context, cursor string) (grpc.ServerStreamingClient[catapultv1.ChangeBatch], error) {
		opened = append(opened, cursor)
		s := streams[0]
		streams = streams[1:]
		return s, nil
	}
	var delivered []string
	var connects []bool
	var waits []time.Duration
	err := watch(context.Background(), "40", open, func(e Event) error {
		delivered = append(delivered, e.GetCursor()+" "+e.GetType())
		return nil
	}, []WatchOption{
		WatchBackoff(time.Millisecond, 4*time.Millisecond),
		OnWatchConnect(func(resumed bool) { connects = append(connects, resumed) }),
		OnWatchResume(func(_ error, _ string, wait time.Duration) { waits = append(waits, wait) }),
	})
	if !errors.Is(err, revoked) {
		t.Fatalf("watch returned %v, want the UNAUTHENTICATED that ended it", err)
	}
	if want := []string{"40", "41", "42", "42", "44"}; !slices.Equal(opened, want) {
		t.Fatalf("streams opened from cursors %q, want %q", opened, want)
	}
	if want := []string{"42 created", "45 updated", "46 terminated"}; !slices.Equal(delivered, want) {
		t.Fatalf("delivered %q, want %q (no empty batch)", delivered, want)
	}
	if want := []bool{false, true, true, true}; !slices.Equal(connects, want) {
		t.Fatalf("OnWatchConnect calls %v, want %v", connects, want)
	}
	// Each stream in place starts the backoff over; the refused one doubles it.
	if len(waits) != 4 || waits[0] > time.Millisecond || waits[1] > time.Millisecond || waits[2] < time.Millisecond || waits[3] > time.Millisecond {
		t.Fatalf("waits %v, want ≤ 1 ms, ≤ 1 ms, 1–2 ms, ≤ 1 ms", waits)
	}

	if err := watch(context.Background(), "", open, nil, nil); err == nil {
		t.Fatal("a watch without fn started")
	}
}
