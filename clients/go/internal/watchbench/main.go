// Command watchbench holds many WatchDeployments streams open against a Catapult server while
// it records probe deployments, and reports how long each probe took to reach every stream:
// from the moment its CreateDeployment returned to the moment a stream received it (0 when the
// change arrived first). bench/run.py runs it while CreateDeployment is loaded at full speed, to
// measure what the watchers cost the writes and how fast changes reach the watchers.
//
//	go run ./internal/watchbench -addr 127.0.0.1:50051 -key $KEY -watchers 200 \
//	    -environment production -probe-release $RELEASE_ID
//
// It prints "watchbench: N streams open" on stderr once they are, and one JSON report on stdout
// when it gets SIGINT or SIGTERM (or after -duration).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// Streams per connection: well under the HTTP/2 concurrent-stream limits of servers and proxies.
const streamsPerConnection = 50

type report struct {
	Watchers    int      `json:"watchers"`
	Connected   int      `json:"connected"`
	Events      int      `json:"events"`
	Messages    int      `json:"messages"`
	MinPerWatch int      `json:"min_events_per_watcher"`
	MaxPerWatch int      `json:"max_events_per_watcher"`
	Probes      int      `json:"probes"`
	P50Ms       float64  `json:"p50_ms"`
	P99Ms       float64  `json:"p99_ms"`
	MaxMs       float64  `json:"max_ms"`
	Errors      []string `json:"errors"`
	// CPU seconds this process used (decoding every change for every stream): on a machine it
	// shares with the server, what the watchers' side takes from the writes.
	CPUSeconds float64 `json:"cpu_seconds"`
}

type stats struct {
	mu       sync.Mutex
	acked    map[string]time.Time // probe deployment id → when its create returned
	arrivals map[string][]time.Time
	perWatch []int
	messages int
	errs     []string
	failed   int // streams that never opened
	probes   int
}

func (s *stats) fail(err error, opening bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err.Error())
	if opening {
		s.failed++
	}
}

const settleTimeout = 10 * time.Second

// settle waits until every probe acked has reached every open stream and no event has arrived
// for half a second (the load's last writes), or settleTimeout.
func (s *stats) settle(open int) {
	deadline := time.Now().Add(settleTimeout)
	last, quietSince := -1, time.Now()
	for time.Now().Before(deadline) {
		s.mu.Lock()
		events, delivered := 0, true
		for _, count := range s.perWatch {
			events += count
		}
		for id := range s.acked {
			delivered = delivered && len(s.arrivals[id]) >= open
		}
		s.mu.Unlock()
		if events != last {
			last, quietSince = events, time.Now()
		}
		if delivered && time.Since(quietSince) >= 500*time.Millisecond {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "the server's gRPC address")
	key := flag.String("key", os.Getenv("CATAPULT_API_KEY"), "API key with write access (default $CATAPULT_API_KEY)")
	watchers := flag.Int("watchers", 200, "streams to hold open")
	environment := flag.String("environment", "production", "the streams' environment filter, and the probes'")
	probeRelease := flag.String("probe-release", "", "the release the probe deployments are of (required)")
	probeEvery := flag.Duration("probe-every", 50*time.Millisecond, "time between probe deployments")
	duration := flag.Duration("duration", 0, "stop after this long (0: at SIGINT/SIGTERM)")
	flag.Parse()
	if *probeRelease == "" {
		fmt.Fprintln(os.Stderr, "watchbench: -probe-release is required")
		os.Exit(2)
	}

	// A signal (or -duration) stops the probes; the streams stay open until every probe acked
	// has reached them (or settleTimeout), so what is counted is what was delivered.
	probing, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		probing, cancel = context.WithTimeout(probing, *duration)
		defer cancel()
	}
	ctx, closeStreams := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "x-api-key", *key))
	defer closeStreams()

	s := &stats{acked: map[string]time.Time{}, arrivals: map[string][]time.Time{}, perWatch: make([]int, *watchers)}
	var conns []*grpc.ClientConn
	dial := func() *grpc.ClientConn {
		conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "watchbench:", err)
			os.Exit(1)
		}
		conns = append(conns, conn)
		return conn
	}

	var connected, done sync.WaitGroup
	connected.Add(*watchers)
	for i := 0; i < *watchers; i++ {
		if i%streamsPerConnection == 0 {
			dial()
		}
		client := catapultv1.NewDeploymentServiceClient(conns[len(conns)-1])
		done.Add(1)
		go func(i int) {
			defer done.Done()
			stream, err := client.WatchDeployments(ctx, &catapultv1.WatchDeploymentsRequest{Environment: *environment})
			if err == nil {
				_, err = stream.Header() // the server sends headers once the stream is in place
			}
			connected.Done()
			if err != nil {
				s.fail(err, true)
				return
			}
			for {
				batch, err := stream.Recv()
				if err != nil {
					if ctx.Err() == nil {
						s.fail(err, false)
					}
					return
				}
				arrived := time.Now()
				s.mu.Lock()
				s.messages++
				for _, event := range batch.GetEvents() {
					s.perWatch[i]++
					s.arrivals[event.GetResourceId()] = append(s.arrivals[event.GetResourceId()], arrived)
				}
				s.mu.Unlock()
			}
		}(i)
	}
	connected.Wait()
	fmt.Fprintf(os.Stderr, "watchbench: %d streams open\n", *watchers-s.failed)

	// The probes, on a connection of their own.
	probes := catapultv1.NewDeploymentServiceClient(dial())
	ticker := time.NewTicker(*probeEvery)
	for n := 0; probing.Err() == nil; n++ {
		select {
		case <-probing.Done():
		case <-ticker.C:
			created, err := probes.CreateDeployment(ctx, &catapultv1.CreateDeploymentRequest{Deployment: &catapultv1.Deployment{
				ReleaseId:   *probeRelease,
				Environment: *environment,
				EndpointUrl: fmt.Sprintf("https://bench/probe/%d/%d", time.Now().UnixNano(), n),
			}})
			acked := time.Now()
			if err != nil {
				s.fail(err, false)
				continue
			}
			s.mu.Lock()
			s.acked[created.GetId()] = acked
			s.probes++
			s.mu.Unlock()
		}
	}
	ticker.Stop()
	s.settle(*watchers - s.failed)
	closeStreams()
	done.Wait()
	for _, conn := range conns {
		conn.Close()
	}

	out := report{Watchers: *watchers, Connected: *watchers - s.failed, Messages: s.messages, Probes: s.probes, Errors: s.errs}
	var latencies []time.Duration
	for id, acked := range s.acked {
		for _, arrived := range s.arrivals[id] {
			latencies = append(latencies, max(arrived.Sub(acked), 0))
		}
	}
	for _, count := range s.perWatch {
		out.Events += count
	}
	slices.Sort(latencies)
	if len(latencies) > 0 {
		at := func(p float64) float64 {
			return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
		}
		out.P50Ms, out.P99Ms, out.MaxMs = at(0.50), at(0.99), at(1)
		out.MinPerWatch, out.MaxPerWatch = slices.Min(s.perWatch), slices.Max(s.perWatch)
	}
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) == nil {
		out.CPUSeconds = time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
	}
	if len(out.Errors) > 5 {
		out.Errors = append(out.Errors[:5], fmt.Sprintf("… %d more", len(s.errs)-5))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
