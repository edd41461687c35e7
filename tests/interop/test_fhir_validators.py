"""The demo clinic's FHIR, checked by validators the clinic did not write (Medplum's and
FHIR.js's, pinned in package-lock.json) and by reference-target and code-system checks on the
R4 definitions (tests/interop/fhir_validate.mjs): 20 patients' Bundles and a bulk export of the
same clinic, fetched as clients fetch them, in one Node process. No errors; the only warnings
are FHIR.js's, that a SNOMED CT, LOINC, ICD-10 or clinic code is not in its offline copy of an
example value set (it has none of those code systems). ``-s`` prints the report's figures."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from interop import tasks
from patients.models import Patient
from tests.conftest import token_client
from tests.interop.bulk_data_client import BulkDataClient

pytestmark = pytest.mark.django_db
SCRIPT = Path(__file__).with_name("fhir_validate.mjs")
PATIENTS = 20


def node() -> str:
    """Node with the pinned validators (``npm ci``); the test is skipped without them outside
    CI, and fails in CI."""
    found = shutil.which("node")
    installed = (Path(settings.BASE_DIR) / "node_modules" / "@medplum" / "core").is_dir()
    if not (found and installed):
        reason = "node and the packages of package-lock.json (npm ci) are needed"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def validate(files: list[Path]) -> dict:
    done = subprocess.run(  # noqa: S603 - our own script on files this test wrote
        [node(), "--experimental-websocket", str(SCRIPT), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.stdout, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_demo_clinic_passes_independent_fhir_validators(
    clinic_admin, monkeypatch, django_capture_on_commit_callbacks, tmp_path
):
    call_command("seed_demo", patients=PATIENTS, seed=1, verbosity=0)
    api = token_client(clinic_admin)
    bundles = []
    for pk in Patient.objects.order_by("pk").values_list("pk", flat=True):
        response = api.get(f"/api/v1/patients/{pk}/fhir/", HTTP_ACCEPT="application/fhir+json")
        assert response.status_code == 200
        bundles.append(tmp_path / f"patient-{pk}.json")
        bundles[-1].write_bytes(response.content)

    sent: list[str] = []
    monkeypatch.setattr(tasks.fhir_bulk_export, "delay", sent.append)
    client = BulkDataClient(api)
    with django_capture_on_commit_callbacks(execute=True):
        status_url = client.kick_off()
    manifest = client.wait(status_url, lambda: [tasks.fhir_bulk_export(id) for id in sent])
    (tmp_path / "bulk").mkdir()
    exported = list(client.download(manifest, tmp_path / "bulk").values())

    report = validate(bundles + exported)
    print(
        f"\n{report['bundles']} Bundles and {report['ndjsonFiles']} NDJSON files: "
        f"{report['resources']} resources {report['byType']}, references "
        f"{report['references']}, codings checked {report['codings']['checked']}, "
        f"outside R4 {report['codings']['outsideR4']}\ncounts {report['counts']}\n"
        + "\n".join(f"  {count} x {kind}" for kind, count in report["kinds"].items())
    )
    in_bundles = sum(len(json.loads(bundle.read_text())["entry"]) for bundle in bundles)
    assert report["resources"] == in_bundles + sum(item["count"] for item in manifest["output"])
    assert report["references"]["total"] == report["references"]["resolved"] > 0
    assert report["codings"]["checked"] > 0
    for check, counts in report["counts"].items():
        assert counts["errors"] == 0, (check, report["issues"][:5])
    assert report["counts"]["medplum"]["warnings"] == 0, report["issues"][:5]
    assert report["counts"]["codes"]["warnings"] == 0, report["issues"][:5]
    outside = "|".join(re.escape(system) for system in report["codings"]["outsideR4"])
    unchecked = re.compile(rf"^fhir\.js warnings: Code _ \(({outside})\) not found in value set$")
    assert [kind for kind in report["kinds"] if not unchecked.match(kind)] == []
