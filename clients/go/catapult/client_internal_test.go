package catapult

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

func TestIsLoopbackTarget(t *testing.T) {
	for target, want := range map[string]bool{
		"localhost:50051":            true,
		"LOCALHOST:50051":            true,
		"127.0.0.1:50051":            true,
		"127.0.0.2:9":                true,
		"[::1]:50051":                true,
		"dns:///localhost:50051":     true,
		"unix:///tmp/catapult.sock":  true,
		"localhost":                  true,
		"catapult.internal:443":      false,
		"dns:///catapult.prod:443":   false,
		"10.0.0.5:50051":             false,
		"[2001:db8::1]:50051":        false,
		"localhost.attacker.test:80": false,
	} {
		if got := IsLoopbackTarget(target); got != want {
			t.Errorf("IsLoopbackTarget(%q) = %v, want %v", target, got, want)
		}
	}
}

func TestTransportOptions(t *testing.T) {
	for _, value := range []string{"", "1", "true", "YES", "0", "false", "no"} {
		if _, err := TransportOptions(value, ""); err != nil {
			t.Errorf("TransportOptions(%q): %v", value, err)
		}
	}
	if _, err := TransportOptions("maybe", ""); err == nil {
		t.Error("TransportOptions(maybe) accepted a value that is neither true nor false")
	}
	if _, err := TransportOptions("1", "/etc/ssl/ca.pem"); err == nil {
		t.Error("a CA file with plaintext was accepted")
	}
	if _, err := TransportOptions("", "/does/not/exist.pem"); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// The retry policy covers exactly the read-only RPCs, read from the protos.
func TestServiceConfigRetriesOnlyReads(t *testing.T) {
	var cfg struct {
		MethodConfig []struct {
			Name []struct{ Service, Method string }
		}
	}
	if err := json.Unmarshal([]byte(serviceConfig()), &cfg); err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, n := range cfg.MethodConfig[0].Name {
		methods = append(methods, n.Service+"/"+n.Method)
	}
	for _, read := range []string{"catapult.v1.ReleaseService/GetLatestRelease", "catapult.v1.DeploymentService/ListDeployments"} {
		if !slices.Contains(methods, read) {
			t.Errorf("%s is not retried", read)
		}
	}
	for _, write := range []string{"catapult.v1.DeploymentService/CreateDeployment", "catapult.v1.DeploymentService/DeleteDeployment"} {
		if slices.Contains(methods, write) {
			t.Errorf("%s (a write) is retried", write)
		}
	}
}

// A create's request_id goes out as idempotency-key metadata too (Envoy retries a create only
// with it); a create without one, and every other request, carry none.
func TestRequestIDIsSentAsIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		req  any
		want []string
	}{
		{&catapultv1.CreateDeploymentRequest{RequestId: "deploy-1"}, []string{"deploy-1"}},
		{&catapultv1.CreateModelRequest{RequestId: "model-1"}, []string{"model-1"}},
		{&catapultv1.CreateDeploymentRequest{}, nil},
		{&catapultv1.GetModelRequest{Id: "8a4c0d8e-3f8e-4b7e-9a43-7a1d3c1e2f00"}, nil},
	} {
		var sent []string
		invoker := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			md, _ := metadata.FromOutgoingContext(ctx)
			sent = md.Get(IdempotencyKeyHeader)
			return nil
		}
		if err := sendRequestIDAsHeader(context.Background(), "/m", tc.req, nil, nil, invoker); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sent, tc.want) {
			t.Errorf("%T: sent %q, want %q", tc.req, sent, tc.want)
		}
	}
}
