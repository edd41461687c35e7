"""The link: 192 random bits kept as a digest, one patient's one invitation, for
PROM_LINK_DAYS; a wrong, guessed, expired or used link, another patient's, and any link from an
address that tried too many wrong ones, all get the same page, which tells nothing."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from questionnaires import services
from questionnaires.models import InvitationLink, LinkKind
from recordkeeping.models import AccessLogEntry
from tests.questionnaires.conftest import (
    consenting_patient,
    due_six_week_invitation,
    link_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def unavailable() -> bytes:
    """The page every bad link gets (a guessed one)."""
    return Client(REMOTE_ADDR="192.0.2.200").get("/q/" + "A" * 32 + "/").content


def refused(client: Client, path: str, unavailable: bytes, method: str = "get") -> None:
    response = getattr(client, method)(path, {"answer": 1} if method == "post" else None)
    assert (response.status_code, response.content) == (404, unavailable)


def test_links_are_long_random_secrets_kept_only_as_digests():
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    assert len(token) >= 32  # 24 random bytes: 192 bits
    link = InvitationLink.objects.get()
    assert link.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(InvitationLink.objects.values()[0])
    assert link.expires_at - link.issued_at == datetime.timedelta(days=14)


def test_guessed_expired_and_used_links_get_the_same_page(unavailable):
    text = unavailable.decode()
    assert "This link cannot be opened" in text and "Maria" not in text
    invitation = due_six_week_invitation()
    expired = link_for(invitation)
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    InvitationLink.objects.update(
        issued_at=an_hour_ago - datetime.timedelta(days=14), expires_at=an_hour_ago
    )
    used = link_for(invitation)
    client = Client()
    assert client.get(f"/q/{used}/").status_code == 302
    services.invitation_complete(invitation=invitation, new_problem=False)
    for token in (expired, used, "not-a-link", "x" * 500, expired[:-1] + "A"):
        refused(client, f"/q/{token}/", unavailable)
        refused(client, f"/q/{token}/3/", unavailable)
        refused(client, f"/q/{token}/1/", unavailable, method="post")
        refused(client, f"/q/{token}/problem/", unavailable)


def test_a_link_reaches_only_its_own_patients_invitation(unavailable):
    maria = due_six_week_invitation()
    ines = due_six_week_invitation(consenting_patient(given_name="Ines"))
    maria_token, ines_token = link_for(maria), link_for(ines)
    client = Client()
    page = client.get(f"/q/{ines_token}/1/").content.decode()
    assert "Hello Ines" in page and "Maria" not in page
    client.post(f"/q/{ines_token}/1/", {"answer": 3})
    assert ines.responses.exists() and not maria.responses.exists()
    # Maria's link stays hers, whatever else is in the address.
    assert "Hello Maria" in client.get(f"/q/{maria_token}/1/").content.decode()
    services.invitation_complete(invitation=ines, new_problem=False)
    refused(client, f"/q/{ines_token}/1/", unavailable)  # done: Ines's link opens nothing
    assert "Hello Maria" in client.get(f"/q/{maria_token}/1/").content.decode()


def test_a_link_closes_with_its_invitation_even_before_it_expires(unavailable):
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    invitation.closes_at = timezone.now() - datetime.timedelta(minutes=1)
    invitation.save()
    refused(Client(), f"/q/{token}/", unavailable)


def test_a_hundred_wrong_links_from_one_address_close_every_link_to_it(settings, unavailable):
    invitation = due_six_week_invitation()
    good = link_for(invitation)
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for attempt in range(100):
        refused(guesser, f"/q/guess{attempt:04d}{'x' * 24}/", unavailable)
    # Past the limit (PROM_LINK_FAILURES wrong ones in the window) even a good link is refused
    # from that address, with the same page, while others are let in.
    refused(guesser, f"/q/{good}/", unavailable)
    assert Client(REMOTE_ADDR="198.51.100.1").get(f"/q/{good}/").status_code == 302
    refusals = AccessLogEntry.objects.filter(action="questionnaire.refused", ip="203.0.113.9")
    assert refusals.count() == 101
    assert not any("guess" in entry.path for entry in refusals)  # no secret in the log


def test_a_tablets_link_lasts_minutes_and_belongs_to_whoever_made_it(front_desk):
    invitation = due_six_week_invitation()
    token = services.kiosk_link_issue(invitation=invitation, issued_by=front_desk)
    link = InvitationLink.objects.get(kind=LinkKind.KIOSK)
    assert link.expires_at - link.issued_at == datetime.timedelta(minutes=30)
    assert link.issued_by == front_desk
    assert Client().get(f"/q/{token}/").status_code == 302


def test_the_patients_pages_keep_their_address_to_themselves():
    token = link_for(due_six_week_invitation())
    page = Client().get(f"/q/{token}/1/")
    assert page["Referrer-Policy"] == "same-origin"  # the link never leaves in a Referer
    assert "no-store" in page["Cache-Control"]
    assert "script-src 'self'" in page["Content-Security-Policy"]
