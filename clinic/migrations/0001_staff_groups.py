"""The three staff groups and their model permissions.

Front desk gets no access to session records yet: which session fields it may read is decided
with the role matrix, and until then it sees patients and follow-ups only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CLINICAL = {
    "patients": ["patient", "condition", "outcomescore"],
    "treatments": [
        "treatmentcourse",
        "injectionsession",
        "injectate",
        "injectionsite",
        "sideeffect",
        "followup",
    ],
}
GROUPS = {
    "Clinician": {(app, model): "view add change" for app, models in CLINICAL.items() for model in models},
    "Front desk": {
        ("patients", "patient"): "view add change",
        ("treatments", "followup"): "view add change",
    },
    "Clinic admin": {
        **{(app, model): "view" for app, models in CLINICAL.items() for model in models},
        ("auth", "user"): "view add change",
        ("auth", "group"): "view",
    },
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for (app, model), actions in grants.items():
            codenames = [f"{action}_{model}" for action in actions.split()]
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app, codename__in=codenames
                )
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("patients", "0002_outcome_scores_link_courses"),
        ("treatments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
