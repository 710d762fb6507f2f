from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    INVALID_FIELD: _ClassVar[ErrorReason]
    INVALID_PAGE_TOKEN: _ClassVar[ErrorReason]
    REQUEST_ID_REUSED: _ClassVar[ErrorReason]
    RESOURCE_NOT_FOUND: _ClassVar[ErrorReason]
    RESOURCE_ALREADY_EXISTS: _ClassVar[ErrorReason]
    ETAG_MISMATCH: _ClassVar[ErrorReason]
    HAS_CHILDREN: _ClassVar[ErrorReason]
    RELEASE_DEPRECATED: _ClassVar[ErrorReason]
    API_KEY_MISSING: _ClassVar[ErrorReason]
    API_KEY_INVALID: _ClassVar[ErrorReason]
    API_KEY_EXPIRED: _ClassVar[ErrorReason]
    API_KEY_REVOKED: _ClassVar[ErrorReason]
    ROLE_NOT_ALLOWED: _ClassVar[ErrorReason]
    DATABASE_UNAVAILABLE: _ClassVar[ErrorReason]
    INTERNAL_ERROR: _ClassVar[ErrorReason]
    CONCURRENT_CHANGE: _ClassVar[ErrorReason]
    HAS_LIVE_DEPLOYMENTS: _ClassVar[ErrorReason]
    STATUS_TRANSITION_NOT_ALLOWED: _ClassVar[ErrorReason]
    MALFORMED_REQUEST: _ClassVar[ErrorReason]
    ROUTE_NOT_FOUND: _ClassVar[ErrorReason]
    REQUEST_TOO_LARGE: _ClassVar[ErrorReason]
    SERVER_UNAVAILABLE: _ClassVar[ErrorReason]
    LAST_ADMIN_KEY: _ClassVar[ErrorReason]
    DEADLINE_PASSED: _ClassVar[ErrorReason]
    SERVER_SHUTTING_DOWN: _ClassVar[ErrorReason]
    CURSOR_EXPIRED: _ClassVar[ErrorReason]
    TOO_MANY_WATCHES: _ClassVar[ErrorReason]
    WATCHER_TOO_SLOW: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
INVALID_FIELD: ErrorReason
INVALID_PAGE_TOKEN: ErrorReason
REQUEST_ID_REUSED: ErrorReason
RESOURCE_NOT_FOUND: ErrorReason
RESOURCE_ALREADY_EXISTS: ErrorReason
ETAG_MISMATCH: ErrorReason
HAS_CHILDREN: ErrorReason
RELEASE_DEPRECATED: ErrorReason
API_KEY_MISSING: ErrorReason
API_KEY_INVALID: ErrorReason
API_KEY_EXPIRED: ErrorReason
API_KEY_REVOKED: ErrorReason
ROLE_NOT_ALLOWED: ErrorReason
DATABASE_UNAVAILABLE: ErrorReason
INTERNAL_ERROR: ErrorReason
CONCURRENT_CHANGE: ErrorReason
HAS_LIVE_DEPLOYMENTS: ErrorReason
STATUS_TRANSITION_NOT_ALLOWED: ErrorReason
MALFORMED_REQUEST: ErrorReason
ROUTE_NOT_FOUND: ErrorReason
REQUEST_TOO_LARGE: ErrorReason
SERVER_UNAVAILABLE: ErrorReason
LAST_ADMIN_KEY: ErrorReason
DEADLINE_PASSED: ErrorReason
SERVER_SHUTTING_DOWN: ErrorReason
CURSOR_EXPIRED: ErrorReason
TOO_MANY_WATCHES: ErrorReason
WATCHER_TOO_SLOW: ErrorReason
