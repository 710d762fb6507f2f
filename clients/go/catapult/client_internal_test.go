package catapult

import (
	"encoding/json"
	"slices"
	"testing"
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
