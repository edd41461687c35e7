"""Who may open which screen: the roles of recordkeeping.roles, checked once per view."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from recordkeeping.permissions import roles_of
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK

View = Callable[..., HttpResponse]


class Request(HttpRequest):
    """A request as the workspace's views see it: from signed-in staff (``for_roles``), with
    django-htmx's ``htmx`` details."""

    htmx: HtmxDetails
    user: User


def for_roles(*roles: str) -> Callable[[View], View]:
    """Only active staff holding one of ``roles`` open the view (superusers too): anyone else
    signed in gets 403, and someone not signed in goes to the login page."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user.is_active and user.is_staff):
                raise PermissionDenied
            if not (user.is_superuser or roles_of(user) & set(roles)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked

    return decorate


clinicians_only = for_roles(CLINICIAN)
desk_and_clinicians = for_roles(CLINICIAN, FRONT_DESK)


def landing(user: Any) -> str:
    """Where a person lands after signing in: clinicians on their day, the front desk on the
    clinic's day, clinic admins (and anyone else) in the admin."""
    held = roles_of(user)
    if CLINICIAN in held:
        return "workspace:today"
    if FRONT_DESK in held:
        return "workspace:desk"
    if CLINIC_ADMIN in held or user.is_superuser:
        return "admin:index"
    return "workspace:today"
