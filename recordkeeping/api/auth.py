"""Getting and revoking API tokens (which expire: clinic.api.authentication)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

TokenResponse = inline_serializer(
    "TokenResponse",
    {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
)


class TokenView(APIView):
    """``POST`` with username and password: a new token, one per login, so that one device's
    logout does not end another's. ``DELETE`` with the token: revoke it."""

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
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        token, key = AuthToken.objects.create(user=user)
        return Response({"token": key, "expires_at": token.expiry})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
