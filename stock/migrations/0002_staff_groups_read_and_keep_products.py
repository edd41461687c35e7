"""The staff groups' permissions on product presets, mirroring recordkeeping.permissions:
clinicians read them, clinic admins add and change them, the front desk has none."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {"Clinician": "view", "Clinic admin": "view add change"}


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("stock")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in GROUPS.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(
                content_type__app_label="stock",
                codename__in=[f"{action}_product" for action in actions.split()],
            )
        )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in GROUPS:
        Group.objects.get(name=name).permissions.remove(
            *Permission.objects.filter(content_type__app_label="stock")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0001_staff_groups"),
        ("stock", "0001_products"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
