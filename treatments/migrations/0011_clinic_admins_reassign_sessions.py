"""Clinic admins may reassign an unsigned session to the clinician who performed it (the
permission mirrors clinic.permissions, as the staff groups' other permissions do)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("treatments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reassign = Permission.objects.get(
        content_type__app_label="treatments", codename="reassign_injectionsession"
    )
    Group.objects.get(name="Clinic admin").permissions.add(reassign)


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="treatments", codename="reassign_injectionsession"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0010_sessions_and_bookings_name_clinicians")]

    operations = [migrations.RunPython(forwards, backwards)]
