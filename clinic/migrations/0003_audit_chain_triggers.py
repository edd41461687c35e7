"""Link every audit and history row into one hash chain as it is inserted (see clinic.audit)."""

from django.db import migrations

TABLES = {
    "clinic_accesslogentry": "id",
    "patients_patientevent": "pgh_id",
    "patients_conditionevent": "pgh_id",
    "patients_outcomescoreevent": "pgh_id",
    "treatments_treatmentcourseevent": "pgh_id",
    "treatments_injectionsessionevent": "pgh_id",
    "treatments_injectateevent": "pgh_id",
    "treatments_injectionsiteevent": "pgh_id",
    "treatments_sideeffectevent": "pgh_id",
    "treatments_followupevent": "pgh_id",
    "treatments_addendumevent": "pgh_id",
}

FUNCTION = r"""
CREATE FUNCTION clinic_audit_chain_append() RETURNS trigger AS $$
DECLARE
    last_position bigint;
    last_hash text;
    keys bigint[];
    digests text[];
BEGIN
    EXECUTE format(
        'SELECT array_agg(k ORDER BY k), array_agg(d ORDER BY k) FROM ('
        '  SELECT n.%I AS k, encode(sha256(convert_to(n::text, ''UTF8'')), ''hex'') AS d'
        '  FROM new_rows n'
        ') AS digested',
        TG_ARGV[0]
    ) INTO keys, digests;
    IF keys IS NULL THEN
        RETURN NULL;
    END IF;
    -- One writer at a time, so positions have no gaps and each links to the one before.
    PERFORM pg_advisory_xact_lock(7351001);
    SELECT position, hash INTO last_position, last_hash
    FROM clinic_auditchainentry ORDER BY position DESC LIMIT 1;
    IF last_position IS NULL THEN
        last_position := 0;
        last_hash := repeat('0', 64);
    END IF;
    INSERT INTO clinic_auditchainentry
        (position, table_name, row_keys, row_digests, prev_hash, hash, created_at)
    VALUES (
        last_position + 1, TG_TABLE_NAME, keys, digests, last_hash,
        encode(sha256(convert_to(
            last_hash || '|' || (last_position + 1) || '|' || TG_TABLE_NAME || '|'
            || array_to_string(keys, ',') || '|' || array_to_string(digests, ','), 'UTF8')),
            'hex'),
        now()
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def forwards_sql():
    yield FUNCTION
    for table, key in TABLES.items():
        yield (
            f"CREATE TRIGGER clinic_audit_chain AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION clinic_audit_chain_append('{key}')"
        )


def backwards_sql():
    for table in TABLES:
        yield f"DROP TRIGGER IF EXISTS clinic_audit_chain ON {table}"
    yield "DROP FUNCTION IF EXISTS clinic_audit_chain_append()"


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_audit_log_and_chain"),
        ("patients", "0003_change_history"),
        ("treatments", "0003_change_history"),
    ]

    operations = [
        migrations.RunSQL(list(forwards_sql()), reverse_sql=list(backwards_sql())),
    ]
