"""The MCIDs of DOMAIN.md as the clinic's starting values (the clinic admin changes them in the
admin), their change history in the audit hash chain, and the staff groups' permissions on
them, mirroring clinic.permissions.

The starting values are part of the installation, not anyone's change: they are written with
the table's history trigger off, so the change history starts with the first change a person
makes.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MCIDS = {
    "nprs": (2, "points"),
    "vas": (17.5, "points"),
    "womac": (12, "percent"),
    "koos_pain": (8, "points"),
    "koos_symptoms": (8, "points"),
    "koos_adl": (8, "points"),
    "koos_sport": (8, "points"),
    "koos_qol": (8, "points"),
    "odi": (8, "points"),
    "quickdash": (11, "points"),
    "prtee": (9, "points"),
    "visa_a": (7, "points"),
    "visa_p": (7, "points"),
}
GROUPS = {"Clinician": "view", "Clinic admin": "view add change"}
CHAIN = (
    "CREATE TRIGGER clinic_audit_chain AFTER INSERT ON patients_instrumentmcidevent "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION clinic_audit_chain_append('pgh_id')"
)


def forwards(apps, schema_editor):
    InstrumentMcid = apps.get_model("patients", "InstrumentMcid")
    table = InstrumentMcid._meta.db_table
    schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    for instrument, (value, unit) in MCIDS.items():
        InstrumentMcid.objects.get_or_create(
            instrument=instrument, defaults={"value": value, "unit": unit}
        )
    schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    app_config = apps.get_app_config("patients")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in GROUPS.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(
                content_type__app_label="patients",
                codename__in=[f"{action}_instrumentmcid" for action in actions.split()],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0003_audit_chain_triggers"),
        ("patients", "0004_instrument_mcids"),
    ]

    operations = [
        migrations.RunSQL(
            CHAIN,
            "DROP TRIGGER IF EXISTS clinic_audit_chain ON patients_instrumentmcidevent",
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
