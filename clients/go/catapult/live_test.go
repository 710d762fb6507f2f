package catapult_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// recordReleases records each version (no quantization, digest "sha256:"+model+version) of
// model and returns them by version.
func recordReleases(t *testing.T, c *catapult.Client, model string, versions ...string) map[string]*catapultv1.Release {
	t.Helper()
	out := map[string]*catapultv1.Release{}
	for _, v := range versions {
		r, err := c.RecordRelease(testContext(t), catapult.ReleaseSpec{Model: model, Version: v, Digest: "sha256:" + model + v})
		if err != nil {
			t.Fatalf("RecordRelease(%s %s): %v", model, v, err)
		}
		out[v] = r
	}
	return out
}

// record records a deployment of spec, failing the test on an error.
func record(t *testing.T, c *catapult.Client, spec catapult.DeploymentSpec) *catapultv1.Deployment {
	t.Helper()
	d, err := c.RecordDeployment(testContext(t), spec)
	if err != nil {
		t.Fatalf("RecordDeployment(%s %s in %s at %q): %v", spec.Model, spec.Version, spec.Environment, spec.EndpointURL, err)
	}
	return d
}

func get(t *testing.T, c *catapult.Client, id string) *catapultv1.Deployment {
	t.Helper()
	d, err := c.Deployments.GetDeployment(testContext(t), &catapultv1.GetDeploymentRequest{Id: id})
	if err != nil {
		t.Fatalf("GetDeployment(%s): %v", id, err)
	}
	return d
}

func find(t *testing.T, c *catapult.Client, f catapult.DeploymentFilter) []*catapultv1.Deployment {
	t.Helper()
	found, err := c.FindDeployments(testContext(t), f)
	if err != nil {
		t.Fatalf("FindDeployments(%+v): %v", f, err)
	}
	return found
}

func liveAtMoment(t *testing.T, c *catapult.Client, moment time.Time, f catapult.DeploymentFilter) []string {
	t.Helper()
	found, err := c.LiveAt(testContext(t), moment, f)
	if err != nil {
		t.Fatalf("LiveAt(%s, %+v): %v", moment.Format(time.RFC3339Nano), f, err)
	}
	return ids(found)
}

func ids(ds []*catapultv1.Deployment) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.GetId()
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The server's default status is the Go client's: a deployment recorded without one is live.
func TestRecordedWithoutAStatusIsLive(t *testing.T) {
	c := dial(t)
	model := createModel(t, c)
	recordReleases(t, c, model, "1.0.0")
	url := endpoint("default-status")
	d := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.0", Environment: "production", EndpointURL: url})
	if d.GetStatus() != catapult.StatusSuccess || d.GetLiveSince() == nil {
		t.Fatalf("recorded without a status: status %q, live_since %v; want live", d.GetStatus(), d.GetLiveSince())
	}
	if !liveAt(t, c, "production", url) {
		t.Fatalf("LiveDeployments(production) does not list the deployment recorded without a status")
	}
}

func TestBecomingLiveSupersedesWhatWasLiveInTheSlot(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	recordReleases(t, c, model, "1.0.0", "1.1.0", "1.2.0")
	url := endpoint("supersede")
	at := func(version, status string) catapult.DeploymentSpec {
		return catapult.DeploymentSpec{Model: model, Version: version, Environment: "production", EndpointURL: url, Status: status}
	}

	first := record(t, c, at("1.0.0", ""))
	if replaced, err := c.Replaced(ctx, first); err != nil || replaced != nil {
		t.Fatalf("Replaced(the first deployment at an endpoint) = %v, %v; want nothing", replaced, err)
	}

	// On create.
	second := record(t, c, at("1.1.0", ""))
	if second.GetReplacesId() != first.GetId() {
		t.Fatalf("the second deployment replaces %q, want the first, %s", second.GetReplacesId(), first.GetId())
	}
	replaced, err := c.Replaced(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if replaced.GetId() != first.GetId() || replaced.GetReleaseVersion() != "1.0.0" ||
		replaced.GetStatus() != catapult.StatusTerminated || replaced.GetSupersededById() != second.GetId() {
		t.Fatalf("Replaced(second) = %v; want the first, 1.0.0, terminated, superseded by the second", replaced)
	}
	if !replaced.GetTerminatedAt().AsTime().Equal(second.GetLiveSince().AsTime()) {
		t.Fatalf("the first stopped at %s, the second started at %s: want one moment",
			replaced.GetTerminatedAt().AsTime(), second.GetLiveSince().AsTime())
	}

	// On update to success: deploying is not live, so nothing is superseded until then.
	rolling := record(t, c, at("1.2.0", catapult.StatusDeploying))
	if rolling.GetReplacesId() != "" || rolling.GetLiveSince() != nil || get(t, c, second.GetId()).GetStatus() != catapult.StatusSuccess {
		t.Fatalf("a deploying deployment superseded something: %v", rolling)
	}
	done, err := c.SetDeploymentStatus(ctx, rolling.GetId(), catapult.StatusSuccess)
	if err != nil {
		t.Fatalf("SetDeploymentStatus(success): %v", err)
	}
	if done.GetReplacesId() != second.GetId() || done.GetLiveSince() == nil {
		t.Fatalf("updated to success: replaces %q, live_since %v; want the second", done.GetReplacesId(), done.GetLiveSince())
	}
	if got := get(t, c, second.GetId()); got.GetSupersededById() != rolling.GetId() || got.GetStatus() != catapult.StatusTerminated {
		t.Fatalf("the second after the update: %v; want terminated, superseded by %s", got, rolling.GetId())
	}

	// A superseded deployment cannot come back: a rollback is a new deployment.
	_, err = c.SetDeploymentStatus(ctx, first.GetId(), catapult.StatusSuccess)
	if !catapult.IsFailedPrecondition(err) || catapult.Reason(err) != "STATUS_TRANSITION_NOT_ALLOWED" {
		t.Fatalf("terminated → success: err = %v, want FAILED_PRECONDITION (STATUS_TRANSITION_NOT_ALLOWED)", err)
	}
}

// A rollback is a deploy of the older release; the endpoint's history reads as a chain.
func TestRollbackAndEndpointHistory(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	recordReleases(t, c, model, "1.0.0", "1.1.0")
	url := endpoint("rollback")
	// Another model in the same environment: never part of the answers.
	other := createModel(t, c)
	recordReleases(t, c, other, "1.0.0")
	record(t, c, catapult.DeploymentSpec{Model: other, Version: "1.0.0", Environment: "production", EndpointURL: endpoint("other")})

	var chain []*catapultv1.Deployment
	for _, v := range []string{"1.0.0", "1.1.0", "1.0.0"} {
		chain = append(chain, record(t, c, catapult.DeploymentSpec{Model: model, Version: v, Environment: "production", EndpointURL: url}))
	}
	live := find(t, c, catapult.DeploymentFilter{EndpointURL: url, ActiveOnly: true})
	if !slices.Equal(ids(live), []string{chain[2].GetId()}) || live[0].GetReleaseVersion() != "1.0.0" {
		t.Fatalf("live at the endpoint: %v; want only the rollback to 1.0.0", ids(live))
	}
	serving, err := c.LatestRelease(ctx, model, catapult.LatestOptions{Environment: "production"})
	if err != nil || serving.GetVersion() != "1.0.0" {
		t.Fatalf("LatestRelease(production) = %v, %v; want 1.0.0, what serves after the rollback", serving, err)
	}

	history, err := c.EndpointHistory(ctx, "production", url)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{chain[2].GetId(), chain[1].GetId(), chain[0].GetId()}; !slices.Equal(ids(history), want) {
		t.Fatalf("EndpointHistory = %v, want newest first %v", ids(history), want)
	}
	type links struct{ replaces, supersededBy string }
	var got []links
	for _, d := range history {
		got = append(got, links{d.GetReplacesId(), d.GetSupersededById()})
	}
	want := []links{{chain[1].GetId(), ""}, {chain[0].GetId(), chain[2].GetId()}, {"", chain[1].GetId()}}
	if !slices.Equal(got, want) {
		t.Fatalf("history links (replaces, superseded by) = %v, want %v", got, want)
	}
	if versions := []string{history[0].GetReleaseVersion(), history[1].GetReleaseVersion(), history[2].GetReleaseVersion()}; !slices.Equal(versions, []string{"1.0.0", "1.1.0", "1.0.0"}) {
		t.Fatalf("history versions %v", versions)
	}
	if elsewhere, err := c.EndpointHistory(ctx, "staging", url); err != nil || len(elsewhere) != 0 {
		t.Fatalf("EndpointHistory(staging) = %v, %v; want nothing", ids(elsewhere), err)
	}
}

// Deploys racing into one slot take turns: exactly one stays live, and the others are each
// superseded by the next.
func TestConcurrentDeploysIntoOneSlotLeaveExactlyOneLive(t *testing.T) {
	c := dial(t)
	model := createModel(t, c)
	recordReleases(t, c, model, "1.0.0")
	url := endpoint("race")
	const n = 20
	created := make([]*catapultv1.Deployment, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			created[i], errs[i] = c.RecordDeployment(testContext(t), catapult.DeploymentSpec{
				Model: model, Version: "1.0.0", Environment: "production", EndpointURL: url, Cluster: "k8s-" + string(rune('a'+i)),
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("deploy %d: %v", i, err)
		}
	}

	history := find(t, c, catapult.DeploymentFilter{EndpointURL: url})
	if !slices.Equal(sorted(ids(history)), sorted(ids(created))) {
		t.Fatalf("the history %v is not the %d deploys %v", ids(history), n, ids(created))
	}
	byID := map[string]*catapultv1.Deployment{}
	var live []*catapultv1.Deployment
	superseded := 0
	for _, d := range history {
		byID[d.GetId()] = d
		switch {
		case d.GetStatus() == catapult.StatusSuccess:
			live = append(live, d)
		case d.GetStatus() == catapult.StatusTerminated && d.GetSupersededById() != "":
			superseded++
		}
	}
	if len(live) != 1 || superseded != n-1 {
		t.Fatalf("%d live and %d terminated with superseded_by; want 1 and %d", len(live), superseded, n-1)
	}
	// Following replaces_id from the live one walks through all twenty, each link both ways.
	walked := 1
	for d := live[0]; d.GetReplacesId() != ""; walked++ {
		previous := byID[d.GetReplacesId()]
		if previous == nil || previous.GetSupersededById() != d.GetId() {
			t.Fatalf("%s replaces %s, which is not superseded by it", d.GetId(), d.GetReplacesId())
		}
		d = previous
	}
	if walked != n {
		t.Fatalf("the replaces chain from the live deployment has %d links, want %d", walked, n)
	}
}

func TestDeploysIntoDifferentSlotsNeverSupersede(t *testing.T) {
	c := dial(t)
	url := endpoint("slots")
	atEndpoint := catapult.DeploymentSpec{Environment: "production", EndpointURL: url}
	placed := catapult.DeploymentSpec{Environment: "production", Cluster: "k8s-a", Namespace: "ml"}
	with := func(spec catapult.DeploymentSpec, change func(*catapult.DeploymentSpec)) catapult.DeploymentSpec {
		change(&spec)
		return spec
	}
	for _, tc := range []struct {
		name          string
		first, second catapult.DeploymentSpec
		anotherModel  bool // the second deploys a release of another model
	}{
		{"another environment", atEndpoint, with(atEndpoint, func(s *catapult.DeploymentSpec) { s.Environment = "staging" }), false},
		{"another endpoint", atEndpoint, with(atEndpoint, func(s *catapult.DeploymentSpec) { s.EndpointURL = url + "/b" }), false},
		{"another cluster", placed, with(placed, func(s *catapult.DeploymentSpec) { s.Cluster = "k8s-b" }), false},
		{"another namespace", placed, with(placed, func(s *catapult.DeploymentSpec) { s.Namespace = "ml-2" }), false},
		{"an endpoint slot and a placement slot", placed, with(placed, func(s *catapult.DeploymentSpec) { s.EndpointURL = url + "/c" }), false},
		{"another model's placement", placed, placed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each case uses its own model(s), so placement slots (which include the model) and
			// endpoints never meet another case's.
			model := createModel(t, c)
			recordReleases(t, c, model, "1.0.0", "2.0.0")
			secondModel := model
			if tc.anotherModel {
				secondModel = createModel(t, c)
				recordReleases(t, c, secondModel, "2.0.0")
			}
			tc.first.Model, tc.first.Version = model, "1.0.0"
			tc.second.Model, tc.second.Version = secondModel, "2.0.0"
			if tc.first.EndpointURL != "" {
				tc.first.EndpointURL += "/" + model
				tc.second.EndpointURL += "/" + model
			}
			first := record(t, c, tc.first)
			second := record(t, c, tc.second)
			if second.GetReplacesId() != "" || get(t, c, first.GetId()).GetStatus() != catapult.StatusSuccess {
				t.Fatalf("%+v superseded %+v", tc.second, tc.first)
			}
		})
	}
}

// live_at is [live_since, terminated_at): at the moment of a switch, the successor is live.
func TestLiveAtSlotBoundaries(t *testing.T) {
	c := dial(t)
	model := createModel(t, c)
	recordReleases(t, c, model, "1.0.0", "1.1.0")
	url := endpoint("boundaries")
	slot := catapult.DeploymentFilter{Environment: "production", EndpointURL: url}
	a := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.0", Environment: "production", EndpointURL: url})
	b := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.1.0", Environment: "production", EndpointURL: url})
	a = get(t, c, a.GetId())
	start, switched := a.GetLiveSince().AsTime(), a.GetTerminatedAt().AsTime()
	if !switched.Equal(b.GetLiveSince().AsTime()) {
		t.Fatalf("a terminated at %s, b live since %s: want one moment", switched, b.GetLiveSince().AsTime())
	}
	for _, tc := range []struct {
		name   string
		moment time.Time
		want   []string
	}{
		{"just before live_since", start.Add(-time.Microsecond), nil},
		{"exactly at live_since", start, []string{a.GetId()}},
		{"just before terminated_at", switched.Add(-time.Microsecond), []string{a.GetId()}},
		{"exactly at terminated_at", switched, []string{b.GetId()}},
		{"a day later", switched.Add(24 * time.Hour), []string{b.GetId()}},
	} {
		if got := liveAtMoment(t, c, tc.moment, slot); !slices.Equal(got, tc.want) {
			t.Errorf("live %s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// With any other filter: nothing of it was live in staging.
	if got := liveAtMoment(t, c, switched, catapult.DeploymentFilter{Environment: "staging", Model: model}); len(got) != 0 {
		t.Errorf("live in staging: %v, want nothing", got)
	}
}

// The environment matrix of a model live in 3 environments at 2 endpoints each.
func TestModelRolloutMatrix(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModelFor(t, c, "CompanyM")
	recordReleases(t, c, model.GetName(), "1.0.0", "1.1.0")
	type cell struct{ endpoint, version, digest, cluster string }
	want := map[string][]cell{}
	for _, env := range []string{"development", "production", "staging"} {
		for _, version := range []string{"1.0.0", "1.1.0"} {
			url := endpoint(env + "-" + version)
			cluster := "k8s-" + env
			record(t, c, catapult.DeploymentSpec{
				Model: model.GetName(), Version: version, Environment: env, EndpointURL: url, Cluster: cluster,
			})
			// Newest live first within an environment.
			want[env] = slices.Insert(want[env], 0, cell{url, version, "sha256:" + model.GetName() + version, cluster})
		}
	}
	// Terminated is history, not the matrix.
	gone := record(t, c, catapult.DeploymentSpec{Model: model.GetName(), Version: "1.0.0", Environment: "canary", EndpointURL: endpoint("gone")})
	if _, err := c.TerminateDeployment(ctx, gone.GetId()); err != nil {
		t.Fatal(err)
	}

	for _, ref := range []string{model.GetName(), model.GetId()} {
		rollout, err := c.ModelRollout(ctx, ref)
		if err != nil {
			t.Fatalf("ModelRollout(%s): %v", ref, err)
		}
		if rollout.GetModelId() != model.GetId() || rollout.GetModelName() != model.GetName() || rollout.GetCompany() != "CompanyM" {
			t.Fatalf("ModelRollout(%s) names %s %s %s", ref, rollout.GetModelId(), rollout.GetModelName(), rollout.GetCompany())
		}
		got := map[string][]cell{}
		var envs []string
		for _, e := range rollout.GetEnvironments() {
			envs = append(envs, e.GetEnvironment())
			for _, d := range e.GetLive() {
				if d.GetLiveSince() == nil {
					t.Errorf("%s in %s has no live_since", d.GetId(), e.GetEnvironment())
				}
				got[e.GetEnvironment()] = append(got[e.GetEnvironment()], cell{d.GetEndpointUrl(), d.GetReleaseVersion(), d.GetReleaseDigest(), d.GetCluster()})
			}
		}
		if !slices.Equal(envs, []string{"development", "production", "staging"}) {
			t.Fatalf("ModelRollout(%s) environments %v, want development, production, staging", ref, envs)
		}
		for env, cells := range want {
			if !slices.Equal(got[env], cells) {
				t.Errorf("ModelRollout(%s) in %s: %v, want %v", ref, env, got[env], cells)
			}
		}
	}
	if _, err := c.ModelRollout(ctx, unique("no-such-model")); !catapult.IsNotFound(err) {
		t.Fatalf("ModelRollout(unknown) err = %v, want NOT_FOUND", err)
	}
}

// The blast radius of a bad image or file: which releases are it, which deployments serve it
// now, and which served it at a moment.
func TestReverseLookups(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	badDigest, checksum := "sha256:"+unique("bad"), "sha256:"+unique("whl")
	bad, err := c.RecordRelease(ctx, catapult.ReleaseSpec{Model: model, Version: "1.0.0", Digest: badDigest})
	if err != nil {
		t.Fatal(err)
	}
	recordReleases(t, c, model, "1.0.1")
	if _, err := c.Artifacts.CreateArtifact(ctx, &catapultv1.CreateArtifactRequest{Artifact: &catapultv1.Artifact{
		ReleaseId: bad.GetId(), Name: "model.whl", ArtifactType: "wheel", FilePath: "s3://a/model.whl", Checksum: checksum,
	}}); err != nil {
		t.Fatalf("CreateArtifact: %v", err)
	}
	urlA, urlB := endpoint("blast-a"), endpoint("blast-b")
	before := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.0", Environment: "production", EndpointURL: urlA})
	still := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.0", Environment: "production", EndpointURL: urlB})
	fixed := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.1", Environment: "production", EndpointURL: urlA})
	if fixed.GetReplacesId() != before.GetId() {
		t.Fatalf("the fix at %s replaces %q, want %s", urlA, fixed.GetReplacesId(), before.GetId())
	}

	releases, err := c.FindReleases(ctx, catapult.ReleaseFilter{Digest: badDigest})
	if err != nil || len(releases) != 1 || releases[0].GetId() != bad.GetId() {
		t.Fatalf("FindReleases(digest) = %v, %v; want the bad release", releases, err)
	}
	for _, lookup := range []catapult.DeploymentFilter{{Digest: badDigest}, {ArtifactChecksum: checksum}} {
		if got, want := sorted(ids(find(t, c, lookup))), sorted([]string{before.GetId(), still.GetId()}); !slices.Equal(got, want) {
			t.Errorf("%+v ever: %v, want %v", lookup, got, want)
		}
		now := lookup
		now.ActiveOnly = true
		if got := ids(find(t, c, now)); !slices.Equal(got, []string{still.GetId()}) {
			t.Errorf("%+v now: %v, want only %s", lookup, got, still.GetId())
		}
		got := sorted(liveAtMoment(t, c, still.GetLiveSince().AsTime(), lookup))
		if want := sorted([]string{before.GetId(), still.GetId()}); !slices.Equal(got, want) {
			t.Errorf("%+v when both served it: %v, want %v", lookup, got, want)
		}
	}
}

func TestDeprecatedButLive(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	releases := recordReleases(t, c, model, "1.0.0", "1.1.0")
	old := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.0", Environment: "production", EndpointURL: endpoint("old")})
	record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.1.0", Environment: "production", EndpointURL: endpoint("new")})
	// History of the deprecated release that is no longer live is not the answer.
	gone := record(t, c, catapult.DeploymentSpec{Model: model, Version: "1.0.0", Environment: "staging", EndpointURL: endpoint("gone")})
	if _, err := c.TerminateDeployment(ctx, gone.GetId()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Releases.UpdateRelease(ctx, &catapultv1.UpdateReleaseRequest{
		Release: &catapultv1.Release{Id: releases["1.0.0"].GetId(), Status: catapult.ReleaseStatusDeprecated},
	}); err != nil {
		t.Fatal(err)
	}
	found := find(t, c, catapult.DeploymentFilter{Model: model, ReleaseStatus: catapult.ReleaseStatusDeprecated, ActiveOnly: true})
	if !slices.Equal(ids(found), []string{old.GetId()}) || found[0].GetReleaseStatus() != catapult.ReleaseStatusDeprecated {
		t.Fatalf("deprecated but live: %v, want only %s with release_status deprecated", ids(found), old.GetId())
	}
}

// A customer's live deployments across environments and clusters, and failures since a moment.
func TestPerCustomerAndFailuresSince(t *testing.T) {
	c := dial(t)
	company := unique("Customer")
	mine := createModelFor(t, c, company).GetName()
	theirs := createModelFor(t, c, unique("Other")).GetName()
	recordReleases(t, c, mine, "1.0.0")
	recordReleases(t, c, theirs, "1.0.0")
	url := endpoint("customer")
	prod := record(t, c, catapult.DeploymentSpec{Model: mine, Version: "1.0.0", Environment: "production", EndpointURL: url})
	staging := record(t, c, catapult.DeploymentSpec{Model: mine, Version: "1.0.0", Environment: "staging", Cluster: "k8s-stg", Namespace: "ml"})
	record(t, c, catapult.DeploymentSpec{Model: theirs, Version: "1.0.0", Environment: "production", EndpointURL: endpoint("theirs")})
	failed := record(t, c, catapult.DeploymentSpec{Model: mine, Version: "1.0.0", Environment: "canary", EndpointURL: endpoint("f"), Status: catapult.StatusFailed})

	found := find(t, c, catapult.DeploymentFilter{Company: company, ActiveOnly: true})
	if got, want := sorted(ids(found)), sorted([]string{prod.GetId(), staging.GetId()}); !slices.Equal(got, want) {
		t.Fatalf("%s's live deployments: %v, want %v", company, got, want)
	}
	for _, d := range found {
		if d.GetEndpointUrl() == "" && d.GetCluster() == "" {
			t.Errorf("%s comes without its slot", d.GetId())
		}
	}

	since := failed.GetDeployedAt().AsTime()
	failures := find(t, c, catapult.DeploymentFilter{Company: company, Status: catapult.StatusFailed, DeployedAfter: since})
	if !slices.Equal(ids(failures), []string{failed.GetId()}) {
		t.Fatalf("failures since %s: %v, want %s", since, ids(failures), failed.GetId())
	}
	later := find(t, c, catapult.DeploymentFilter{Company: company, Status: catapult.StatusFailed, DeployedAfter: since.Add(time.Microsecond)})
	if len(later) != 0 {
		t.Fatalf("failures after the failure: %v, want none", ids(later))
	}
}

// order_by "version" is semantic version order, and the latest release the highest version.
func TestVersionsOrderSemantically(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	model := createModel(t, c)
	recordReleases(t, c, model, "10.0.0", "1.10.0-rc.1", "9.0.0", "1.2.0")
	defer catapult.SetListPageSize(3)() // and across pages
	for _, tc := range []struct {
		orderBy string
		want    []string
	}{
		{"version", []string{"1.2.0", "1.10.0-rc.1", "9.0.0", "10.0.0"}},
		{"version desc", []string{"10.0.0", "9.0.0", "1.10.0-rc.1", "1.2.0"}},
	} {
		releases, err := c.FindReleases(ctx, catapult.ReleaseFilter{Model: model, OrderBy: tc.orderBy})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range releases {
			got = append(got, r.GetVersion())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("FindReleases(order_by %q) = %v, want %v", tc.orderBy, got, tc.want)
		}
	}
	latest, err := c.LatestRelease(ctx, model, catapult.LatestOptions{})
	if err != nil || latest.GetVersion() != "10.0.0" {
		t.Fatalf("LatestRelease = %v, %v; want 10.0.0, the highest version (not the newest, 1.2.0)", latest, err)
	}
}
