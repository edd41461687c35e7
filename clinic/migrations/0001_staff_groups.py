"""The three staff groups, with the model permissions of the role matrix (clinic.permissions)
so that Django's own screens tell the same story. The matrix itself is what the API and the
admin enforce; tests/clinic/test_permission_matrix.py checks that these stay equal to it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CLINICAL = [
    ("patients", "patient"),
    ("patients", "condition"),
    ("patients", "outcomescore"),
    ("treatments", "treatmentcourse"),
    ("treatments", "injectionsession"),
    ("treatments", "injectate"),
    ("treatments", "injectionsite"),
    ("treatments", "sideeffect"),
    ("treatments", "followup"),
    ("treatments", "addendum"),
]
GROUPS = {
    "Clinician": {model: "view add change" for model in CLINICAL},
    "Front desk": {
        ("patients", "patient"): "view add change",
        ("treatments", "treatmentcourse"): "view",
        ("treatments", "injectionsession"): "view",
        ("treatments", "followup"): "view add change",
    },
    "Clinic admin": {
        **{model: "view" for model in CLINICAL},
        ("auth", "user"): "view add change",
        ("auth", "group"): "view",
    },
}


def set_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                permission
                for (app, model), actions in grants.items()
                for permission in Permission.objects.filter(
                    content_type__app_label=app,
                    codename__in=[f"{action}_{model}" for action in actions.split()],
                )
            ]
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("patients", "0002_outcome_scores_link_courses"),
        ("treatments", "0002_signed_sessions_are_final"),
    ]

    operations = [migrations.RunPython(set_permissions, remove_groups)]
