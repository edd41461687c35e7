from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from demo.seed import demo_products
from patients.models import Patient
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed at start; for local demo runs only
DEMO_ACCOUNTS = (
    ("clinician", CLINICIAN, "Clare", "Nolan"),
    ("frontdesk", FRONT_DESK, "Frankie", "Desai"),
    ("admin", CLINIC_ADMIN, "Ada", "Minter"),
)


class Command(BaseCommand):
    help = "Create the demo staff accounts and, on an empty database, the demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=300)

    def handle(self, *args: Any, patients: int, **options: Any) -> None:
        User = get_user_model()
        for username, role, first, last in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_staff": True},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role))
        if not Patient.objects.exists():
            call_command("seed_demo", patients=patients, seed=1, verbosity=options["verbosity"])
            demo_products()
        names = ", ".join(username for username, *_ in DEMO_ACCOUNTS)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nLog in at http://127.0.0.1:8000/admin/ as {names} "
                f"with the password {DEMO_PASSWORD!r}.\n"
            )
        )
