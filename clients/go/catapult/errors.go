package catapult

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of Catapult's errors.
const ErrorDomain = "catapult"

// Code returns the gRPC status code of err: codes.OK for nil, codes.Unknown for an error that
// is not a status error. Wrapped status errors (fmt.Errorf("…: %w", err)) are understood.
func Code(err error) codes.Code { return status.Code(err) }

// ErrorInfo returns the google.rpc.ErrorInfo (domain "catapult") err carries, or nil.
func ErrorInfo(err error) *errdetails.ErrorInfo {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return nil
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info
		}
	}
	return nil
}

// Reason returns the ErrorInfo reason of err, a catapultv1.ErrorReason name such as
// "RESOURCE_NOT_FOUND" or "API_KEY_INVALID"; "" when err carries none (nil, a transport
// failure, a deadline).
func Reason(err error) string { return ErrorInfo(err).GetReason() }

// HasReason reports whether err carries the ErrorInfo reason r.
func HasReason(err error, r catapultv1.ErrorReason) bool {
	return r != catapultv1.ErrorReason_ERROR_REASON_UNSPECIFIED && Reason(err) == r.String()
}

// FieldViolations returns the invalid fields an INVALID_ARGUMENT error names (its
// google.rpc.BadRequest), e.g. "deployment.environment".
func FieldViolations(err error) []*errdetails.BadRequest_FieldViolation {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return nil
	}
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}

// IsNotFound reports whether err is NOT_FOUND: the model, release or deployment does not exist.
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

// IsAlreadyExists reports whether err is ALREADY_EXISTS: a model name or a release's
// (model, version, quantization) is taken.
func IsAlreadyExists(err error) bool { return Code(err) == codes.AlreadyExists }

// IsInvalidArgument reports whether err is INVALID_ARGUMENT: see FieldViolations for the fields.
func IsInvalidArgument(err error) bool { return Code(err) == codes.InvalidArgument }

// IsFailedPrecondition reports whether err is FAILED_PRECONDITION, e.g. deploying a deprecated
// release (reason RELEASE_DEPRECATED) or deleting a model that has releases (HAS_CHILDREN).
func IsFailedPrecondition(err error) bool { return Code(err) == codes.FailedPrecondition }

// IsAborted reports whether err is ABORTED: the etag sent is stale; re-read and retry.
func IsAborted(err error) bool { return Code(err) == codes.Aborted }

// IsUnauthenticated reports whether err is UNAUTHENTICATED: the API key is missing, unknown,
// expired or revoked (Reason tells which).
func IsUnauthenticated(err error) bool { return Code(err) == codes.Unauthenticated }

// IsPermissionDenied reports whether err is PERMISSION_DENIED: the key's role may not make
// this call (a reader key writing, a non-admin key managing keys).
func IsPermissionDenied(err error) bool { return Code(err) == codes.PermissionDenied }

// IsUnavailable reports whether err is UNAVAILABLE: the server or its database cannot be
// reached. Such a call may be retried (a create with the same request_id).
func IsUnavailable(err error) bool { return Code(err) == codes.Unavailable }

// notFound builds the NOT_FOUND error the server would send, for a resource the client found
// missing itself, so callers branch on it like on the server's.
func notFound(resourceType, name, message string) error {
	st := status.New(codes.NotFound, message)
	detailed, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: catapultv1.ErrorReason_RESOURCE_NOT_FOUND.String(), Domain: ErrorDomain},
		&errdetails.ResourceInfo{ResourceType: resourceType, ResourceName: name},
	)
	if err != nil {
		return st.Err()
	}
	return detailed.Err()
}
