"""What the test suites share, each defined once: ports, databases, servers, the `catapult up`
stack, Envoy and REST calls, gRPC and REST error helpers, API factories, polling, README blocks.

Fixtures live in the conftest.py files; this package holds the plain functions and classes they
and the tests are built from."""
