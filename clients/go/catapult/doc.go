// Package catapult is the Go client of the Catapult registry: which release of which model
// is live where, at which endpoint.
//
// [Dial] connects to a Catapult server (directly, or through Envoy's gRPC port) with an API
// key and returns a [Client]. The Client exposes the generated service clients of
// github.com/warlockee/catapult/clients/go/catapult/v1 (Models, Releases, Deployments, …) for
// every RPC, and adds the few helpers CI and deploy tooling needs:
//
//   - [Client.RecordRelease]: record release V (quantization Q) of model M, by the model's name;
//   - [Client.RecordDeployment]: record that release V/Q of model M runs in environment E at an
//     endpoint URL (the release is resolved from the model name, version and quantization);
//   - [Client.TerminateDeployment] and [Client.TerminateAt]: mark deployments terminated;
//   - [Client.SetDeploymentStatus]: move a deployment on, e.g. from deploying to success (live);
//   - [Client.LatestRelease]: the highest version of a model, optionally of one quantization, or
//     the one serving in an environment;
//   - [Client.AllModels], [Client.AllReleases], [Client.AllDeployments]: iterators over every page
//     of a List call;
//   - [Client.WatchDeployments] and [Client.WatchChanges]: each change as it commits (see Watching).
//
// # What is live
//
// A deployment is live while its status is "success" (the default when it is recorded). It
// occupies a slot: its environment and endpoint URL, or without an endpoint its model,
// environment, cluster and namespace. Becoming live, it supersedes the deployment live in its
// slot, which the server terminates in the same transaction: the new one's ReplacesId and the
// old one's SupersededById link them, and each was live over [LiveSince, TerminatedAt). A
// rollback is a deploy of the older release. Each question below is one call, reading every page:
//
//   - what is live now: [Client.LiveDeployments], or [Client.FindDeployments] with ActiveOnly;
//   - what was live at a moment, e.g. at an endpoint last Tuesday 14:00: [Client.LiveAt];
//   - what an endpoint served, newest first, and what each superseded: [Client.EndpointHistory];
//     [Client.Replaced] fetches what a deployment superseded;
//   - where a model is live, per environment: [Client.ModelRollout];
//   - which releases are an image: [Client.FindReleases] with a Digest; which deployments serve
//     an image or a file, now or at a moment: [Client.FindDeployments] or [Client.LiveAt] with a
//     Digest or an ArtifactChecksum;
//   - deprecated but still live, a customer's live deployments, failures since a date:
//     [Client.FindDeployments] with ReleaseStatus, Company or Status and DeployedAfter.
//
// # Watching
//
// [Client.WatchDeployments] calls a function with each change to the deployments matching a
// [DeploymentWatchFilter] (an environment, a model, an endpoint, what is live, …), in commit
// order, each once: created, updated, superseded, terminated, deleted ([Event], the Event…
// constants). [Client.WatchChanges] does the same for every resource, or one type or one
// resource. A watch runs until its context ends (it then returns ctx.Err()) or the function
// returns an error (it returns that error). A stream cut off by a server restart, a lost
// connection (UNAVAILABLE) or a reader too slow for the server (WATCHER_TOO_SLOW) is resumed
// from the last cursor after a backoff, so nothing is missed or repeated; other errors (a bad
// filter, CURSOR_EXPIRED, a revoked key) end the watch. Heartbeats keep an idle watch's place
// without reaching the function.
//
//	err := client.WatchDeployments(ctx, catapult.DeploymentWatchFilter{Environment: "production"},
//		func(e catapult.Event) error {
//			fmt.Println(e.GetType(), e.GetDeployment().GetEndpointUrl())
//			return nil
//		})
//
// # Errors
//
// Errors are gRPC status errors (google.golang.org/grpc/status) carrying a google.rpc.ErrorInfo
// whose reason is a [catapultv1.ErrorReason] name. [Reason] returns it, [HasReason] compares it,
// and [IsNotFound], [IsAlreadyExists], [IsUnauthenticated], … test the status code:
//
//	if catapult.IsNotFound(err) { … }
//	if catapult.Reason(err) == "RELEASE_DEPRECATED" { … }
//
// Errors the helpers detect on the client side (a release that does not exist, say) are built
// the same way, so code branches on them in one way.
//
// # Idempotency
//
// Creates accept a request_id: a retry with the same id returns what the first call created
// instead of creating a second record. [RequestID] derives a stable id from a call's inputs, so
// a CI job that is retried as a whole does not record the same deployment twice. The
// catapult-deploy command (clients/go/cmd/catapult-deploy) and the grpcurl scripts in scripts/
// derive their ids the same way. A Dial'ed client sends a create's request_id as
// [IdempotencyKeyHeader] metadata too, which lets the Envoy in front of several servers retry
// the create on another one by itself.
package catapult
