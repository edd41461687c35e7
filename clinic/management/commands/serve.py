from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Run the clinic locally: migrate, create demo accounts and data on first start, then "
        "serve with gunicorn beside a Celery worker with beat. Ctrl-C stops everything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORT", "8000")
        parser.add_argument("--bind", default=f"127.0.0.1:{port}", help="Default: PORT or 8000.")
        parser.add_argument("--no-demo", action="store_true", help="Skip demo accounts and data.")

    def handle(self, *args: Any, bind: str, no_demo: bool, **options: Any) -> None:
        # This process holds the embedded PostgreSQL (when used) open until everything stops.
        call_command("migrate", interactive=False, verbosity=1)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo:
            call_command("demo_setup")
        bin_dir = os.path.dirname(sys.executable)
        children = [
            subprocess.Popen(  # noqa: S603 - fixed argument lists
                [
                    os.path.join(bin_dir, "gunicorn"),
                    "clinic.wsgi",
                    f"--bind={bind}",
                    "--workers=4",
                    "--access-logfile=-",
                ],
                cwd=settings.BASE_DIR,
            ),
            subprocess.Popen(  # noqa: S603
                [
                    os.path.join(bin_dir, "celery"),
                    "--app=clinic",
                    "worker",
                    "--beat",
                    "--concurrency=1",
                    "--loglevel=INFO",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ],
                cwd=settings.BASE_DIR,
            ),
        ]
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Serving on http://{bind}/admin/ (Ctrl-C to stop)")
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        # Each child was started with a list of strings, which Popen keeps as its args.
        failed = [
            cast("list[str]", child.args)[0]
            for child in children
            if child.returncode not in (0, -15, None)
        ]
        if failed and not stopping:
            self.stderr.write(f"Stopped because {', '.join(failed)} exited.")
            raise SystemExit(1)
