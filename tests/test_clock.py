"""The suite's own clock (tests/clock.py) and the open days its helpers book on: the suite
must pass whichever day of the week it runs on."""

from __future__ import annotations

import datetime
import os
import subprocess

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import timezone

from tests import clock
from tests.factories import clinic_slot, earlier_today, open_day

# Monday 30 November to Sunday 6 December 2026.
WEEK = [datetime.date(2026, 11, 30) + datetime.timedelta(days=n) for n in range(7)]


@pytest.mark.parametrize("today", WEEK, ids=lambda day: f"{day:%A}")
def test_slots_days_apart_are_on_different_open_days_whatever_the_day(today):
    with clock.moved_to(today):
        days = [clinic_slot(n, 9).date() for n in range(1, 11)]
    assert days == sorted(set(days)), "one open day each, in order"
    assert all(day.isoweekday() in settings.CLINIC_DAYS for day in days)
    assert days[0] > today and days[0] - today <= datetime.timedelta(days=3)


def test_open_days_follow_the_clinic_days_setting(settings):
    settings.CLINIC_DAYS = [2, 4]  # Tuesdays and Thursdays
    with clock.moved_to(WEEK[0]):
        assert [open_day(n) for n in (1, 2, 3)] == [
            datetime.date(2026, 12, 1),
            datetime.date(2026, 12, 3),
            datetime.date(2026, 12, 8),
        ]


def test_earlier_today_stays_today_just_after_midnight():
    local = timezone.get_current_timezone()
    with clock.moved_to(datetime.datetime(2026, 12, 2, 0, 0, 20, tzinfo=local)):
        assert earlier_today(minutes=60) == datetime.datetime(2026, 12, 2, tzinfo=local)
    with clock.moved_to(datetime.datetime(2026, 12, 2, 10, 0, tzinfo=local)):
        assert abs(
            earlier_today(minutes=60) - datetime.datetime(2026, 12, 2, 9, 0, tzinfo=local)
        ) < datetime.timedelta(minutes=1)


def test_the_clock_moves_to_the_day_asked_and_keeps_the_time_of_day():
    real, run = datetime.datetime.now(datetime.UTC), timezone.now()
    with clock.moved_to(WEEK[5]):
        moved = timezone.now()
        assert timezone.localdate() == WEEK[5]
        # Whole days from the real clock: the time of day is the real one, and it ticks.
        days = (moved - real) / datetime.timedelta(days=1)
        assert abs(days - round(days)) < 1 / 24 / 60
        # Values from the real clock are still datetimes to Django.
        assert isinstance(real, timezone.datetime)
        shown = Template("{{ when|date:'Y-m-d H:i' }}").render(Context({"when": moved}))
        assert shown == f"{timezone.localtime(moved):%Y-%m-%d %H:%M}"
    assert timezone.now() - run < datetime.timedelta(minutes=1), "the run's clock again"


def test_the_clock_moves_to_a_local_time_asked():
    local = timezone.get_current_timezone()
    with clock.moved_to(datetime.datetime(2026, 11, 28, 23, 40, tzinfo=local)):
        now = timezone.localtime()
    assert (now.date(), now.hour, now.minute) == (datetime.date(2026, 11, 28), 23, 40)


def test_a_day_the_clock_cannot_read_names_the_variable():
    with pytest.raises(ValueError, match="CLINIC_TEST_TODAY='next friday'"):
        clock.shift_to("next friday")


def test_a_subprocess_runs_on_the_run_s_clock(monkeypatch):
    three_days_back = datetime.timedelta(days=-3)
    monkeypatch.setenv(clock.SHIFT_VARIABLE, str(three_days_back.total_seconds()))
    command = clock.python_module_command("manage")
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [*command, "shell", "-c", "from django.utils import timezone; print(timezone.now())"],
        cwd=settings.BASE_DIR,
        env=os.environ | {"SECRET_KEY": "clock-test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = datetime.datetime.fromisoformat(result.stdout.strip().splitlines()[-1])
    expected = datetime.datetime.now(datetime.UTC) + three_days_back
    assert abs(seen - expected) < datetime.timedelta(minutes=2)
