from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from recordkeeping.permissions import ADD, CHANGE, VIEW, allowed

ACTIONS = {
    "list": VIEW,
    "retrieve": VIEW,
    "create": ADD,
    "update": CHANGE,
    "partial_update": CHANGE,
}


class RolePermission(BasePermission):
    """The role matrix, for the viewset's model. A custom action declares what it needs with
    ``@action(..., permission_action="view")``; otherwise it needs "change"."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.get_queryset().model
        action = ACTIONS.get(view.action, getattr(view, "permission_action", CHANGE))
        return allowed(request.user, model, action)
