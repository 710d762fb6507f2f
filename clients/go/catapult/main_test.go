package catapult_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
	"github.com/warlockee/catapult/clients/go/internal/testserver"
)

// srv is the live server every integration test in this package talks to (see
// internal/testserver: `catapult up` on a free port, or CATAPULT_TEST_ADDR).
var srv *testserver.Server

func TestMain(m *testing.M) { os.Exit(testserver.Main(m, &srv)) }

// dial connects to the test server with its admin key, or skips the test under -short.
func dial(t *testing.T, opts ...catapult.Option) *catapult.Client {
	t.Helper()
	if srv == nil {
		t.Skip("integration test: needs a live server (not run with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := catapult.Dial(ctx, srv.Addr, append([]catapult.Option{catapult.WithAPIKey(srv.APIKey)}, opts...)...)
	if err != nil {
		t.Fatalf("Dial(%s): %v", srv.Addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// unique returns a name no other test (or earlier run against the same server) uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%s", prefix, strings.ToLower(rand.Text()[:10]))
}

// createModel registers a model of CompanyA with a unique name and returns the name.
func createModel(t *testing.T, c *catapult.Client) string {
	t.Helper()
	return createModelFor(t, c, "CompanyA").GetName()
}

// createModelFor registers a model with a unique name built for company.
func createModelFor(t *testing.T, c *catapult.Client, company string) *catapultv1.Model {
	t.Helper()
	name := unique("go-model")
	m, err := c.Models.CreateModel(testContext(t), &catapultv1.CreateModelRequest{Model: &catapultv1.Model{
		Name: name, Company: company, StoragePath: "s3://ml-models/" + name + "/",
	}})
	if err != nil {
		t.Fatalf("CreateModel: %v", err)
	}
	return m
}

// endpoint returns a unique endpoint URL.
func endpoint(name string) string { return "https://" + unique(name) + ".example.test/v1" }
