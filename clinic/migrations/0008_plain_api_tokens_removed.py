"""API tokens are django-rest-knox's now (one per login, stored as a digest). The table of DRF's
tokens held each token in plain text: it goes, and with it every token it held (clients log in
again)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clinic", "0007_audit_tables_refuse_truncate")]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS authtoken_token",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            "DELETE FROM django_migrations WHERE app = 'authtoken'",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
