"""The clinic's starting follow-up rules (the clinic admin changes them in the admin), and the
staff groups' permissions on rules and reminders, mirroring clinic.permissions.

The starting rules are part of the installation, not anyone's change: they are written with the
table's history trigger off, so the change history starts with the first change a person makes.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

RULES = [
    {
        "name": "Post-injection check, 2 weeks",
        "kind": "post_injection_check",
        "days_after": 14,
        "at_course_interval": False,
        "while_sessions_remain": False,
        "minutes": 20,
    },
    {
        "name": "Next injection at the course interval",
        "kind": "next_injection",
        "days_after": None,
        "at_course_interval": True,
        "while_sessions_remain": True,
        "minutes": 30,
    },
]
GROUPS = {
    "Clinician": {"followuprule": "view", "reminder": "view", "reminderdelivery": "view"},
    "Front desk": {"followuprule": "view", "reminder": "view", "reminderdelivery": "view"},
    "Clinic admin": {
        "followuprule": "view add change",
        "reminder": "view",
        "reminderdelivery": "view",
    },
}


def forwards(apps, schema_editor):
    FollowUpRule = apps.get_model("treatments", "FollowUpRule")
    table = FollowUpRule._meta.db_table
    schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    for rule in RULES:
        FollowUpRule.objects.get_or_create(name=rule["name"], defaults=rule)
    schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    app_config = apps.get_app_config("treatments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group = Group.objects.get(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="treatments",
                codename__in=[
                    f"{action}_{model}"
                    for model, actions in grants.items()
                    for action in actions.split()
                ],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0001_staff_groups"),
        ("treatments", "0006_reminder_audit_chain"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
