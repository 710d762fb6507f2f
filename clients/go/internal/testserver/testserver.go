// Package testserver runs a real Catapult server for the Go integration tests: `catapult up`
// as a subprocess, on its own embedded PostgreSQL in a temporary directory and a free port.
//
// Environment:
//
//   - CATAPULT_BIN: the catapult executable (the Makefile's test-go target sets it); default
//     ../../.venv/bin/catapult relative to the module root (clients/go).
//   - CATAPULT_TEST_ADDR and CATAPULT_TEST_API_KEY: test against this server instead of
//     starting one (e.g. through a proxy such as Envoy's gRPC port). The key must be an admin
//     or writer key. Tests that need a server of their own (StartWith: other settings, a
//     Restart) start one all the same.
//
// The subprocess gets none of the caller's CATAPULT_* variables: in particular a
// CATAPULT_DATABASE_URL meant for the Python tests must not point these tests at a shared
// database (the bootstrap admin key is only made on an empty one).
package testserver

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a Catapult server the tests talk to.
type Server struct {
	// Addr is its gRPC address, host:port: Envoy's port under CATAPULT_TEST_VIA_ENVOY.
	Addr string
	// GRPCAddr is the server's own gRPC port, Envoy or not ("" for CATAPULT_TEST_ADDR).
	GRPCAddr string
	// APIKey is an admin key for it.
	APIKey string

	dataDir string
	bin     string
	args    []string
	env     []string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the subprocess has exited
	mu      sync.Mutex
	log     strings.Builder
}

// Options configure StartWith.
type Options struct {
	// Env adds variables to the server's environment, e.g.
	// "CATAPULT_WATCH_HEARTBEAT_SECONDS=1".
	Env []string
}

const startTimeout = 120 * time.Second

// Main is a TestMain: it starts a server (unless -short), stores it in *srv, runs the tests
// and stops the server. With -short, *srv stays nil and integration tests should skip.
func Main(m *testing.M, srv **Server) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	s, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testserver: %v\n", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testserver: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 && s.cmd != nil {
		fmt.Fprintf(os.Stderr, "--- catapult up output:\n%s\n", s.Log())
	}
	return code
}

// Start starts `catapult up` on a free port and waits until it reports "is up", or returns
// the server named by CATAPULT_TEST_ADDR.
func Start() (*Server, error) {
	if addr := os.Getenv("CATAPULT_TEST_ADDR"); addr != "" {
		key := os.Getenv("CATAPULT_TEST_API_KEY")
		if key == "" {
			return nil, errors.New("CATAPULT_TEST_ADDR is set but CATAPULT_TEST_API_KEY is not")
		}
		return &Server{Addr: addr, APIKey: key}, nil
	}
	return StartWith(Options{})
}

// StartWith starts a server of its own, as Start does, configured by opts (whatever
// CATAPULT_TEST_ADDR says: a test that needs a server of its own calls it). Stop it when done.
func StartWith(opts Options) (*Server, error) {
	bin, err := catapultBin()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "catapult-go-test-")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), GRPCAddr: "127.0.0.1:" + strconv.Itoa(port), dataDir: dataDir, bin: bin}
	s.args = []string{"up", "--data-dir", dataDir, "--grpc-port", strconv.Itoa(port), "--host", "127.0.0.1"}
	if os.Getenv("CATAPULT_TEST_VIA_ENVOY") != "" {
		// Every call goes through Envoy's port (REST and native gRPC share it), as a client
		// behind the production gateway would.
		httpPort, err := freePort()
		if err != nil {
			return nil, err
		}
		s.args = append(s.args, "--http-port", strconv.Itoa(httpPort))
		s.Addr = "127.0.0.1:" + strconv.Itoa(httpPort)
	} else if hasHTTPPortFlag(bin) {
		// No Envoy: its default port (8080) would collide between test packages run in
		// parallel and with a developer's `make run`.
		s.args = append(s.args, "--http-port", "0")
	}
	s.env = append(environWithoutCatapult(), opts.Env...)
	if err := s.launch(); err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(dataDir, "admin-key"))
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("reading the bootstrap admin key: %w", err)
	}
	s.APIKey = strings.TrimSpace(string(key))
	return s, nil
}

// launch starts the subprocess and waits until it is up.
func (s *Server) launch() error {
	s.done = make(chan struct{})
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Env = s.env
	setParentDeathSignal(s.cmd)
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	s.cmd.Stderr = s.cmd.Stdout // one stream, in order
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	up := make(chan struct{})
	go s.collect(out, up)
	done := s.done
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()

	select {
	case <-up:
		return nil
	case <-done:
		return fmt.Errorf("catapult up exited before it was up:\n%s", s.Log())
	case <-time.After(startTimeout):
		_ = s.stop()
		return fmt.Errorf("catapult up was not up after %s:\n%s", startTimeout, s.Log())
	}
}

// Restart stops the server as Stop does (SIGINT: open streams end with UNAVAILABLE) and starts
// it again on the same address, with the same data and keys: a restart as its clients see one.
func (s *Server) Restart() error {
	if s.cmd == nil {
		return errors.New("testserver: cannot restart a server the tests did not start")
	}
	if err := s.stop(); err != nil {
		return err
	}
	return s.launch()
}

// collect keeps the server's output (it must be drained, or the server blocks on a full pipe)
// and signals up once the banner's "is up" line appears.
func (s *Server) collect(r io.Reader, up chan<- struct{}) {
	scanner := bufio.NewScanner(r)
	signalled := false
	for scanner.Scan() {
		line := scanner.Text()
		s.mu.Lock()
		s.log.WriteString(line + "\n")
		s.mu.Unlock()
		if !signalled && strings.Contains(line, "is up") {
			signalled = true
			close(up)
		}
	}
}

// Log returns what the server printed so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Stop stops the server with SIGINT (Ctrl-C, which stops PostgreSQL too) and removes its data
// directory. It kills the server if it has not exited after 30 seconds.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	defer os.RemoveAll(s.dataDir)
	return s.stop()
}

// stop stops the subprocess, keeping its data.
func (s *Server) stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("catapult up had exited on its own: %v", s.cmd.ProcessState)
	default:
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	select {
	case <-s.done:
		if !s.cmd.ProcessState.Success() {
			return fmt.Errorf("catapult up exited with %v on SIGINT", s.cmd.ProcessState)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("catapult up did not stop within 30 s of SIGINT; killed it")
	}
}

// catapultBin finds the catapult executable: CATAPULT_BIN, else the repository's venv.
func catapultBin() (string, error) {
	if bin := os.Getenv("CATAPULT_BIN"); bin != "" {
		return bin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "..", "..", ".venv", "bin", "catapult")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no catapult executable at %s: run `make install` or set CATAPULT_BIN", bin)
	}
	return bin, nil
}

// moduleRoot is the directory of the go.mod above the working directory (go test runs each
// package in its own directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// hasHTTPPortFlag reports whether `catapult up` starts Envoy (and so takes --http-port).
func hasHTTPPortFlag(bin string) bool {
	cmd := exec.Command(bin, "up", "--help")
	cmd.Env = environWithoutCatapult()
	out, err := cmd.Output()
	return err == nil && strings.Contains(string(out), "--http-port")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func environWithoutCatapult() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CATAPULT_") {
			env = append(env, kv)
		}
	}
	return env
}
