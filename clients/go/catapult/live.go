package catapult

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// Release statuses: the closed vocabulary of catapult.v1.Release.status, whose
// (catapult.v1.rules).choices a test compares these with.
const (
	ReleaseStatusActive     = "active"
	ReleaseStatusDeprecated = "deprecated"
)

// DeploymentFilter selects deployments for FindDeployments and LiveAt. Every field set must
// match; a zero field does not filter. It is the typed form of a ListDeploymentsRequest.
type DeploymentFilter struct {
	// Environment, e.g. "production".
	Environment string
	// EndpointURL is an exact endpoint URL: what is, or was, serving there.
	EndpointURL string
	// Model is a model's name; ModelID a model's id. Either gives that model's deployments.
	Model, ModelID string
	// ReleaseID gives the deployments of one release.
	ReleaseID string
	// Company gives the deployments of the models built for one customer.
	Company string
	// Cluster and Namespace are the exact Kubernetes cluster and namespace.
	Cluster, Namespace string
	// Status is one of the Status… constants, e.g. StatusFailed.
	Status string
	// ActiveOnly keeps the deployments live now: status "success", neither superseded nor
	// terminated.
	ActiveOnly bool
	// LiveAt, when not zero, keeps the deployments live at that moment: live_since <= LiveAt <
	// terminated_at. At the moment one deployment superseded another, the new one is live.
	LiveAt time.Time
	// Digest keeps the deployments of releases with this image digest ("sha256:…").
	Digest string
	// ArtifactChecksum keeps the deployments of releases carrying an artifact with this
	// checksum: where a bad file is served.
	ArtifactChecksum string
	// ReleaseStatus keeps the deployments of releases with this status, e.g.
	// ReleaseStatusDeprecated.
	ReleaseStatus string
	// DeployedAfter and DeployedBefore, when not zero, bound deployed_at: at or after
	// DeployedAfter, before DeployedBefore.
	DeployedAfter, DeployedBefore time.Time
	// OrderBy is "deployed_at" or "created_at", optionally followed by " desc"; the default is
	// "deployed_at desc", newest first.
	OrderBy string
}

// Request returns the ListDeploymentsRequest the filter stands for (first page, default size).
func (f DeploymentFilter) Request() *catapultv1.ListDeploymentsRequest {
	return &catapultv1.ListDeploymentsRequest{
		Environment:      f.Environment,
		EndpointUrl:      f.EndpointURL,
		ModelName:        f.Model,
		ModelId:          f.ModelID,
		ReleaseId:        f.ReleaseID,
		Company:          f.Company,
		Cluster:          f.Cluster,
		K8SNamespace:     f.Namespace,
		Status:           f.Status,
		ActiveOnly:       f.ActiveOnly,
		LiveAt:           timestampOrNil(f.LiveAt),
		Digest:           f.Digest,
		ArtifactChecksum: f.ArtifactChecksum,
		ReleaseStatus:    f.ReleaseStatus,
		DeployedAfter:    timestampOrNil(f.DeployedAfter),
		DeployedBefore:   timestampOrNil(f.DeployedBefore),
		OrderBy:          f.OrderBy,
	}
}

// timestampOrNil leaves a zero time out of the request: the proto's "no filter".
func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// FindDeployments returns every deployment matching f, all pages read, newest deployed_at first
// unless f.OrderBy says otherwise. Each comes with its model name, company, release (version,
// tag, quantization, digest, status) and its live interval and links: LiveSince, TerminatedAt,
// ReplacesId and SupersededById. Some questions it answers in one call:
//
//	failed since Monday:    DeploymentFilter{Status: StatusFailed, DeployedAfter: monday}
//	a customer's live ones: DeploymentFilter{Company: "CompanyA", ActiveOnly: true}
//	deprecated but live:    DeploymentFilter{ReleaseStatus: ReleaseStatusDeprecated, ActiveOnly: true}
//	a bad image served now: DeploymentFilter{Digest: "sha256:…", ActiveOnly: true}
//	a bad file served now:  DeploymentFilter{ArtifactChecksum: "sha256:…", ActiveOnly: true}
//
// Errors: INVALID_ARGUMENT (INVALID_FIELD) for a bad filter value, e.g. an unknown status.
func (c *Client) FindDeployments(ctx context.Context, f DeploymentFilter) ([]*catapultv1.Deployment, error) {
	return collect(c.AllDeployments(ctx, f.Request()))
}

// LiveAt returns the deployments that were live at moment (live_since <= moment <
// terminated_at) and match f, all pages read. "What served this endpoint in production last
// Tuesday at 14:00?" is
//
//	client.LiveAt(ctx, tuesday1400, catapult.DeploymentFilter{Environment: "production", EndpointURL: url})
//
// which answers at most one deployment, as a slot has one live deployment at a time. f.LiveAt
// is replaced by moment.
func (c *Client) LiveAt(ctx context.Context, moment time.Time, f DeploymentFilter) ([]*catapultv1.Deployment, error) {
	if moment.IsZero() {
		return nil, fmt.Errorf("catapult: LiveAt needs a moment")
	}
	f.LiveAt = moment
	return c.FindDeployments(ctx, f)
}

// EndpointHistory returns every deployment ever recorded at endpointURL in environment ("" for
// every environment), newest deployed_at first: the live one (if any) and what it superseded,
// back to the first. ReplacesId and SupersededById link each to its neighbours in the slot,
// so the chain reads even where deployed_at and the order they became live differ.
func (c *Client) EndpointHistory(ctx context.Context, environment, endpointURL string) ([]*catapultv1.Deployment, error) {
	if endpointURL == "" {
		return nil, fmt.Errorf("catapult: EndpointHistory needs an endpoint URL")
	}
	return c.FindDeployments(ctx, DeploymentFilter{Environment: environment, EndpointURL: endpointURL})
}

// Replaced returns the deployment d superseded when it became live (d.ReplacesId), with its
// model and release, or nil when nothing was live in d's slot then (or d never became live).
func (c *Client) Replaced(ctx context.Context, d *catapultv1.Deployment) (*catapultv1.Deployment, error) {
	if d.GetReplacesId() == "" {
		return nil, nil
	}
	return c.Deployments.GetDeployment(ctx, &catapultv1.GetDeploymentRequest{Id: d.GetReplacesId()})
}

// SetDeploymentStatus moves the deployment with this id to status and returns it. Setting
// StatusSuccess makes it live: it supersedes whatever was live in its slot (see Replaced), as
// recording it as success would have. Status moves forward only: deploying → success, failed or
// terminated; failed → success or terminated; success → terminated.
//
// Errors: FAILED_PRECONDITION (STATUS_TRANSITION_NOT_ALLOWED) for any other move; NOT_FOUND.
func (c *Client) SetDeploymentStatus(ctx context.Context, id, status string) (*catapultv1.Deployment, error) {
	return c.Deployments.UpdateDeployment(ctx, &catapultv1.UpdateDeploymentRequest{
		Deployment: &catapultv1.Deployment{Id: id, Status: status},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}},
	})
}

// uuidPattern matches the ids the server assigns.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ModelRollout returns the environment matrix of a model: for each environment where it is
// live (by name), its live deployments, newest first, each with its release (version, tag,
// quantization, digest) and slot (cluster, namespace, endpoint, company, LiveSince). model is
// the model's name, or its id; a name that looks like a UUID is taken for an id.
//
// Errors: NOT_FOUND when there is no such model.
func (c *Client) ModelRollout(ctx context.Context, model string) (*catapultv1.ModelRollout, error) {
	req := &catapultv1.GetModelRolloutRequest{ModelName: model}
	if uuidPattern.MatchString(model) {
		req = &catapultv1.GetModelRolloutRequest{Id: model}
	}
	return c.Models.GetModelRollout(ctx, req)
}

// ReleaseFilter selects releases for FindReleases. Every field set must match.
type ReleaseFilter struct {
	// Model is a model's name; ModelID a model's id.
	Model, ModelID string
	// Version and Quantization are exact values.
	Version, Quantization string
	// Status is ReleaseStatusActive or ReleaseStatusDeprecated.
	Status string
	// Digest is an image digest, "sha256:…": which releases are that image.
	Digest string
	// OrderBy is "created_at" or "version", optionally followed by " desc"; the default is
	// "created_at desc". "version" is semantic version order (1.2.0 < 1.10.0-rc.1 < 1.10.0 <
	// 9.0.0 < 10.0.0), versions that are not semantic versions after them in text order.
	OrderBy string
}

// FindReleases returns every release matching f, all pages read, each with its model name.
//
// Errors: INVALID_ARGUMENT (INVALID_FIELD) for a bad filter value.
func (c *Client) FindReleases(ctx context.Context, f ReleaseFilter) ([]*catapultv1.Release, error) {
	return collect(c.AllReleases(ctx, &catapultv1.ListReleasesRequest{
		ModelName:    f.Model,
		ImageId:      f.ModelID,
		Version:      f.Version,
		Quantization: f.Quantization,
		Status:       f.Status,
		Digest:       f.Digest,
		OrderBy:      f.OrderBy,
	}))
}
