package catapult_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// Connect with the API key from the environment. Loopback addresses use plaintext, anything
// else TLS; WithPlaintext and WithTLS choose explicitly.
func ExampleDial() {
	ctx := context.Background()
	client, err := catapult.Dial(ctx, "localhost:50051", catapult.WithAPIKey(os.Getenv("CATAPULT_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	info, err := client.System.GetInfo(ctx, &catapultv1.GetInfoRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Catapult", info.GetVersion())
}

// DialFromEnv reads CATAPULT_ADDR, CATAPULT_API_KEY, CATAPULT_PLAINTEXT and CATAPULT_CACERT,
// the variables the catapult-deploy command and the scripts read.
func ExampleDialFromEnv() {
	client, err := catapult.DialFromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
}

// A CI step records the release it just pushed.
func ExampleClient_RecordRelease() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	spec := catapult.ReleaseSpec{
		Model: "llama-3-7b-companyA", Version: "1.0.0", Quantization: "fp16",
		Tag: "v1.0-fp16", Digest: "sha256:abc123", Platform: "linux/amd64",
	}
	// Retrying this job must not fail on ALREADY_EXISTS: derive the request_id from the inputs.
	spec.RequestID = catapult.RequestID("release", spec.Model, spec.Version, spec.Quantization, spec.Tag, spec.Digest)
	release, err := client.RecordRelease(ctx, spec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(release.GetId())
}

// A deploy job records where the release now runs; the release is found by model name,
// version and quantization. Recorded without a status it is live (the server's default), and
// it supersedes what was live at the endpoint in the environment.
func ExampleClient_RecordDeployment() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	deployment, err := client.RecordDeployment(ctx, catapult.DeploymentSpec{
		Model: "llama-3-7b-companyA", Version: "1.0.0", Quantization: "fp16",
		Environment: "production", EndpointURL: "https://api.companyA.prod/v1/llama",
		Cluster: "k8s-prod-us-west-2", Namespace: "ml-prod", Replicas: 3,
		RequestID: catapult.RequestID("deployment", "llama-3-7b-companyA", "1.0.0", "fp16", os.Getenv("GITHUB_RUN_ID")),
	})
	switch {
	case catapult.IsNotFound(err):
		log.Fatalf("nothing to deploy: %v", err)
	case catapult.Reason(err) == "RELEASE_DEPRECATED":
		log.Fatalf("release 1.0.0 is deprecated; set Force to deploy it anyway")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(deployment.GetId())
	replaced, err := client.Replaced(ctx, deployment)
	switch {
	case err != nil:
		log.Fatal(err)
	case replaced == nil:
		fmt.Println("nothing was live there")
	default:
		fmt.Println("superseded", replaced.GetId(), replaced.GetReleaseVersion(), replaced.GetQuantization())
	}
}

// Take an endpoint down: terminate what runs there, live or still deploying.
func ExampleClient_TerminateAt() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	terminated, err := client.TerminateAt(ctx, "staging", "https://api.companyA.staging/v1/llama")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range terminated {
		fmt.Println("terminated", d.GetId(), d.GetModelName(), d.GetReleaseVersion())
	}
}

// Which fp16 release of the model is the newest one live in production?
func ExampleClient_LatestRelease() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	release, err := client.LatestRelease(ctx, "llama-3-7b-companyA",
		catapult.LatestOptions{Quantization: "fp16", Environment: "production"})
	if catapult.IsNotFound(err) {
		fmt.Println("no fp16 release is live in production")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(release.GetVersion(), release.GetTag())
}

// What is live in production, for whom, at which endpoint?
func ExampleClient_LiveDeployments() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	live, err := client.LiveDeployments(ctx, "production")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range live {
		fmt.Println(d.GetEndpointUrl(), d.GetCompany(), d.GetModelName(), d.GetReleaseVersion(), d.GetQuantization())
	}
}

// What served an endpoint in production last Tuesday at 14:00?
func ExampleClient_LiveAt() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	tuesday := time.Date(2026, time.November, 17, 14, 0, 0, 0, time.UTC)
	served, err := client.LiveAt(ctx, tuesday, catapult.DeploymentFilter{
		Environment: "production", EndpointURL: "https://api.companyA.prod/v1/llama",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range served { // at most one: a slot has one live deployment at a time
		fmt.Println(d.GetModelName(), d.GetReleaseVersion(), d.GetQuantization(), "since", d.GetLiveSince().AsTime())
	}
}

// Print an endpoint's history as a chain: each deployment, what it replaced, and when.
func ExampleClient_EndpointHistory() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	history, err := client.EndpointHistory(ctx, "production", "https://api.companyA.prod/v1/llama")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range history { // newest first
		fmt.Println(d.GetLiveSince().AsTime(), d.GetStatus(), d.GetReleaseVersion(), d.GetId(), "replaced", d.GetReplacesId())
	}
}

// The environment matrix: where a model is live, per environment, and in which slot.
func ExampleClient_ModelRollout() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	rollout, err := client.ModelRollout(ctx, "llama-3-7b-companyA")
	if err != nil {
		log.Fatal(err)
	}
	for _, env := range rollout.GetEnvironments() {
		for _, d := range env.GetLive() {
			fmt.Println(env.GetEnvironment(), d.GetEndpointUrl(), d.GetCluster(), d.GetReleaseVersion(), d.GetQuantization())
		}
	}
}

// The blast radius of a bad file: which customers' endpoints serve it now.
func ExampleClient_FindDeployments() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	serving, err := client.FindDeployments(ctx, catapult.DeploymentFilter{
		ArtifactChecksum: "sha256:9f2c…", ActiveOnly: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range serving {
		fmt.Println(d.GetCompany(), d.GetEnvironment(), d.GetEndpointUrl(), d.GetReleaseVersion())
	}
}

// A deploy dashboard follows what goes live in production and what leaves, as it commits, until
// Ctrl-C. The watch resumes by itself after a server restart or a lost connection, missing
// nothing; a later run can start after the last cursor it printed (DeploymentWatchFilter.Cursor).
func ExampleClient_WatchDeployments() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	filter := catapult.DeploymentWatchFilter{Environment: "production", ActiveOnly: true}
	err = client.WatchDeployments(ctx, filter, func(e catapult.Event) error {
		d := e.GetDeployment()
		fmt.Println(e.GetCursor(), e.GetType(), d.GetEndpointUrl(), d.GetModelName(), d.GetReleaseVersion())
		return nil
	}, catapult.OnWatchResume(func(err error, cursor string, wait time.Duration) {
		log.Printf("watch interrupted (%v); resuming after %s in %s", err, cursor, wait)
	}))
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err) // e.g. UNAUTHENTICATED: the key was revoked
	}
}

// Branch on the ErrorInfo reason the server sends with every error.
func ExampleReason() {
	ctx := context.Background()
	client, err := catapult.DialFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	_, err = client.LatestRelease(ctx, "no-such-model", catapult.LatestOptions{})
	switch catapult.Reason(err) {
	case "RESOURCE_NOT_FOUND":
		fmt.Println("no such model")
	case "API_KEY_MISSING", "API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_REVOKED":
		fmt.Println("check CATAPULT_API_KEY")
	}
}

// The same inputs always give the same request_id.
func ExampleRequestID() {
	fmt.Println(catapult.RequestID("release", "llama-3-7b-companyA", "1.0.0", "fp16"))
	// Output: 3e99992a-3e42-8aab-9194-c411a41d03cd
}
