"""Follow-up rule history and reminder deliveries join the audit hash chain (clinic 0003)."""

from django.db import migrations

TABLES = {"treatments_followupruleevent": "pgh_id", "treatments_reminderdelivery": "id"}


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_audit_chain_triggers"),
        ("treatments", "0005_follow_up_rules_and_reminders"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE TRIGGER clinic_audit_chain AFTER INSERT ON {table} "
                "REFERENCING NEW TABLE AS new_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION clinic_audit_chain_append('{key}')"
            ),
            reverse_sql=f"DROP TRIGGER IF EXISTS clinic_audit_chain ON {table}",
        )
        for table, key in TABLES.items()
    ]
