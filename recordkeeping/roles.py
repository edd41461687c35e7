"""The staff groups. Names other parts rely on: do not rename."""

from __future__ import annotations

CLINICIAN = "Clinician"
FRONT_DESK = "Front desk"
CLINIC_ADMIN = "Clinic admin"
ROLES = (CLINICIAN, FRONT_DESK, CLINIC_ADMIN)
