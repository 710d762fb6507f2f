"""Schemathesis hooks for tests/rest/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The run fuzzes every operation with an admin key, RevokeApiKey included. It may create other
admin keys, after which revoking its own would succeed and end the run early: a revoke of a key
the run depends on (CATAPULT_FUZZ_PROTECTED_KEYS, comma-separated ids) goes to a fresh UUID
instead, which the server answers NOT_FOUND."""

from __future__ import annotations

import os
import uuid
from typing import Any

import schemathesis

PROTECTED = set(filter(None, os.environ.get("CATAPULT_FUZZ_PROTECTED_KEYS", "").split(",")))


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    parameters = case.path_parameters or {}
    if (
        case.method.upper() == "DELETE"
        and case.path.startswith("/v1/api-keys/")
        and parameters.get("id") in PROTECTED
    ):
        parameters["id"] = str(uuid.uuid4())
