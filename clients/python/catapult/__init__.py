"""Client for the Catapult MLOps registry. The generated stubs live in `catapult.v1`."""
