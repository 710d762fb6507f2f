package catapult

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// DefaultAddr is the address Catapult listens on locally (`make run`), and the default of
// CATAPULT_ADDR.
const DefaultAddr = "localhost:50051"

// Defaults of the Dial options.
const (
	// DefaultCallTimeout bounds every RPC whose context has no deadline of its own.
	DefaultCallTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds the health check Dial makes, unless its context has an
	// earlier deadline.
	DefaultConnectTimeout = 10 * time.Second
)

// APIKeyHeader is the metadata key the API key is sent in. The server also accepts
// "authorization: Bearer KEY".
const APIKeyHeader = "x-api-key"

// Client is a connection to a Catapult server. Its fields are the generated service clients,
// for every RPC of the API; its methods are the helpers CI tooling needs. A Client is safe for
// concurrent use; Close it when done.
type Client struct {
	// Models registers models and finds them (catapult.v1.ModelService).
	Models catapultv1.ModelServiceClient
	// Releases records releases and finds the latest one (catapult.v1.ReleaseService).
	Releases catapultv1.ReleaseServiceClient
	// Artifacts records the files of a release (catapult.v1.ArtifactService).
	Artifacts catapultv1.ArtifactServiceClient
	// Deployments records which release is live where (catapult.v1.DeploymentService).
	Deployments catapultv1.DeploymentServiceClient
	// APIKeys manages API keys; it needs an admin key (catapult.v1.ApiKeyService).
	APIKeys catapultv1.ApiKeyServiceClient
	// AuditLogs reads the audit log (catapult.v1.AuditLogService).
	AuditLogs catapultv1.AuditLogServiceClient
	// Changes streams every change to the registry (catapult.v1.ChangeService); WatchChanges
	// resumes it.
	Changes catapultv1.ChangeServiceClient
	// System reports the server's version and health (catapult.v1.SystemService).
	System catapultv1.SystemServiceClient

	conn *grpc.ClientConn // nil when the connection was given to New
}

// New returns a Client over an existing connection, e.g. one made with custom dial options.
// Closing that Client does not close cc.
func New(cc grpc.ClientConnInterface) *Client {
	return &Client{
		Models:      catapultv1.NewModelServiceClient(cc),
		Releases:    catapultv1.NewReleaseServiceClient(cc),
		Artifacts:   catapultv1.NewArtifactServiceClient(cc),
		Deployments: catapultv1.NewDeploymentServiceClient(cc),
		APIKeys:     catapultv1.NewApiKeyServiceClient(cc),
		AuditLogs:   catapultv1.NewAuditLogServiceClient(cc),
		Changes:     catapultv1.NewChangeServiceClient(cc),
		System:      catapultv1.NewSystemServiceClient(cc),
	}
}

// Conn returns the client's connection, or nil when the Client was made with New.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection Dial opened. It is a no-op for a Client made with New.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// An Option configures Dial.
type Option func(*dialConfig)

type transport int

const (
	transportAuto transport = iota
	transportPlaintext
	transportTLS
)

type dialConfig struct {
	apiKey         string
	transport      transport
	tlsConfig      *tls.Config
	callTimeout    time.Duration
	connectTimeout time.Duration
	healthCheck    bool
	userAgent      string
	dialOptions    []grpc.DialOption
}

// WithAPIKey sends key as `x-api-key` metadata on every RPC. Without it only the RPCs that
// need no key (SystemService/Health, reflection, grpc.health.v1) succeed.
func WithAPIKey(key string) Option {
	return func(c *dialConfig) { c.apiKey = key }
}

// WithPlaintext connects without TLS. The API key is then sent in clear text: use it for
// loopback addresses, a sidecar or a private network only.
//
// Without WithPlaintext or WithTLS, Dial uses plaintext for loopback targets ("localhost",
// 127.0.0.0/8, ::1, unix sockets) and TLS with the system's root certificates otherwise.
func WithPlaintext() Option {
	return func(c *dialConfig) { c.transport = transportPlaintext }
}

// WithTLS connects with TLS configured by cfg; a nil cfg verifies the server against the
// system's root certificates.
func WithTLS(cfg *tls.Config) Option {
	return func(c *dialConfig) {
		c.transport = transportTLS
		c.tlsConfig = cfg
	}
}

// WithCallTimeout sets the deadline given to every RPC whose context has none
// (DefaultCallTimeout by default). Zero leaves such RPCs unbounded.
func WithCallTimeout(d time.Duration) Option {
	return func(c *dialConfig) { c.callTimeout = d }
}

// WithConnectTimeout bounds Dial's health check (DefaultConnectTimeout by default).
func WithConnectTimeout(d time.Duration) Option {
	return func(c *dialConfig) { c.connectTimeout = d }
}

// WithoutHealthCheck makes Dial return without contacting the server: the connection is then
// made by the first RPC, and an unreachable server is reported by it.
func WithoutHealthCheck() Option {
	return func(c *dialConfig) { c.healthCheck = false }
}

// WithUserAgent prefixes the gRPC user agent, e.g. with the name of the tool calling Catapult.
func WithUserAgent(ua string) Option {
	return func(c *dialConfig) { c.userAgent = ua }
}

// WithDialOptions adds gRPC dial options (interceptors, a custom resolver, …) after the ones
// Dial sets, so they can override them.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *dialConfig) { c.dialOptions = append(c.dialOptions, opts...) }
}

// Dial connects to the Catapult server at target ("host:port", or any gRPC target such as
// "dns:///catapult.internal:443") and checks that it answers by calling SystemService/Health,
// within ctx and the connect timeout. An unreachable server, a TLS mismatch or a server whose
// database is down is reported here, as a status error (codes.Unavailable).
//
// Defaults: plaintext for loopback targets and TLS otherwise (see WithPlaintext); every RPC
// without a deadline gets DefaultCallTimeout; keepalive pings every 30 s (the server accepts
// one every 10 s) so dead connections behind load balancers are noticed; a lost connection is
// redialled after 250 ms growing to at most 5 s (gRPC's default grows to 120 s: a server back
// from a restart would go unnoticed for minutes); the read-only RPCs (those marked
// NO_SIDE_EFFECTS in the protos) are retried on UNAVAILABLE with backoff; a create's request_id
// is sent as IdempotencyKeyHeader metadata too.
// Creates are not retried by the library: give them a request_id and retry the call.
func Dial(ctx context.Context, target string, opts ...Option) (*Client, error) {
	cfg := dialConfig{
		callTimeout:    DefaultCallTimeout,
		connectTimeout: DefaultConnectTimeout,
		healthCheck:    true,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if target == "" {
		return nil, errors.New("catapult: Dial needs a target address (e.g. localhost:50051)")
	}
	secure := cfg.transport == transportTLS || (cfg.transport == transportAuto && !IsLoopbackTarget(target))
	dialOpts := []grpc.DialOption{
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 20 * time.Second,
		}),
		grpc.WithDefaultServiceConfig(serviceConfig()),
		grpc.WithUserAgent(strings.TrimSpace(cfg.userAgent + " catapult-go")),
		grpc.WithChainUnaryInterceptor(sendRequestIDAsHeader),
	}
	if secure {
		tlsCfg := cfg.tlsConfig
		if tlsCfg == nil {
			tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	} else {
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if cfg.apiKey != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(apiKeyCredentials{key: cfg.apiKey, secure: secure}))
	}
	if cfg.callTimeout > 0 {
		dialOpts = append(dialOpts, grpc.WithChainUnaryInterceptor(defaultTimeout(cfg.callTimeout)))
	}
	dialOpts = append(dialOpts, cfg.dialOptions...)

	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("catapult: bad target %q: %w", target, err)
	}
	client := New(conn)
	client.conn = conn
	if cfg.healthCheck {
		checkCtx := ctx
		if cfg.connectTimeout > 0 {
			var cancel context.CancelFunc
			checkCtx, cancel = context.WithTimeout(ctx, cfg.connectTimeout)
			defer cancel()
		}
		if _, err := client.System.Health(checkCtx, &catapultv1.HealthRequest{}); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("catapult: %s is not serving: %w", target, err)
		}
	}
	return client, nil
}

// Environment variables DialFromEnv reads (the catapult-deploy command and the grpcurl scripts
// read the same ones).
const (
	EnvAddr      = "CATAPULT_ADDR"      // host:port of the server; DefaultAddr when unset
	EnvAPIKey    = "CATAPULT_API_KEY"   // the API key
	EnvPlaintext = "CATAPULT_PLAINTEXT" // "1"/"true" forces plaintext, "0"/"false" forces TLS
	EnvCACert    = "CATAPULT_CACERT"    // PEM file of the CA to verify the server with (TLS)
)

// DialFromEnv dials the server named by CATAPULT_ADDR (DefaultAddr when unset) with the key in
// CATAPULT_API_KEY, honouring CATAPULT_PLAINTEXT and CATAPULT_CACERT. opts are applied after
// those, so they win.
func DialFromEnv(ctx context.Context, opts ...Option) (*Client, error) {
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		addr = DefaultAddr
	}
	envOpts, err := TransportOptions(os.Getenv(EnvPlaintext), os.Getenv(EnvCACert))
	if err != nil {
		return nil, err
	}
	if key := os.Getenv(EnvAPIKey); key != "" {
		envOpts = append(envOpts, WithAPIKey(key))
	}
	return Dial(ctx, addr, append(envOpts, opts...)...)
}

// TransportOptions turns the values of CATAPULT_PLAINTEXT and CATAPULT_CACERT into Dial
// options. plaintext is "1", "true" or "yes" for plaintext, "0", "false" or "no" for TLS, and
// empty for the default (plaintext for loopback targets only); caFile, if not empty, is a PEM
// file of the certificate authorities to verify the server with, and implies TLS.
func TransportOptions(plaintext, caFile string) ([]Option, error) {
	var opts []Option
	switch strings.ToLower(strings.TrimSpace(plaintext)) {
	case "":
	case "1", "true", "yes", "on":
		if caFile != "" {
			return nil, fmt.Errorf("catapult: a CA file (%s) makes no sense with plaintext", caFile)
		}
		opts = append(opts, WithPlaintext())
	case "0", "false", "no", "off":
		opts = append(opts, WithTLS(nil))
	default:
		return nil, fmt.Errorf("catapult: %s=%q: want 1/true/yes or 0/false/no", EnvPlaintext, plaintext)
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("catapult: reading the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("catapult: %s holds no PEM certificate", caFile)
		}
		opts = append(opts, WithTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	return opts, nil
}

// IsLoopbackTarget reports whether a gRPC target names this machine: "localhost", a loopback
// IP (127.0.0.0/8, ::1) or a unix socket. Dial uses plaintext for those unless told otherwise.
func IsLoopbackTarget(target string) bool {
	if strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:") {
		return true
	}
	// Strip a resolver scheme such as "dns:///" or "passthrough:///".
	if i := strings.Index(target, ":///"); i >= 0 {
		target = target[i+len(":///"):]
	}
	host := target
	if h, _, err := net.SplitHostPort(target); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// apiKeyCredentials sends the API key on every RPC. When the connection is plaintext it does
// not require transport security, so a local or sidecar server works without TLS.
type apiKeyCredentials struct {
	key    string
	secure bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c apiKeyCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{APIKeyHeader: c.key}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (c apiKeyCredentials) RequireTransportSecurity() bool { return c.secure }

// defaultTimeout gives RPCs without a deadline one of d.
func defaultTimeout(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
	) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// serviceConfig retries the read-only RPCs on UNAVAILABLE. Which RPCs are read-only is read
// from the protos (idempotency_level = NO_SIDE_EFFECTS), not restated here.
func serviceConfig() string {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	var names []name
	protoregistry.GlobalFiles.RangeFilesByPackage("catapult.v1", func(fd protoreflect.FileDescriptor) bool {
		services := fd.Services()
		for i := range services.Len() {
			methods := services.Get(i).Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				opts, ok := m.Options().(*descriptorpb.MethodOptions)
				if ok && opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
					names = append(names, name{string(services.Get(i).FullName()), string(m.Name())})
				}
			}
		}
		return true
	})
	cfg := map[string]any{"methodConfig": []any{map[string]any{
		"name": names,
		"retryPolicy": map[string]any{
			"maxAttempts":          4,
			"initialBackoff":       "0.2s",
			"maxBackoff":           "2s",
			"backoffMultiplier":    2.0,
			"retryableStatusCodes": []string{"UNAVAILABLE"},
		},
	}}}
	out, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // only maps, slices and strings: cannot fail
	}
	return string(out)
}
