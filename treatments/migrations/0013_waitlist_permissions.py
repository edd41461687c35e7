"""The staff groups' permissions on the waitlist, mirroring recordkeeping.permissions: the front
desk keeps it, clinicians and clinic admins read it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Front desk": "view add change",
    "Clinician": "view",
    "Clinic admin": "view",
}


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("treatments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in GROUPS.items():
        group = Group.objects.get(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="treatments",
                codename__in=[f"{action}_waitlistentry" for action in actions.split()],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0001_staff_groups"),
        ("treatments", "0012_front_desk_waitlist_answers_and_cancellations"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
