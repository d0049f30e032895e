"""Who may do what inside the tenant in context. Used by the page middleware and the API
base alike, so the rules live once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from coaching.models import Membership


def user_has_mfa(user: AbstractBaseUser) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def needs_mfa(membership: Membership) -> bool:
    """Owners, coaches and admins see many clients' health data: TOTP first."""
    return membership.role in settings.MFA_REQUIRED_ROLES and not user_has_mfa(membership.user)
