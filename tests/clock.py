"""The suite's clock, moved to another day for a whole run.

``CLINIC_TEST_TODAY=2026-11-28 make test`` runs the suite as if today were Saturday
28 November 2026 (in the clinic's ``TIME_ZONE``), at the real time of day;
``CLINIC_TEST_TODAY=2026-11-28T23:40`` also sets the time of day. The clock keeps ticking.

What moves: every clock read through ``django.utils.timezone`` (``now()``, ``localdate()``,
``localtime()``, ``auto_now`` fields, sessions, tokens, login lockouts), which is every clock the
clinic's code reads, in this process and in the Celery workers the tests start (they get the
same shift through ``CLINIC_TEST_CLOCK_SHIFT``).

What does not: ``time.time()`` (cookie expiry is judged by a browser on the real clock),
``datetime.datetime.now()`` called directly, and PostgreSQL's ``now()`` and ``CURRENT_DATE``
(audit timestamps, and the checks that nothing is dated after tomorrow). So days before the real
one are the safe choice: a day after it lets the database refuse what the clinic's own clock
calls today.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import runpy
import sys
from collections.abc import Iterator

from django.utils import timezone

TODAY_VARIABLE = "CLINIC_TEST_TODAY"
# The shift in seconds, computed once by the pytest process and handed to its subprocesses, so a
# worker started after midnight still agrees with the tests that started it.
SHIFT_VARIABLE = "CLINIC_TEST_CLOCK_SHIFT"

_REAL_DATETIME = datetime.datetime


def shift_to(wanted: str, *, now: datetime.datetime | None = None) -> datetime.timedelta:
    """The shift that makes the clinic's clock read ``wanted`` (a date or a local date-time)."""
    now = timezone.localtime(now or _REAL_DATETIME.now(datetime.UTC))
    try:
        if "T" in wanted or " " in wanted:
            moment = _REAL_DATETIME.fromisoformat(wanted)
            return (timezone.make_aware(moment) if timezone.is_naive(moment) else moment) - now
        day = datetime.date.fromisoformat(wanted)
    except ValueError as error:
        raise ValueError(
            f"{TODAY_VARIABLE}={wanted!r}: expected a date (2026-11-28) or a local date and "
            f"time (2026-11-28T23:40): {error}"
        ) from None
    return datetime.timedelta(days=(day - now.date()).days)


class _ShiftedClockType(type):
    # Values made by the real class must still pass ``isinstance(value, datetime)`` checks made
    # against the replacement (django.utils.timezone.template_localtime makes one).
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, _REAL_DATETIME)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, _REAL_DATETIME)


def _shifted(shift: datetime.timedelta) -> type[datetime.datetime]:
    class ShiftedDatetime(_REAL_DATETIME, metaclass=_ShiftedClockType):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:
            return _REAL_DATETIME.now(tz) + shift

    return ShiftedDatetime


def install(shift: datetime.timedelta) -> None:
    """Move django.utils.timezone's clock by ``shift`` (from the real one) for the rest of the
    process."""
    # timezone.now() reads the module's ``datetime`` on every call, so code that imported the
    # function itself (``from django.utils.timezone import now``, ``default=timezone.now``) moves
    # with it.
    timezone.datetime = _shifted(shift)  # type: ignore[misc]


@contextlib.contextmanager
def moved_to(wanted: datetime.date | datetime.datetime) -> Iterator[None]:
    """The clinic's clock on another day (or at another local time) inside the block, for a
    test whose subject is the day of the week; the run's clock again after it."""
    before = timezone.datetime
    install(shift_to(wanted.isoformat()))
    try:
        yield
    finally:
        timezone.datetime = before  # type: ignore[misc]


def install_for_run() -> datetime.timedelta | None:
    """Install the shift ``CLINIC_TEST_TODAY`` asks for, and hand it to subprocesses; None (and
    the real clock) when it asks none."""
    os.environ.pop(SHIFT_VARIABLE, None)
    wanted = os.environ.get(TODAY_VARIABLE, "").strip()
    if not wanted:
        return None
    shift = shift_to(wanted)
    install(shift)
    os.environ[SHIFT_VARIABLE] = str(shift.total_seconds())
    return shift


def python_module_command(module: str) -> list[str]:
    """``python -m module`` for a subprocess, run on this run's clock."""
    if os.environ.get(SHIFT_VARIABLE):
        return [sys.executable, "-m", "tests.clock", module]
    return [sys.executable, "-m", module]


if __name__ == "__main__":
    # python -m tests.clock MODULE ARGS...: MODULE's command line on the shifted clock.
    install(datetime.timedelta(seconds=float(os.environ[SHIFT_VARIABLE])))
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
