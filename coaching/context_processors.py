from django.http import HttpRequest


def tenant(request: HttpRequest) -> dict:
    """The tenant and role for page chrome, but only for members: a non-member's 404
    must be the same page as an unknown tenant's, naming nothing."""
    membership = getattr(request, "membership", None)
    return {
        "tenant": getattr(request, "tenant", None) if membership is not None else None,
        "membership": membership,
    }
