"""Getting and revoking API tokens (which expire: clinic.api.authentication)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.authentication import token_expires_at

TokenResponse = inline_serializer(
    "TokenResponse",
    {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
)


class TokenView(APIView):
    """``POST`` with username and password: a token (a fresh one once the old has expired).
    ``DELETE`` with the token: revoke it."""

    serializer_class = AuthTokenSerializer

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(request=AuthTokenSerializer, responses=TokenResponse)
    def post(self, request: Request) -> Response:
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        if not credentials.is_valid():
            if getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(
                    detail="Too many failed logins for this account; try again later."
                )
            raise exceptions.ValidationError(credentials.errors)
        user = credentials.validated_data["user"]
        expired_before = timezone.now() - datetime.timedelta(
            seconds=settings.API_TOKEN_LIFETIME_SECONDS
        )
        Token.objects.filter(user=user, created__lte=expired_before).delete()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
