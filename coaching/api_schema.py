"""The OpenAPI document's shared parts: the one error body as a component (`Error`) and
the postprocessing hook that documents it on every operation.

Every error leaves the API as `{"error": {"code", "message", "fields"}}`
(`coaching.api_conf.exception_handler`), so the error responses are documented once,
here, rather than on each view: 400 (invalid fields or query, malformed JSON), 403 (not
allowed: role, missing two-factor set-up, paused access, read-only business), 404 (no
tenant, or an object that is missing or another tenant's: the same body) on every
operation, and 409 (a state conflict: already published, already decided, ...) on every
write. A view with another error status (e.g. billing's 502 when Stripe fails) adds it
with `error_response(...)` in its `extend_schema`. The schema is checked against the
running API by tests/test_api_schemathesis.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error body of the API. Match on `code`, never on `message`.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable and machine-readable, e.g. `invalid`, "
                    "`not_found`, `permission_denied`, `mfa_required`, `version_published`.",
                    "example": "invalid",
                },
                "message": {
                    "type": "string",
                    "description": "For people; may change.",
                    "example": "The request has invalid fields.",
                },
                "fields": {
                    "type": "object",
                    "description": "Field name → messages; empty unless named fields were wrong.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "example": {"date": ["Enter a valid date."]},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}

ALWAYS = {
    "400": "Invalid input: the fields (or query parameters) at fault are named in `fields`.",
    "403": "Not allowed: not signed in, the wrong role, two-factor set-up missing, paused "
    "access, or the business is read-only.",
    "404": "No such tenant or object (another tenant's object is the same 404).",
}
ON_WRITES = {"409": "The object's state does not allow this change (`code` says why)."}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def error_response(description: str) -> OpenApiResponse:
    """An extra error status for one view's `extend_schema(responses=...)`."""
    return OpenApiResponse(response=ERROR_REF, description=description)


def document_errors(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: add the `Error` component and the error
    responses every operation can give (a view's own documentation of a status wins)."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "head", *WRITE_METHODS}:
                continue
            statuses = {**ALWAYS, **(ON_WRITES if method in WRITE_METHODS else {})}
            responses = operation.setdefault("responses", {})
            for status_code, description in statuses.items():
                responses.setdefault(
                    status_code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ERROR_REF}},
                    },
                )
    return result
