package catapult_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

func TestRecordReleasesListAndLatest(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)

	var ids []string
	for _, spec := range []catapult.ReleaseSpec{
		{Model: model, Version: "1.0.0", Quantization: "fp16", Tag: "v1.0.0-fp16", Digest: "sha256:aa"},
		{Model: model, Version: "1.1.0", Quantization: "fp16", Tag: "v1.1.0-fp16", Digest: "sha256:bb"},
		{Model: model, Version: "1.1.0", Quantization: "int8", Tag: "v1.1.0-int8", Digest: "sha256:cc"},
	} {
		r, err := c.RecordRelease(ctx, spec)
		if err != nil {
			t.Fatalf("RecordRelease(%s %s): %v", spec.Version, spec.Quantization, err)
		}
		if r.GetModelName() != model || r.GetVersion() != spec.Version || r.GetStatus() != "active" {
			t.Fatalf("RecordRelease returned %v", r)
		}
		ids = append(ids, r.GetId())
	}

	var listed []string
	for r, err := range c.AllReleases(ctx, &catapultv1.ListReleasesRequest{ModelName: model, PageSize: 2}) {
		if err != nil {
			t.Fatalf("AllReleases: %v", err)
		}
		listed = append(listed, r.GetId())
	}
	slices.Reverse(listed) // newest first
	if !slices.Equal(listed, ids) {
		t.Fatalf("AllReleases over pages of 2 = %v, want %v", listed, ids)
	}

	latest, err := c.LatestRelease(ctx, model, catapult.LatestOptions{})
	if err != nil || latest.GetId() != ids[2] {
		t.Fatalf("LatestRelease = %v, %v; want the int8 1.1.0 release", latest, err)
	}
	latest, err = c.LatestRelease(ctx, model, catapult.LatestOptions{Quantization: "fp16"})
	if err != nil || latest.GetVersion() != "1.1.0" || latest.GetQuantization() != "fp16" {
		t.Fatalf("LatestRelease(fp16) = %v, %v; want 1.1.0 fp16", latest, err)
	}
	_, err = c.LatestRelease(ctx, model, catapult.LatestOptions{Environment: "production"})
	if !catapult.IsNotFound(err) {
		t.Fatalf("LatestRelease(production) before any deployment: err = %v, want NOT_FOUND", err)
	}

	resolved, err := c.ResolveRelease(ctx, model, "1.1.0", "int8")
	if err != nil || resolved.GetId() != ids[2] {
		t.Fatalf("ResolveRelease(1.1.0 int8) = %v, %v", resolved, err)
	}
}

func TestRecordDeploymentLiveAndTerminate(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	if _, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "2.0.0", Quantization: "bf16"}); err != nil {
		t.Fatal(err)
	}
	url := endpoint("live")
	d, err := c.RecordDeployment(ctx, catapult.DeploymentSpec{
		Model: model, Version: "2.0.0", Quantization: "bf16",
		Environment: "staging", EndpointURL: url, Cluster: "k8s-stg", Namespace: "ml-stg",
		Replicas: 2, Status: catapult.StatusSuccess,
	})
	if err != nil {
		t.Fatalf("RecordDeployment: %v", err)
	}
	if d.GetModelName() != model || d.GetReleaseVersion() != "2.0.0" || d.GetQuantization() != "bf16" ||
		d.GetEndpointUrl() != url || d.GetCompany() != "CompanyA" || d.GetDeployedBy() == "" {
		t.Fatalf("RecordDeployment returned %v", d)
	}

	if !liveAt(t, c, "staging", url) {
		t.Fatalf("LiveDeployments(staging) does not list %s", url)
	}
	if liveAt(t, c, "production", url) {
		t.Fatalf("LiveDeployments(production) lists a staging deployment")
	}
	latest, err := c.LatestRelease(ctx, model, catapult.LatestOptions{Environment: "staging"})
	if err != nil || latest.GetVersion() != "2.0.0" {
		t.Fatalf("LatestRelease(staging) = %v, %v", latest, err)
	}

	terminated, err := c.TerminateDeployment(ctx, d.GetId())
	if err != nil {
		t.Fatalf("TerminateDeployment: %v", err)
	}
	if terminated.GetStatus() != catapult.StatusTerminated || terminated.GetTerminatedAt() == nil {
		t.Fatalf("TerminateDeployment returned %v", terminated)
	}
	if liveAt(t, c, "staging", url) {
		t.Fatalf("a terminated deployment is still live")
	}
	again, err := c.TerminateDeployment(ctx, d.GetId())
	if err != nil || !again.GetTerminatedAt().AsTime().Equal(terminated.GetTerminatedAt().AsTime()) {
		t.Fatalf("terminating again = %v, %v; want it unchanged", again, err)
	}
	// The history stays: the deployment is still there, terminated.
	got, err := c.Deployments.GetDeployment(ctx, &catapultv1.GetDeploymentRequest{Id: d.GetId()})
	if err != nil || got.GetStatus() != catapult.StatusTerminated {
		t.Fatalf("GetDeployment after terminate = %v, %v", got, err)
	}
}

func liveAt(t *testing.T, c *catapult.Client, env, url string) bool {
	t.Helper()
	live, err := c.LiveDeployments(testContext(t), env)
	if err != nil {
		t.Fatalf("LiveDeployments(%s): %v", env, err)
	}
	return slices.ContainsFunc(live, func(d *catapultv1.Deployment) bool { return d.GetEndpointUrl() == url })
}

func TestLiveDeploymentsReadsEveryPage(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	if _, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for range 5 {
		url := endpoint("paged")
		want[url] = true
		if _, err := c.RecordDeployment(ctx, catapult.DeploymentSpec{
			Model: model, Version: "1.0.0", Environment: "development", EndpointURL: url, Status: catapult.StatusSuccess,
		}); err != nil {
			t.Fatal(err)
		}
	}
	defer catapult.SetListPageSize(2)()
	live, err := c.LiveDeployments(ctx, "development")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range live {
		delete(want, d.GetEndpointUrl())
	}
	if len(want) != 0 {
		t.Fatalf("LiveDeployments in pages of 2 missed %v", want)
	}
}

func TestTerminateAtEndpoint(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	if _, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	url := endpoint("terminate-at")
	// The live one and a rollout still in progress at the endpoint both end; the staging
	// deployment at the same URL is another slot and stays.
	for _, placed := range []struct{ env, status string }{
		{"production", catapult.StatusSuccess}, {"production", catapult.StatusDeploying}, {"staging", catapult.StatusSuccess},
	} {
		if _, err := c.RecordDeployment(ctx, catapult.DeploymentSpec{
			Model: model, Version: "1.0.0", Environment: placed.env, EndpointURL: url, Status: placed.status,
		}); err != nil {
			t.Fatal(err)
		}
	}
	terminated, err := c.TerminateAt(ctx, "production", url)
	if err != nil || len(terminated) != 2 {
		t.Fatalf("TerminateAt(production) = %d deployments, %v; want the live one and the deploying one", len(terminated), err)
	}
	if !liveAt(t, c, "staging", url) {
		t.Fatalf("TerminateAt(production) terminated the staging deployment")
	}
	terminated, err = c.TerminateAt(ctx, "production", url)
	if err != nil || len(terminated) != 0 {
		t.Fatalf("TerminateAt again = %v, %v; want nothing and no error (retry-safe)", terminated, err)
	}
	_, err = c.TerminateAt(ctx, "production", endpoint("never-deployed"))
	if !catapult.IsNotFound(err) || catapult.Reason(err) != "RESOURCE_NOT_FOUND" {
		t.Fatalf("TerminateAt(unknown endpoint) err = %v, want NOT_FOUND (RESOURCE_NOT_FOUND)", err)
	}
}

func TestRetryWithTheSameRequestIDRecordsOneDeployment(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	release, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "3.0.0", Quantization: "int4"})
	if err != nil {
		t.Fatal(err)
	}
	spec := catapult.DeploymentSpec{
		Model: model, Version: "3.0.0", Quantization: "int4", Environment: "production",
		EndpointURL: endpoint("retry"), Status: catapult.StatusSuccess,
		RequestID: catapult.RequestID("test-deployment", model, "3.0.0", "int4"),
	}
	first, err := c.RecordDeployment(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.RecordDeployment(ctx, spec)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if first.GetId() != second.GetId() {
		t.Fatalf("a retry with the same request_id recorded a second deployment: %s, %s", first.GetId(), second.GetId())
	}
	var count int
	for _, err := range c.AllDeployments(ctx, &catapultv1.ListDeploymentsRequest{ReleaseId: release.GetId()}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != 1 {
		t.Fatalf("%d deployments of the release after a retry, want 1", count)
	}

	// The same holds for releases: the retry returns the release, not ALREADY_EXISTS.
	rspec := catapult.ReleaseSpec{Model: model, Version: "3.1.0", RequestID: catapult.RequestID("test-release", model, "3.1.0")}
	r1, err := c.RecordRelease(ctx, rspec)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.RecordRelease(ctx, rspec)
	if err != nil || r2.GetId() != r1.GetId() {
		t.Fatalf("release retry = %v, %v; want %s", r2, err, r1.GetId())
	}
}

func TestErrorsCarryTheirReason(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)

	_, err := c.Models.GetModelByName(ctx, &catapultv1.GetModelByNameRequest{Name: unique("no-such-model")})
	if !catapult.IsNotFound(err) || catapult.Reason(err) != "RESOURCE_NOT_FOUND" ||
		!catapult.HasReason(err, catapultv1.ErrorReason_RESOURCE_NOT_FOUND) {
		t.Fatalf("unknown model: err = %v (reason %q), want NOT_FOUND with RESOURCE_NOT_FOUND", err, catapult.Reason(err))
	}

	_, err = c.RecordRelease(ctx, catapult.ReleaseSpec{Model: unique("no-such-model"), Version: "1.0.0"})
	if !catapult.IsNotFound(err) {
		t.Fatalf("RecordRelease of an unknown model: err = %v, want NOT_FOUND", err)
	}

	if _, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0", Quantization: "fp16"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0", Quantization: "fp16"})
	if !catapult.IsAlreadyExists(err) || !catapult.HasReason(err, catapultv1.ErrorReason_RESOURCE_ALREADY_EXISTS) {
		t.Fatalf("duplicate release: err = %v, want ALREADY_EXISTS (RESOURCE_ALREADY_EXISTS)", err)
	}

	// A release the client resolves and does not find: NOT_FOUND, built like the server's.
	_, err = c.RecordDeployment(ctx, catapult.DeploymentSpec{
		Model: model, Version: "1.0.0", Quantization: "int8", Environment: "staging", EndpointURL: endpoint("x"),
	})
	if !catapult.IsNotFound(err) || catapult.Reason(err) != "RESOURCE_NOT_FOUND" {
		t.Fatalf("deploying a missing quantization: err = %v, want NOT_FOUND (RESOURCE_NOT_FOUND)", err)
	}
	if want := `model "` + model + `" has no release 1.0.0 with quantization int8 (it has fp16)`; !containsMessage(err, want) {
		t.Fatalf("message %q does not say %q", err, want)
	}

	_, err = c.RecordDeployment(ctx, catapult.DeploymentSpec{
		Model: model, Version: "1.0.0", Quantization: "fp16", Environment: "The Moon", EndpointURL: endpoint("x"),
	})
	if !catapult.IsInvalidArgument(err) || catapult.Reason(err) != "INVALID_FIELD" {
		t.Fatalf("unknown environment: err = %v, want INVALID_ARGUMENT (INVALID_FIELD)", err)
	}
	fields := catapult.FieldViolations(err)
	if len(fields) == 0 || fields[0].GetField() != "deployment.environment" {
		t.Fatalf("unknown environment: field violations = %v, want deployment.environment", fields)
	}
}

func TestDeprecatedReleaseNeedsForce(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	r, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "0.9.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Releases.UpdateRelease(ctx, &catapultv1.UpdateReleaseRequest{
		Release: &catapultv1.Release{Id: r.GetId(), Status: "deprecated"},
	}); err != nil {
		t.Fatal(err)
	}
	spec := catapult.DeploymentSpec{Model: model, Version: "0.9.0", Environment: "staging", EndpointURL: endpoint("old")}
	_, err = c.RecordDeployment(ctx, spec)
	if !catapult.IsFailedPrecondition(err) || !catapult.HasReason(err, catapultv1.ErrorReason_RELEASE_DEPRECATED) {
		t.Fatalf("deploying a deprecated release: err = %v, want FAILED_PRECONDITION (RELEASE_DEPRECATED)", err)
	}
	spec.Force = true
	if _, err := c.RecordDeployment(ctx, spec); err != nil {
		t.Fatalf("with Force: %v", err)
	}
}

func TestBadOrMissingKeyIsUnauthenticated(t *testing.T) {
	if srv == nil {
		t.Skip("integration test")
	}
	ctx := testContext(t)
	// Dial checks health, which needs no key: a bad key shows on the first real call.
	bad, err := catapult.Dial(ctx, srv.Addr, catapult.WithAPIKey("ctp_notakey_0000"))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer bad.Close()
	_, err = bad.LiveDeployments(ctx, "production")
	if !catapult.IsUnauthenticated(err) || catapult.Reason(err) != "API_KEY_INVALID" {
		t.Fatalf("bad key: err = %v (reason %q), want UNAUTHENTICATED (API_KEY_INVALID)", err, catapult.Reason(err))
	}

	none, err := catapult.Dial(ctx, srv.Addr)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer none.Close()
	_, err = none.LatestRelease(ctx, "anything", catapult.LatestOptions{})
	if !catapult.IsUnauthenticated(err) || !catapult.HasReason(err, catapultv1.ErrorReason_API_KEY_MISSING) {
		t.Fatalf("no key: err = %v, want UNAUTHENTICATED (API_KEY_MISSING)", err)
	}
}

func TestReaderKeyCannotRecord(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	created, err := c.APIKeys.CreateApiKey(ctx, &catapultv1.CreateApiKeyRequest{
		ApiKey: &catapultv1.ApiKey{Name: unique("go-reader"), Role: "reader"},
	})
	if err != nil {
		t.Fatalf("CreateApiKey: %v", err)
	}
	reader := dial(t, catapult.WithAPIKey(created.GetSecret()))
	_, err = reader.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0"})
	if !catapult.IsPermissionDenied(err) || catapult.Reason(err) != "ROLE_NOT_ALLOWED" {
		t.Fatalf("reader writing: err = %v, want PERMISSION_DENIED (ROLE_NOT_ALLOWED)", err)
	}
}

func TestDialReportsAnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	// Port 1 on loopback: nothing listens there, the connection is refused at once.
	_, err := catapult.Dial(ctx, "127.0.0.1:1", catapult.WithConnectTimeout(10*time.Second))
	if catapult.Code(err) != codes.Unavailable {
		t.Fatalf("Dial(127.0.0.1:1) err = %v, want UNAVAILABLE", err)
	}
	if elapsed := time.Since(start); elapsed > 9*time.Second {
		t.Fatalf("Dial took %s to report a refused connection; it should not wait for the timeout", elapsed)
	}
}

func containsMessage(err error, want string) bool {
	return err != nil && strings.Contains(err.Error(), want)
}
