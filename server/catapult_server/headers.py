"""Metadata (HTTP header) names the server and the Envoy config in front of it agree on."""

# A create's AIP-155 request_id, as a header: REST clients may send it instead of the request_id,
# and Envoy retries a create that carries it (envoy/routes.py), because the server then
# deduplicates by it (idempotency.adopt_header).
IDEMPOTENCY_KEY = "idempotency-key"

# Trailing metadata on a call the server refused before running any of it: Envoy may send it to
# another server whatever the method (envoy/routes.py).
UNPROCESSED = "catapult-unprocessed"
