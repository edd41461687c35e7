"""Token authentication (kept apart from views: DRF imports it at start-up).

Tokens are django-rest-knox's: each login gets its own, stored only as a digest, and ends after
API_TOKEN_HOURS, at logout, when the user is deactivated, and when their password changes.
"""

from __future__ import annotations

import binascii
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Value
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

from recordkeeping.permissions import remember_roles


class ExpiringTokenAuthentication(TokenAuthentication):
    """knox's token check in one query: the token found by its digest (the table's key), with
    its user and the user's roles. knox's own reads every token of the user on each request to
    clear expired ones; expired tokens are refused here and cleared at the user's next login."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        try:
            digest = hash_token(token.decode())
        except (TypeError, UnicodeDecodeError, binascii.Error) as error:
            raise exceptions.AuthenticationFailed("Invalid token.") from error
        found = (
            AuthToken.objects.select_related("user")
            .annotate(roles=ArrayAgg("user__groups__name", default=Value([])))
            .filter(digest=digest)
            .first()
        )
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not found.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if found.expiry is not None and found.expiry <= timezone.now():
            raise exceptions.AuthenticationFailed("Token expired; ask for a new one.")
        remember_roles(found.user, found.roles)
        return found.user, found


class TokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI document, as DRF's own was: ``Authorization: Token <key>``."""

    target_class = ExpiringTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 - the scheme name
        )
