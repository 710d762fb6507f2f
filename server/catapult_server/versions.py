"""Semantic version order (semver.org §11) as a string that sorts byte by byte: releases store
it (releases.version_key, collation "C"), so ORDER BY and keyset pages use an index.

1.2.0 < 1.10.0-rc.1 < 1.10.0 < 9.0.0 < 10.0.0: numbers compare as numbers, a pre-release comes
before its release, and pre-release identifiers compare as semver says (numeric ones as numbers
and below alphanumeric ones, a shorter list first). Build metadata does not count. A version
that is not a semantic version sorts after every one that is, in text order."""

from __future__ import annotations

import re

SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
SEMANTIC, OTHER = "0", "1"  # the first character of a key: semantic versions first
_END = "\x01"  # ends a pre-release identifier: below every character an identifier may hold


def _number(digits: str) -> str:
    """A number that sorts by value: its length (two digits), then its digits."""
    return f"{len(digits):02d}{digits}"


def _identifier(identifier: str) -> str:
    """A pre-release identifier: numeric ones by value, below alphanumeric ones (ASCII order)."""
    return ("0" + _number(identifier) if identifier.isdigit() else "1" + identifier) + _END


def sort_key(version: str) -> str:
    match = SEMVER.fullmatch(version)
    if match is None or any(len(part) > 99 for part in match.groups()[:3]):
        return OTHER + version
    major, minor, patch, pre_release = match.groups()
    key = SEMANTIC + _number(major) + _number(minor) + _number(patch)
    if pre_release is None:
        return key + "1"  # a release sorts after all its pre-releases
    return key + "0" + "".join(_identifier(part) for part in pre_release.split("."))


def is_semantic(key: str) -> bool:
    return key.startswith(SEMANTIC)
