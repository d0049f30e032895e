"""API settings objects (pagination, error body). Kept apart from `api_base` because DRF
imports them while `rest_framework.generics` itself is still loading."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from coaching.errors import DomainError

NOT_FOUND_MESSAGE = "Not found."


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class TenantNotFound(exceptions.NotFound):
    default_detail = NOT_FOUND_MESSAGE


def _error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def not_found_response() -> JsonResponse:
    """The API's 404 body for code that runs before DRF (the tenant middleware, when the
    tenant named by the path or `X-Tenant` does not exist)."""
    return JsonResponse(_error_body("not_found", NOT_FOUND_MESSAGE), status=404)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error leaves as {"error": {"code", "message", "fields"}}."""
    if isinstance(exc, DomainError):
        return Response(_error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = TenantNotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {
            key: [str(m) for m in (v if isinstance(v, list) else [v])] for key, v in detail.items()
        }
        response.data = _error_body("invalid", "The request has invalid fields.", fields)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        code = code if isinstance(code, str) else "error"
        if isinstance(exc, exceptions.NotFound):
            response.data = _error_body("not_found", NOT_FOUND_MESSAGE)
        else:
            response.data = _error_body(code, str(exc.detail))
    if response.status_code == status.HTTP_404_NOT_FOUND:
        response.data = _error_body("not_found", NOT_FOUND_MESSAGE)
    return response
