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
//   - [Client.LatestRelease]: the newest release of a model, optionally of one quantization or
//     only among those live in an environment;
//   - [Client.LiveDeployments]: everything live in an environment, all pages read;
//   - [Client.AllModels], [Client.AllReleases], [Client.AllDeployments]: iterators over every page
//     of a List call.
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
// derive their ids the same way.
package catapult
