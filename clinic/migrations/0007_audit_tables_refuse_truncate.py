"""TRUNCATE of an audit, history or chain table is refused, as update and delete already are.

TRUNCATE fires no row or statement delete triggers, so the append-only triggers never saw it.
These are plain SQL triggers like the chain's: most of the tables are pghistory's event tables
of other apps, whose models this app does not declare.

The only way through is the setting ``clinic.test_flush`` = ``on`` in the same transaction.
Django's test flush (TransactionTestCase, live_server) empties every table with one TRUNCATE and
the test suite sets it there (tests/conftest.py); no code of the clinic sets it. A setting
rather than pgtrigger.ignore() because pgtrigger only knows triggers it installed on models.
Anyone who can set it could as well drop the trigger: an owner of the database is not
stopped by triggers at all, which is what the published chain head
(clinic.audit.audit_anchor_publish) is for.
"""

from django.db import migrations

TABLES = [
    "clinic_accesslogentry",
    "clinic_auditchainentry",
    "clinic_staffaccountevent",
    "clinic_staffgroupevent",
    "patients_patientevent",
    "patients_conditionevent",
    "patients_outcomescoreevent",
    "patients_instrumentmcidevent",
    "treatments_treatmentcourseevent",
    "treatments_injectionsessionevent",
    "treatments_injectateevent",
    "treatments_injectionsiteevent",
    "treatments_sideeffectevent",
    "treatments_followupevent",
    "treatments_addendumevent",
    "treatments_followupruleevent",
    "treatments_reminderdelivery",
]

FUNCTION = """
CREATE FUNCTION clinic_audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('clinic.test_flush', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'Cannot truncate % table: audit rows are never removed', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards_sql():
    yield FUNCTION
    for table in TABLES:
        yield (
            f"CREATE TRIGGER clinic_audit_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION clinic_audit_refuse_truncate()"
        )


def backwards_sql():
    for table in TABLES:
        yield f"DROP TRIGGER IF EXISTS clinic_audit_no_truncate ON {table}"
    yield "DROP FUNCTION IF EXISTS clinic_audit_refuse_truncate()"


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0006_staff_account_history"),
        ("patients", "0004_instrument_mcids"),
        ("treatments", "0006_reminder_audit_chain"),
    ]

    operations = [
        migrations.RunSQL(list(forwards_sql()), reverse_sql=list(backwards_sql())),
    ]
