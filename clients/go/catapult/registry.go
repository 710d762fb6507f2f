package catapult

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// Deployment statuses: the closed vocabulary of catapult.v1.Deployment.status, whose
// (catapult.v1.rules).choices a test compares these with.
const (
	StatusDeploying  = "deploying"
	StatusSuccess    = "success"
	StatusFailed     = "failed"
	StatusTerminated = "terminated"
)

// listPageSize is the page size the helpers read lists with (the server's maximum).
var listPageSize int32 = 1000

// ReleaseSpec is a release to record with RecordRelease.
type ReleaseSpec struct {
	// Model is the name of the model the release is built from (required).
	Model string
	// Version is the release's version, e.g. "1.0.0" (required).
	Version string
	// Quantization is any lowercase token, e.g. "fp16", "int8", "awq"; "" for none.
	Quantization string
	// Tag is the Docker tag, by convention "v{version}-{quantization}".
	Tag string
	// Digest is the Docker image digest, "sha256:…".
	Digest       string
	Platform     string // e.g. "linux/amd64"
	Architecture string // e.g. "amd64"
	OS           string // e.g. "linux"
	SizeBytes    int64
	ReleaseNotes string
	Metadata     *structpb.Struct
	// RequestID makes the create idempotent: a retry with the same id returns the release the
	// first call recorded. See RequestID for deriving one.
	RequestID string
}

// RecordRelease records release spec.Version (spec.Quantization) of the model named
// spec.Model and returns it.
//
// Errors: NOT_FOUND (RESOURCE_NOT_FOUND) when there is no such model; ALREADY_EXISTS when the
// model already has a release of that version and quantization (and spec.RequestID is not the
// one that recorded it); INVALID_ARGUMENT for a bad value.
func (c *Client) RecordRelease(ctx context.Context, spec ReleaseSpec) (*catapultv1.Release, error) {
	model, err := c.Models.GetModelByName(ctx, &catapultv1.GetModelByNameRequest{Name: spec.Model})
	if err != nil {
		return nil, err
	}
	return c.Releases.CreateRelease(ctx, &catapultv1.CreateReleaseRequest{
		Release: &catapultv1.Release{
			ImageId:      model.GetId(),
			Version:      spec.Version,
			Quantization: spec.Quantization,
			Tag:          spec.Tag,
			Digest:       spec.Digest,
			Platform:     spec.Platform,
			Architecture: spec.Architecture,
			Os:           spec.OS,
			SizeBytes:    spec.SizeBytes,
			ReleaseNotes: spec.ReleaseNotes,
			Metadata:     spec.Metadata,
		},
		RequestId: spec.RequestID,
	})
}

// ResolveRelease returns the release of the model named model with exactly this version and
// quantization ("" is the release without quantization).
//
// Errors: NOT_FOUND (RESOURCE_NOT_FOUND) when the model does not exist, or has no such
// release; the message then lists the quantizations the version does have.
func (c *Client) ResolveRelease(ctx context.Context, model, version, quantization string) (*catapultv1.Release, error) {
	if model == "" || version == "" {
		return nil, fmt.Errorf("catapult: ResolveRelease needs a model name and a version")
	}
	// Without a quantization filter: "" is not a filter value, and the other quantizations of
	// the version make the NOT_FOUND message useful. A version has a handful of releases.
	var others []string
	for r, err := range c.AllReleases(ctx, &catapultv1.ListReleasesRequest{ModelName: model, Version: version}) {
		if err != nil {
			return nil, err
		}
		if r.GetQuantization() == quantization {
			return r, nil
		}
		others = append(others, quantizationName(r.GetQuantization()))
	}
	// No such release: say whether the model itself is missing, with the server's error.
	if _, err := c.Models.GetModelByName(ctx, &catapultv1.GetModelByNameRequest{Name: model}); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("model %q has no release %s with %s", model, version, quantizationPhrase(quantization))
	if len(others) > 0 {
		slices.Sort(others)
		msg += fmt.Sprintf(" (it has %s)", strings.Join(others, ", "))
	}
	return nil, notFound("catapult.v1.Release", fmt.Sprintf("%s:%s:%s", model, version, quantization), msg)
}

func quantizationName(q string) string {
	if q == "" {
		return "no quantization"
	}
	return q
}

func quantizationPhrase(q string) string {
	if q == "" {
		return "no quantization"
	}
	return "quantization " + q
}

// DeploymentSpec is a deployment to record with RecordDeployment.
type DeploymentSpec struct {
	// Model, Version and Quantization name the deployed release ("" quantization is the release
	// without one). Ignored when ReleaseID is set.
	Model, Version, Quantization string
	// ReleaseID names the deployed release directly.
	ReleaseID string
	// Environment is any lowercase token, e.g. "production", "staging", "eu-prod" (required).
	Environment string
	// EndpointURL is the live API endpoint, e.g. "https://api.companyA.prod/v1/llama".
	EndpointURL string
	// Cluster and Namespace are the Kubernetes cluster and namespace it runs in.
	Cluster, Namespace string
	// Replicas is the number of replicas running.
	Replicas int32
	// Status is one of the Status… constants; "" leaves it to the server, whose default is
	// StatusSuccess: the deployment is live at once and supersedes what was live in its slot.
	// StatusDeploying records a rollout in progress, live only once SetDeploymentStatus moves it
	// to StatusSuccess.
	Status string
	// DeployedBy defaults to the name of the calling API key.
	DeployedBy string
	Metadata   *structpb.Struct
	// Force records the deployment even though the release is deprecated.
	Force bool
	// RequestID makes the create idempotent: a retry with the same id returns the deployment
	// the first call recorded. See RequestID for deriving one.
	RequestID string
}

// RecordDeployment records that a release is deployed to spec.Environment at
// spec.EndpointURL and returns the deployment, with its model name, company and release
// version filled in. The release is spec.ReleaseID, or else resolved with ResolveRelease.
//
// A deployment recorded live (the default status) supersedes the deployment live in its slot
// (the environment and endpoint URL; without an endpoint, the model, environment, cluster and
// namespace): the returned deployment's ReplacesId names it ("" when nothing was live there),
// and Replaced fetches it. The superseded one is terminated in the same transaction.
//
// Errors: NOT_FOUND (RESOURCE_NOT_FOUND) when the model or release does not exist;
// FAILED_PRECONDITION (RELEASE_DEPRECATED) when the release is deprecated and spec.Force is
// not set; INVALID_ARGUMENT (INVALID_FIELD) for an unknown environment or status.
func (c *Client) RecordDeployment(ctx context.Context, spec DeploymentSpec) (*catapultv1.Deployment, error) {
	releaseID := spec.ReleaseID
	if releaseID == "" {
		release, err := c.ResolveRelease(ctx, spec.Model, spec.Version, spec.Quantization)
		if err != nil {
			return nil, err
		}
		releaseID = release.GetId()
	}
	return c.Deployments.CreateDeployment(ctx, &catapultv1.CreateDeploymentRequest{
		Deployment: &catapultv1.Deployment{
			ReleaseId:    releaseID,
			Environment:  spec.Environment,
			Cluster:      spec.Cluster,
			K8SNamespace: spec.Namespace,
			EndpointUrl:  spec.EndpointURL,
			Replicas:     spec.Replicas,
			Status:       spec.Status,
			DeployedBy:   spec.DeployedBy,
			Metadata:     spec.Metadata,
		},
		RequestId: spec.RequestID,
		Force:     spec.Force,
	})
}

// TerminateDeployment marks the deployment with this id terminated and returns it. The record
// is kept, and terminating a terminated deployment returns it unchanged, so a retry is safe.
//
// Errors: NOT_FOUND; INVALID_ARGUMENT when id is not a UUID.
func (c *Client) TerminateDeployment(ctx context.Context, id string) (*catapultv1.Deployment, error) {
	return c.Deployments.DeleteDeployment(ctx, &catapultv1.DeleteDeploymentRequest{Id: id})
}

// TerminateAt marks every deployment that is not yet terminated in environment at
// endpointURL terminated, and returns those it terminated. When all of them already were
// terminated it returns none and no error, so a retry is safe.
//
// Errors: NOT_FOUND (RESOURCE_NOT_FOUND) when no deployment was ever recorded there (likely a
// typo in the environment or URL).
func (c *Client) TerminateAt(ctx context.Context, environment, endpointURL string) ([]*catapultv1.Deployment, error) {
	if environment == "" || endpointURL == "" {
		return nil, fmt.Errorf("catapult: TerminateAt needs an environment and an endpoint URL")
	}
	// Not only the live one: rollouts still deploying there, and failed ones, are not
	// terminated either, and taking the endpoint down ends them too. One listing per status
	// reads what is open, not the endpoint's whole history.
	var open []*catapultv1.Deployment
	for _, status := range []string{StatusSuccess, StatusDeploying, StatusFailed} {
		found, err := c.FindDeployments(ctx, DeploymentFilter{
			Environment: environment, EndpointURL: endpointURL, Status: status,
		})
		if err != nil {
			return nil, err
		}
		open = append(open, found...)
	}
	if len(open) == 0 {
		ever, err := c.Deployments.ListDeployments(ctx, &catapultv1.ListDeploymentsRequest{
			Environment: environment, EndpointUrl: endpointURL, PageSize: 1,
		})
		if err != nil {
			return nil, err
		}
		if len(ever.GetDeployments()) == 0 {
			return nil, notFound("catapult.v1.Deployment", environment+" "+endpointURL,
				fmt.Sprintf("no deployment was ever recorded in %s at %s", environment, endpointURL))
		}
		return nil, nil
	}
	terminated := make([]*catapultv1.Deployment, 0, len(open))
	for _, d := range open {
		t, err := c.TerminateDeployment(ctx, d.GetId())
		if err != nil {
			return terminated, err
		}
		terminated = append(terminated, t)
	}
	return terminated, nil
}

// LatestOptions narrows LatestRelease.
type LatestOptions struct {
	// Quantization, if set, considers only releases of this quantization.
	Quantization string
	// Environment, if set, answers what serves there: the release of the model's live
	// deployment in this environment that became live last (after a rollback, the older
	// version).
	Environment string
}

// LatestRelease returns the newest release of the model named model: the highest semantic
// version (1.10.0 after 1.9.0; a pre-release before its release; versions that are not
// semantic versions count below every one that is), or with opts.Environment the release
// live there (see LatestOptions).
//
// Errors: NOT_FOUND when the model does not exist or has no matching release.
func (c *Client) LatestRelease(ctx context.Context, model string, opts LatestOptions) (*catapultv1.Release, error) {
	return c.Releases.GetLatestRelease(ctx, &catapultv1.GetLatestReleaseRequest{
		ModelName:    model,
		Quantization: opts.Quantization,
		Environment:  opts.Environment,
	})
}

// LiveDeployments returns every deployment live now in environment ("" for every
// environment): status "success", neither superseded nor terminated; one per slot. They come
// newest first, each with its model name, company, release version and endpoint URL. It reads
// all pages; FindDeployments narrows further.
func (c *Client) LiveDeployments(ctx context.Context, environment string) ([]*catapultv1.Deployment, error) {
	return c.FindDeployments(ctx, DeploymentFilter{Environment: environment, ActiveOnly: true})
}

// AllModels iterates over every model ListModels returns for req, reading page after page.
// req is not modified; a zero PageSize reads pages of the server's maximum size. The iteration
// stops at the first error, which it yields.
func (c *Client) AllModels(ctx context.Context, req *catapultv1.ListModelsRequest) iter.Seq2[*catapultv1.Model, error] {
	return pages(ctx, req, c.Models.ListModels, (*catapultv1.ListModelsResponse).GetModels)
}

// AllReleases iterates over every release ListReleases returns for req, reading page after
// page. req is not modified; a zero PageSize reads pages of the server's maximum size.
func (c *Client) AllReleases(ctx context.Context, req *catapultv1.ListReleasesRequest) iter.Seq2[*catapultv1.Release, error] {
	return pages(ctx, req, c.Releases.ListReleases, (*catapultv1.ListReleasesResponse).GetReleases)
}

// AllDeployments iterates over every deployment ListDeployments returns for req, reading page
// after page. req is not modified; a zero PageSize reads pages of the server's maximum size.
func (c *Client) AllDeployments(ctx context.Context, req *catapultv1.ListDeploymentsRequest) iter.Seq2[*catapultv1.Deployment, error] {
	return pages(ctx, req, c.Deployments.ListDeployments, (*catapultv1.ListDeploymentsResponse).GetDeployments)
}

// collect reads an iterator of the All… methods into a slice, stopping at the first error.
func collect[Item any](items iter.Seq2[Item, error]) ([]Item, error) {
	var out []Item
	for item, err := range items {
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}

// pageRequest is a List request (AIP-158 page_size and page_token).
type pageRequest interface {
	proto.Message
	GetPageSize() int32
}

// pageResponse is a List response.
type pageResponse interface {
	GetNextPageToken() string
}

func pages[Req pageRequest, Resp pageResponse, Item any](
	ctx context.Context,
	req Req,
	list func(context.Context, Req, ...grpc.CallOption) (Resp, error),
	items func(Resp) []Item,
) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		page := proto.Clone(req).(Req)
		fields := page.ProtoReflect()
		if page.GetPageSize() == 0 {
			fields.Set(fields.Descriptor().Fields().ByName("page_size"), protoreflect.ValueOfInt32(listPageSize))
		}
		tokenField := fields.Descriptor().Fields().ByName("page_token")
		for {
			resp, err := list(ctx, page)
			if err != nil {
				var zero Item
				yield(zero, err)
				return
			}
			for _, item := range items(resp) {
				if !yield(item, nil) {
					return
				}
			}
			next := resp.GetNextPageToken()
			if next == "" {
				return
			}
			fields.Set(tokenField, protoreflect.ValueOfString(next))
		}
	}
}
