"""The WSGI entry point (gunicorn's clinic.wsgi) loads the whole app, then freezes it out of the
garbage collector's full passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys
import clinic.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "views": "treatments.api" in sys.modules}))
"""


def test_the_loaded_app_is_frozen_after_its_urlconf_is_imported():
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "clinic.settings"}
    found = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(found.stdout.strip().splitlines()[-1])
    assert loaded["views"] is True
    assert loaded["frozen"] > 50_000  # Django, DRF and the apps' objects (about 125,000)
