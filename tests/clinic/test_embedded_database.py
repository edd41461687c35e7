"""With no DATABASE_URL the clinic runs on an embedded PostgreSQL under var/, kept across runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def manage(var_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["VAR_DIR"] = str(var_dir)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_embedded_postgres_keeps_records_across_restarts(tmp_path):
    var_dir = tmp_path / "var"
    manage(var_dir, "migrate", "-v0")
    created = manage(
        var_dir,
        "shell",
        "-v0",
        "-c",
        "import datetime; from patients.models import Patient; "
        "print(Patient.objects.create(given_name='Ana', family_name='Silva', "
        "birth_date=datetime.date(1979, 4, 2)).mrn)",
    )
    # Each command stopped the server on exit; the next one starts it on the same data.
    assert not (var_dir / "postgres" / "postmaster.pid").exists()
    found = manage(
        var_dir,
        "shell",
        "-v0",
        "-c",
        "from patients.models import Patient; "
        "print(Patient.objects.get(family_name='Silva').mrn, "
        "Patient.objects.count())",
    )
    assert found.split() == [created.strip(), "1"]
    assert (var_dir / "postgres" / "PG_VERSION").read_text().strip() == "18"
    assert (var_dir / "broker" / "queue").is_dir()
    assert (var_dir / "secret_key").stat().st_mode & 0o077 == 0
