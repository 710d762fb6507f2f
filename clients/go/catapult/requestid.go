package catapult

import (
	"context"
	"crypto/sha256"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// IdempotencyKeyHeader is the metadata a create's request_id is sent in as well (Dial's
// clients do it for every create that has one). The server deduplicates by it as by the
// request_id, and refuses the two when they differ, so the Envoy in front of several servers
// can send such a create to another server after a lost connection; without it Envoy never
// retries a create, as it cannot read the request.
const IdempotencyKeyHeader = "idempotency-key"

// sendRequestIDAsHeader adds IdempotencyKeyHeader to every RPC whose request carries a
// non-empty request_id (the creates).
func sendRequestIDAsHeader(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
) error {
	if create, ok := req.(interface{ GetRequestId() string }); ok && create.GetRequestId() != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, IdempotencyKeyHeader, create.GetRequestId())
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// RequestID derives a stable request_id from the inputs of a create: the same kind and parts
// always give the same id, and any difference gives another. Pass it as a create's request_id
// and a retried job (same inputs) gets the record the first attempt made instead of a second
// one.
//
// The id is SHA-256 over kind and each part, each followed by a NUL byte, formatted as a
// version 8 (custom) UUID. scripts/ computes the same with
// `printf '%s\0' KIND PART… | sha256sum`, so a Go tool and a script recording the same thing
// share one id.
//
// Include something that identifies the run (a CI run id) when the same inputs may
// legitimately be recorded again later, e.g. redeploying a release after a rollback.
func RequestID(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range append([]string{kind}, parts...) {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // variant RFC 9562
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
