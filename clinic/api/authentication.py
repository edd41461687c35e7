"""Token authentication with expiry (kept apart from views: DRF imports it at start-up)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Value
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from clinic.permissions import remember_roles


def token_expires_at(token: Token) -> datetime.datetime:
    return token.created + datetime.timedelta(seconds=settings.API_TOKEN_LIFETIME_SECONDS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token, refused once older than API_TOKEN_HOURS (and, as before, for an inactive
    user: deactivating a user stops their token at once)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        # DRF's lookup, with the user's roles read in the same query.
        found = (
            Token.objects.select_related("user")
            .annotate(roles=ArrayAgg("user__groups__name", default=Value([])))
            .filter(key=key)
            .first()
        )
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not found.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token_expires_at(found) <= timezone.now():
            raise exceptions.AuthenticationFailed("Token expired; ask for a new one.")
        remember_roles(found.user, found.roles)
        return found.user, found
