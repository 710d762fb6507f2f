package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// releases records each version of model with the command, digest "sha256:"+model+version,
// and returns their ids by version.
func releases(t *testing.T, model string, versions ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range versions {
		r := deploy(t, nil, "release", "--model", model, "--version", v, "--digest", "sha256:"+model+v)
		r.expect(t, 0)
		out[v] = r.id(t)
	}
	return out
}

// deployJSON runs deploy with --output json and returns the printed deployment.
func deployJSON(t *testing.T, args ...string) (deployed, result) {
	t.Helper()
	r := deploy(t, nil, append(append([]string{"deploy"}, args...), "--output", "json")...)
	r.expect(t, 0)
	var d deployed
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("deploy --output json: %v\n%s", err, r.stdout)
	}
	return d, r
}

type deployed struct {
	liveDeployment
	Superseded *liveDeployment `json:"superseded"`
}

// The deploy line says what the deployment superseded, and --output json carries it.
func TestDeploySaysWhatItSuperseded(t *testing.T) {
	model := newModel(t)
	releases(t, model, "1.0.0", "1.1.0")
	url := "https://" + unique("api") + ".example.test/v1"
	at := []string{"--environment", "production", "--endpoint", url}
	version := func(v string, extra ...string) []string {
		return append(append([]string{"--model", model, "--version", v}, at...), extra...)
	}

	first, r := deployJSON(t, version("1.0.0")...)
	r.expect(t, 0, "recorded deployment "+first.ID+": "+model+" 1.0.0 in production at "+url+" (success); nothing was live there")
	if first.Superseded != nil || first.ReplacesID != "" {
		t.Fatalf("the first deployment at an endpoint superseded %+v (replaces_id %q)", first.Superseded, first.ReplacesID)
	}
	second, r := deployJSON(t, version("1.1.0")...)
	r.expect(t, 0, "; superseded "+first.ID+" (1.0.0)")
	if second.Superseded == nil || second.Superseded.ID != first.ID || second.Superseded.ReleaseVersion != "1.0.0" ||
		second.Superseded.Status != "terminated" || second.Superseded.SupersededByID != second.ID {
		t.Fatalf("superseded = %+v; want %s (1.0.0), terminated, superseded by %s", second.Superseded, first.ID, second.ID)
	}
	// A rollback is a deploy of the older release (a new run, so a new request_id).
	rollback, r := deployJSON(t, version("1.0.0", "--run-id", "rollback")...)
	r.expect(t, 0, "; superseded "+second.ID+" (1.1.0)")
	// Another model taking over the endpoint: the line names the model it replaced.
	other := newModel(t)
	releases(t, other, "2.0.0")
	_, r = deployJSON(t, append([]string{"--model", other, "--version", "2.0.0"}, at...)...)
	r.expect(t, 0, "; superseded "+rollback.ID+" ("+model+" 1.0.0)")
	// Not live yet: nothing superseded.
	_, r = deployJSON(t, version("1.1.0", "--status", "deploying")...)
	r.expect(t, 0, "(deploying); not live while deploying, so it superseded nothing")
}

// The server's default status is the command's: a deploy without --status is live.
func TestDeployWithoutAStatusIsLive(t *testing.T) {
	model := newModel(t)
	releases(t, model, "1.0.0")
	url := "https://" + unique("default") + ".example.test/v1"
	id := deploy(t, nil, "deploy", "--model", model, "--version", "1.0.0", "--environment", "staging", "--endpoint", url).id(t)
	got, err := client(t).Deployments.GetDeployment(context.Background(), &catapultv1.GetDeploymentRequest{Id: id})
	if err != nil || got.GetStatus() != catapult.StatusSuccess || got.GetLiveSince() == nil {
		t.Fatalf("deployed without --status: %v, %v; want status success, live", got, err)
	}
	live := deploy(t, nil, "live", "--environment", "staging", "--endpoint", url, "--output", "id")
	live.expect(t, 0, "1 deployment(s) live in staging at "+url)
	if live.id(t) != id {
		t.Fatalf("live lists %q, want %s", live.stdout, id)
	}
}

// history, rollout and live --at answer the live-truth questions from a CI job.
func TestHistoryRolloutAndLiveAtAMoment(t *testing.T) {
	model := newModel(t)
	ids := releases(t, model, "1.0.0", "1.1.0")
	prod := "https://" + unique("prod") + ".example.test/v1"
	stg := "https://" + unique("stg") + ".example.test/v1"
	v1, _ := deployJSON(t, "--model", model, "--version", "1.0.0", "--environment", "production", "--endpoint", prod, "--cluster", "k8s-prod")
	staging, _ := deployJSON(t, "--model", model, "--version", "1.0.0", "--environment", "staging", "--endpoint", stg, "--namespace", "ml-stg")
	v2, _ := deployJSON(t, "--model", model, "--version", "1.1.0", "--environment", "production", "--endpoint", prod, "--cluster", "k8s-prod")

	history := deploy(t, nil, "history", "--environment", "production", "--endpoint", prod)
	history.expect(t, 0, "2 deployment(s) recorded in production at "+prod+"; live now: "+v2.ID+" ("+model+" 1.1.0)")
	rows := table(t, history.stdout, 9)
	if len(rows) != 2 {
		t.Fatalf("history printed %d rows, want 2:\n%s", len(rows), history.stdout)
	}
	// live since, terminated at, status, model, version, quantization, id, replaces, superseded by
	wantRows := [][]string{
		{rows[0][0], "-", "success", model, "1.1.0", "-", v2.ID, v1.ID, "-"},
		{rows[1][0], rows[0][0], "terminated", model, "1.0.0", "-", v1.ID, "-", v2.ID},
	}
	for i := range wantRows {
		if !slices.Equal(rows[i], wantRows[i]) {
			t.Errorf("history row %d = %q, want %q", i, rows[i], wantRows[i])
		}
	}
	historyJSON := deploy(t, nil, "history", "--environment", "production", "--endpoint", prod, "--output", "json")
	historyJSON.expect(t, 0)
	if got := listedIDs(t, historyJSON.stdout); !slices.Equal(got, []string{v2.ID, v1.ID}) {
		t.Fatalf("history --output json lists %v, want newest first [%s %s]", got, v2.ID, v1.ID)
	}

	// The boundaries history prints are exact: asked at the switch, the successor was live.
	switched, v1Since := rows[0][0], rows[1][0]
	for _, tc := range []struct{ at, want string }{{v1Since, v1.ID}, {switched, v2.ID}} {
		r := deploy(t, nil, "live", "--environment", "production", "--endpoint", prod, "--at", tc.at, "--output", "id")
		r.expect(t, 0, "1 deployment(s) were live in production at "+prod+" on "+tc.at)
		if r.id(t) != tc.want {
			t.Errorf("live --at %s printed %s, want %s", tc.at, r.stdout, tc.want)
		}
	}

	// Reverse lookups: where release 1.0.0's image is served now, and where it was.
	digest := "sha256:" + model + "1.0.0"
	now := deploy(t, nil, "live", "--digest", digest, "--output", "json")
	now.expect(t, 0, "1 deployment(s) live anywhere")
	if got := listedIDs(t, now.stdout); !slices.Equal(got, []string{staging.ID}) {
		t.Fatalf("live --digest lists %v, want the staging deployment %s", got, staging.ID)
	}
	then := deploy(t, nil, "live", "--digest", digest, "--at", staging.LiveSince, "--output", "json")
	then.expect(t, 0)
	if got, want := sortedCopy(listedIDs(t, then.stdout)), sortedCopy([]string{v1.ID, staging.ID}); !slices.Equal(got, want) {
		t.Fatalf("live --digest --at %s lists %v, want %v", staging.LiveSince, got, want)
	}
	if _, err := client(t).Releases.UpdateRelease(context.Background(), &catapultv1.UpdateReleaseRequest{
		Release: &catapultv1.Release{Id: ids["1.0.0"], Status: catapult.ReleaseStatusDeprecated},
	}); err != nil {
		t.Fatal(err)
	}
	deprecated := deploy(t, nil, "live", "--model", model, "--release-status", "deprecated", "--output", "id")
	deprecated.expect(t, 0)
	if deprecated.id(t) != staging.ID {
		t.Fatalf("live --release-status deprecated printed %q, want %s", deprecated.stdout, staging.ID)
	}

	rollout := deploy(t, nil, "rollout", "--model", model)
	rollout.expect(t, 0, model+" is live in 2 environment(s): production (1), staging (1)")
	rows = table(t, rollout.stdout, 8)
	// environment, endpoint, version, quantization, cluster, namespace, live since, id
	wantRows = [][]string{
		{"production", prod, "1.1.0", "-", "k8s-prod", "-", switched, v2.ID},
		{"staging", stg, "1.0.0", "-", "-", "ml-stg", rfc3339(t, staging.LiveSince), staging.ID},
	}
	if !slices.EqualFunc(rows, wantRows, slices.Equal) {
		t.Fatalf("rollout rows %q, want %q", rows, wantRows)
	}
	rolloutJSON := deploy(t, nil, "rollout", "--model", model, "--output", "json")
	rolloutJSON.expect(t, 0)
	var matrix struct {
		ModelName    string `json:"model_name"`
		Environments []struct {
			Environment string           `json:"environment"`
			Live        []liveDeployment `json:"live"`
		} `json:"environments"`
	}
	if err := json.Unmarshal([]byte(rolloutJSON.stdout), &matrix); err != nil || matrix.ModelName != model ||
		len(matrix.Environments) != 2 || matrix.Environments[0].Live[0].ID != v2.ID {
		t.Fatalf("rollout --output json printed %s (%v)", rolloutJSON.stdout, err)
	}
}

// rfc3339 normalises a JSON timestamp (protojson drops trailing zeros) to the tables' form.
func rfc3339(t *testing.T, s string) string {
	t.Helper()
	moment, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not a timestamp: %q", s)
	}
	return moment.UTC().Format(timeLayout)
}

// table splits tab-separated output into rows of exactly width cells.
func table(t *testing.T, out string, width int) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		cells := strings.Split(line, "\t")
		if len(cells) != width {
			t.Fatalf("line %q has %d cells, want %d", line, len(cells), width)
		}
		rows = append(rows, cells)
	}
	return rows
}

// listedIDs reads the ids of {"deployments": [...]}.
func listedIDs(t *testing.T, out string) []string {
	t.Helper()
	var listed struct {
		Deployments []liveDeployment `json:"deployments"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("not a deployment list: %v\n%s", err, out)
	}
	ids := []string{}
	for _, d := range listed.Deployments {
		ids = append(ids, d.ID)
	}
	return ids
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
