"""The staff groups' permissions on questionnaires, mirroring recordkeeping.permissions:
clinicians and clinic admins read the text, answers and scores; clinicians review a reported
problem and record calls; the front desk sees invitations and their messages and records calls;
the clinic admin keeps the schedule of time points."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TEXT = ["questionnaire", "item", "option", "scale", "conversionrow", "schedulepoint"]
ANSWERS = [
    "response",
    "answer",
    "scalescore",
    "problemreport",
    "invitation",
    "invitationmessage",
    "invitationcall",
]
GROUPS = {
    "Clinician": [f"view_{model}" for model in TEXT + ANSWERS]
    + ["change_problemreport", "add_invitationcall", "change_invitationcall"],
    "Front desk": [
        "view_invitation",
        "view_invitationmessage",
        "view_invitationcall",
        "add_invitationcall",
        "change_invitationcall",
    ],
    "Clinic admin": [f"view_{model}" for model in TEXT + ANSWERS]
    + ["add_schedulepoint", "change_schedulepoint"],
}


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("questionnaires")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(
                content_type__app_label="questionnaires", codename__in=codenames
            )
        )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in GROUPS:
        Group.objects.get(name=name).permissions.remove(
            *Permission.objects.filter(content_type__app_label="questionnaires")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0001_staff_groups"),
        ("questionnaires", "0003_schedule_and_shipped_questionnaires"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
