"""Realistic, deterministic demo data: the same seed on the same day gives the same clinic.

Rows are written with ``bulk_create`` a chunk of patients at a time. Clinicians' follow-ups are
placed in free half-hour slots, so no clinician is double-booked.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from patients.models import (
    INSTRUMENTS,
    Condition,
    Instrument,
    OutcomeScore,
    Patient,
    ReminderChannel,
    Sex,
    TimePoint,
)
from questionnaires.models import (
    CallOutcome,
    Invitation,
    InvitationCall,
    InvitationMessage,
    InvitationStatus,
    Item,
)
from questionnaires.selectors import invitation_items
from questionnaires.services import invitation_answer_all
from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.roles import CLINICIAN, FRONT_DESK
from stock.models import Product
from treatments.models import (
    Activation,
    Anaesthetic,
    Anticoagulant,
    CourseStatus,
    ExosomeSource,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Grade,
    Guidance,
    Injectate,
    InjectateKind,
    InjectionSession,
    InjectionSite,
    Relatedness,
    Reporter,
    RichOrPoor,
    SessionStatus,
    SideEffect,
    SideEffectKind,
    SideEffectOutcome,
    Tissue,
    TreatmentCourse,
    TreatmentKind,
)

CHUNK = 500
# Time points due this recently are the patients' to answer: staff typed the older ones.
PATIENTS_ANSWER_DAYS = datetime.timedelta(days=28)
SLOT = datetime.timedelta(minutes=30)
SLOTS_PER_DAY = 16  # 09:00 to 17:00
PATIENTS_PER_CLINICIAN = 1000
HISTORY_DAYS = 730

GIVEN_FEMALE = "Olivia Amelia Isla Ava Mia Sophia Grace Lily Freya Emily Ella Chloe Sofia Aisha Maya Zara Hannah Ruth Margaret Susan Helen Priya Mei Ana Lucia Ingrid".split()  # noqa: E501
GIVEN_MALE = "Oliver George Noah Arthur Leo Harry Oscar Jack Jacob Thomas James William Henry Samuel David Peter Michael Omar Arjun Wei Luca Mateo Kofi Tomasz Lars".split()  # noqa: E501
FAMILY = "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke Khan Lewis Hughes Edwards Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Nowak Rossi Novak Kowalski Silva Garcia Nguyen Chen Singh Okafor Mensah Haddad".split()  # noqa: E501


@dataclass(frozen=True)
class ConditionTemplate:
    code: str
    label: str
    region: BodyRegion
    sided: bool
    treatments: tuple[tuple[TreatmentKind, int], ...]
    sites: tuple[tuple[str, Tissue, str], ...]  # structure, tissue, SNOMED CT code
    instrument: Instrument
    weight: int


P, D, E = TreatmentKind.PRP, TreatmentKind.DEXTROSE, TreatmentKind.EXOSOME
PD, PE = TreatmentKind.PRP_DEXTROSE, TreatmentKind.PRP_EXOSOME
CONDITIONS = (
    ConditionTemplate(
        "M17.1",
        "Primary osteoarthritis of knee",
        BodyRegion.KNEE,
        True,
        ((P, 50), (PD, 20), (D, 15), (E, 10), (PE, 5)),
        (
            ("Knee joint", Tissue.INTRA_ARTICULAR, "72696002"),
            ("Medial collateral ligament", Tissue.LIGAMENT, "56716000"),
            ("Pes anserinus", Tissue.ENTHESIS, "699826006"),
        ),
        Instrument.WOMAC,
        30,
    ),
    ConditionTemplate(
        "M16.1",
        "Primary osteoarthritis of hip",
        BodyRegion.HIP,
        True,
        ((P, 60), (E, 20), (D, 20)),
        (("Hip joint", Tissue.INTRA_ARTICULAR, "24136001"),),
        Instrument.WOMAC,
        8,
    ),
    ConditionTemplate(
        "M77.1",
        "Lateral epicondylitis",
        BodyRegion.ELBOW,
        True,
        ((P, 60), (D, 30), (PD, 10)),
        (
            ("Common extensor tendon", Tissue.TENDON, "362898007"),
            ("Lateral epicondyle", Tissue.ENTHESIS, "53549008"),
        ),
        Instrument.PRTEE,
        14,
    ),
    ConditionTemplate(
        "M75.1",
        "Rotator cuff syndrome",
        BodyRegion.SHOULDER,
        True,
        ((P, 55), (D, 25), (PE, 10), (E, 10)),
        (
            ("Supraspinatus tendon", Tissue.TENDON, "43114003"),
            ("Subacromial bursa", Tissue.OTHER, "70258002"),
        ),
        Instrument.QUICKDASH,
        14,
    ),
    ConditionTemplate(
        "M54.5",
        "Low back pain",
        BodyRegion.LUMBAR_SPINE,
        False,
        ((D, 60), (PD, 25), (P, 15)),
        (
            ("Iliolumbar ligament", Tissue.LIGAMENT, "68550004"),
            ("Supraspinous ligament", Tissue.LIGAMENT, "85766005"),
            ("Lumbar facet joint capsule", Tissue.JOINT_CAPSULE, "81680005"),
        ),
        Instrument.ODI,
        14,
    ),
    ConditionTemplate(
        "M54.3",
        "Sciatica",
        BodyRegion.LUMBAR_SPINE,
        True,
        ((D, 70), (P, 30)),
        (("Sacroiliac joint capsule", Tissue.JOINT_CAPSULE, "39723000"),),
        Instrument.ODI,
        5,
    ),
    ConditionTemplate(
        "S83.5",
        "Sprain of cruciate ligament of knee",
        BodyRegion.KNEE,
        True,
        ((P, 70), (PE, 15), (E, 15)),
        (("Anterior cruciate ligament", Tissue.LIGAMENT, "60931009"),),
        Instrument.KOOS_SPORT,
        5,
    ),
    ConditionTemplate(
        "M76.5",
        "Patellar tendinitis",
        BodyRegion.KNEE,
        True,
        ((P, 70), (D, 30)),
        (("Patellar tendon", Tissue.TENDON, "39922000"),),
        Instrument.VISA_P,
        5,
    ),
    ConditionTemplate(
        "M76.6",
        "Achilles tendinitis",
        BodyRegion.ANKLE_FOOT,
        True,
        ((P, 65), (D, 35)),
        (("Achilles tendon", Tissue.TENDON, "53840002"),),
        Instrument.VISA_A,
        3,
    ),
    ConditionTemplate(
        "M25.3",
        "Other instability of joint",
        BodyRegion.SACROILIAC,
        True,
        ((D, 80), (PD, 20)),
        (("Posterior sacroiliac ligament", Tissue.LIGAMENT, "27418001"),),
        Instrument.ODI,
        2,
    ),
)
SIDE_EFFECTS = (  # kind, chance per session, grades with weights
    (SideEffectKind.PAIN_FLARE, 0.22, (1, 1, 1, 2)),
    (SideEffectKind.SWELLING, 0.08, (1, 1, 2)),
    (SideEffectKind.BRUISING, 0.06, (1,)),
    (SideEffectKind.VASOVAGAL, 0.01, (1, 2)),
    (SideEffectKind.NERVE_IRRITATION, 0.005, (1, 2, 2)),
    (SideEffectKind.ALLERGIC_REACTION, 0.002, (2, 2, 3)),
    (SideEffectKind.INFECTION, 0.001, (2, 3)),
)


@dataclass(frozen=True)
class Recovery:
    """How one course's patient fares: the share of their baseline severity relieved as the
    course goes on. Relief builds over the first weeks after the first injection (PRP and
    prolotherapy are judged at 6 weeks to 3 months) and then holds; six courses in ten respond.
    Every instrument of the course and the pain reported before each session follow it, so the
    pre-procedure pain score and the scored NPRS tell the same story."""

    relief: float  # the share of severity relieved once it has built up
    severity: dict[str, float]  # per instrument, the baseline's share of its range

    WEEKS_TO_BUILD: ClassVar[float] = 4.0  # about three quarters of the relief by 6 weeks

    @classmethod
    def draw(cls, rng: random.Random, instruments: tuple[str, ...]) -> Recovery:
        relief = rng.uniform(0.3, 0.6) if rng.random() < 0.6 else rng.uniform(-0.1, 0.15)
        return cls(relief, {instrument: rng.uniform(0.5, 0.8) for instrument in instruments})

    def gain(self, days: int, rng: random.Random) -> Decimal:
        """The share relieved ``days`` after the course starts, as one reading shows it."""
        built = 1 - math.exp(-max(days, 0) / (7 * self.WEEKS_TO_BUILD))
        return Decimal(max(self.relief * built + rng.uniform(-0.05, 0.05), -0.2))

    def severity_on(self, instrument: str, days: int, rng: random.Random) -> Decimal:
        """The severity ``days`` into the course, in the instrument's points (higher is worse)."""
        spec = INSTRUMENTS[instrument]
        span = spec.maximum - spec.minimum
        severity = Decimal(self.severity[instrument]) * span * (1 - self.gain(days, rng))
        return max(Decimal(0), min(span, severity))


@dataclass
class Calendar:
    """Free half-hour weekday slots per clinician."""

    taken: dict[int, dict[datetime.date, set[int]]] = field(default_factory=dict)

    def preload(self, clinicians: list[User]) -> None:
        """Mark slots already booked, so a second run does not double-book anyone."""
        rows = FollowUp.objects.filter(clinician__in=clinicians).values_list(
            "clinician_id", "starts_at"
        )
        for clinician_id, starts_at in rows.iterator():
            local = timezone.localtime(starts_at)
            slot = (local.hour - 9) * 2 + local.minute // 30
            self.taken.setdefault(clinician_id, {}).setdefault(local.date(), set()).add(slot)

    def book(self, clinician_id: int, day: datetime.date, rng: random.Random) -> datetime.datetime:
        days = self.taken.setdefault(clinician_id, {})
        start = rng.randrange(SLOTS_PER_DAY)
        while day.weekday() >= 5 or len(days.get(day, ())) >= SLOTS_PER_DAY:
            day += datetime.timedelta(days=1)
        taken = days.setdefault(day, set())
        slot = next(
            (start + offset) % SLOTS_PER_DAY
            for offset in range(SLOTS_PER_DAY)
            if (start + offset) % SLOTS_PER_DAY not in taken
        )
        taken.add(slot)
        naive = datetime.datetime.combine(day, datetime.time(9)) + slot * SLOT
        return timezone.make_aware(naive)


@dataclass
class Chunk:
    patients: list[Patient] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    courses: list[TreatmentCourse] = field(default_factory=list)
    sessions: list[InjectionSession] = field(default_factory=list)
    injectates: list[Injectate] = field(default_factory=list)
    sites: list[InjectionSite] = field(default_factory=list)
    side_effects: list[SideEffect] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    scores: list[OutcomeScore] = field(default_factory=list)

    def save(self) -> None:
        # Parents before children: each parent gets its id before its children are written.
        for rows in (
            self.patients,
            self.conditions,
            self.courses,
            self.sessions,
            self.injectates,
            self.sites,
            self.side_effects,
            self.follow_ups,
            self.scores,
        ):
            copy_rows(rows)
        # Signed last: the parts of a signed session can no longer be added.
        InjectionSession.objects.filter(
            pk__in=[s.pk for s in self.sessions if s.status == SessionStatus.COMPLETED]
        ).update(
            signed_by=models.F("clinician"),
            signed_at=models.F("performed_at") + datetime.timedelta(minutes=40),
        )


def copy_rows(rows: list[Any]) -> None:
    """Insert model instances with COPY: ids drawn from the table's sequence first.

    Much faster than ``bulk_create`` for large volumes; columns with a database default
    (the MRN) are left to the database. Constraints and triggers still check every row.
    """
    if not rows:
        return
    meta = type(rows[0])._meta
    fields = [f for f in meta.concrete_fields if f.db_default is NOT_PROVIDED]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [meta.db_table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row.created_at = row.created_at or now  # a demo row may carry its own history
            row.updated_at = now
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_column_value(row, f) for f in fields])


def _column_value(row: Any, f: models.Field[Any, Any]) -> Any:
    if isinstance(f, models.ForeignKey):
        parent = f.get_cached_value(row, None)
        return parent.pk if parent is not None else getattr(row, f.attname)
    return getattr(row, f.attname)


def demo_clinicians(count: int) -> list[User]:
    """The clinicians sessions are given by: existing ones, topped up with demo colleagues."""
    group, _ = Group.objects.get_or_create(name=CLINICIAN)
    existing = list(User.objects.filter(groups=group).order_by("pk"))
    for number in range(len(existing) + 1, count + 1):
        user, _ = User.objects.get_or_create(
            username=f"clinician{number:02d}",
            defaults={
                "first_name": "Demo",
                "last_name": f"Clinician {number:02d}",
                "is_staff": True,
            },
        )
        user.set_unusable_password()
        user.save()
        user.groups.add(group)
        existing.append(user)
    return existing[: max(count, 1)]


class DemoClinic:
    def __init__(self, *, seed: int, today: datetime.date, clinicians: list[User]) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.clinicians = clinicians
        self.calendar = Calendar()
        self.now = timezone.now()

    def generate(self, patients: int, progress: Callable[[int], None]) -> dict[str, int]:
        """Write each chunk while the next is generated, unless inside a caller's transaction
        (a second connection would not see its uncommitted rows)."""
        totals: dict[str, int] = {}
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending: Future[None] | None = None
            for size in _chunks(patients, CHUNK):
                chunk = Chunk()
                for _ in range(size):
                    self.add_patient(chunk)
                if pending is not None:
                    pending.result()
                if connection.in_atomic_block:
                    _save_chunk(chunk)
                else:
                    pending = writer.submit(_save_chunk, chunk, close=True)
                for name, rows in vars(chunk).items():
                    totals[name] = totals.get(name, 0) + len(rows)
                progress(size)
            if pending is not None:
                pending.result()
        return totals

    def add_patient(self, chunk: Chunk) -> None:
        rng = self.rng
        sex = rng.choices([Sex.FEMALE, Sex.MALE, Sex.OTHER, Sex.UNKNOWN], [52, 46, 1, 1])[0]
        given = rng.choice(GIVEN_MALE if sex == Sex.MALE else GIVEN_FEMALE)
        family = rng.choice(FAMILY)
        channel = rng.choices(list(ReminderChannel), [55, 35, 10])[0]
        consent = channel != ReminderChannel.NONE
        registered = self.today - datetime.timedelta(days=rng.randrange(HISTORY_DAYS))
        patient = Patient(
            given_name=given,
            family_name=family,
            birth_date=self.today - datetime.timedelta(days=rng.randrange(18 * 365, 88 * 365)),
            sex=sex,
            phone=f"+4477009{rng.randrange(10**5):05d}",
            email=f"{given}.{family}{rng.randrange(1000)}@example.org".lower(),
            reminder_channel=channel,
            reminder_consent=consent,
            reminder_consent_on=registered if consent else None,
            local_anaesthetic_allergy=rng.random() < 0.02,
            allergies="Lidocaine: rash" if rng.random() < 0.02 else "",
            anticoagulant_use=rng.random() < 0.08,
        )
        chunk.patients.append(patient)
        for _ in range(1 if rng.random() < 0.75 else 2):
            self.add_condition(chunk, patient, registered)

    def add_condition(self, chunk: Chunk, patient: Patient, registered: datetime.date) -> None:
        rng = self.rng
        template = rng.choices(CONDITIONS, [c.weight for c in CONDITIONS])[0]
        side = (
            rng.choices([Laterality.LEFT, Laterality.RIGHT, Laterality.BILATERAL], [45, 45, 10])[0]
            if template.sided
            else Laterality.MIDLINE
        )
        condition = Condition(
            patient=patient,
            icd10_code=template.code,
            label=template.label,
            body_region=template.region,
            laterality=side,
            onset_date=registered - datetime.timedelta(days=rng.randrange(60, 2000)),
        )
        chunk.conditions.append(condition)
        kinds, weights = zip(*template.treatments, strict=True)
        planned = rng.choices(kinds, weights)[0]
        course = TreatmentCourse(
            patient=patient,
            condition=condition,
            planned_treatment=planned,
            planned_sessions=rng.choice((3, 3, 4, 5, 6)),
            planned_interval_weeks=rng.choice((2, 3, 4, 4, 6, 8)),
            start_date=registered,
        )
        chunk.courses.append(course)
        recovery = Recovery.draw(rng, (Instrument.NPRS, template.instrument))
        self.add_sessions(chunk, patient, condition, course, template, recovery)

    def add_sessions(
        self,
        chunk: Chunk,
        patient: Patient,
        condition: Condition,
        course: TreatmentCourse,
        template: ConditionTemplate,
        recovery: Recovery,
    ) -> None:
        rng = self.rng
        clinician = rng.choice(self.clinicians)
        day = day_one = course.start_date
        stops = rng.random() < 0.08
        given = 0
        for number in range(1, course.planned_sessions + 1):
            when = self.calendar.book(clinician.pk, day, rng)
            if when > self.now:
                session = self.new_session(patient, course, clinician, when, SessionStatus.PLANNED)
                chunk.sessions.append(session)
                chunk.follow_ups.append(
                    self.follow_up(
                        patient, course, None, clinician, when, FollowUpKind.NEXT_INJECTION
                    )
                )
                break
            pain = recovery.severity_on(Instrument.NPRS, (when.date() - day_one).days, rng)
            session = self.new_session(
                patient, course, clinician, when, SessionStatus.COMPLETED, round(pain)
            )
            chunk.sessions.append(session)
            given += 1
            self.add_injections(chunk, session, template, condition.laterality, course)
            check = self.calendar.book(clinician.pk, when.date() + datetime.timedelta(days=14), rng)
            chunk.follow_ups.append(
                self.follow_up(
                    patient, course, session, clinician, check, FollowUpKind.POST_INJECTION_CHECK
                )
            )
            if stops and number >= 2:
                course.status = CourseStatus.STOPPED
                course.stop_reason = rng.choice(
                    (
                        "Pain resolved; no further injections wanted.",
                        "Patient moved away.",
                        "No improvement after two sessions; referred to orthopaedics.",
                        "Cost.",
                    )
                )
                course.ended_on = when.date()
                break
            day = when.date() + datetime.timedelta(weeks=course.planned_interval_weeks)
        else:
            if given == course.planned_sessions:
                course.status = CourseStatus.COMPLETED
                course.ended_on = day - datetime.timedelta(weeks=course.planned_interval_weeks)
        self.add_scores(chunk, patient, course, recovery)

    def new_session(
        self,
        patient: Patient,
        course: TreatmentCourse,
        clinician: User,
        when: datetime.datetime,
        status: SessionStatus,
        pre_pain_score: int | None = None,
    ) -> InjectionSession:
        rng = self.rng
        completed = status == SessionStatus.COMPLETED
        return InjectionSession(
            patient=patient,
            course=course,
            clinician=clinician,
            performed_at=when,
            status=status,
            guidance=rng.choices(list(Guidance), [45, 50, 5])[0],
            consent_obtained=completed,
            pre_pain_score=pre_pain_score,
            notes=rng.choice(
                (
                    "",
                    "",
                    "Tolerated well.",
                    "Mild discomfort during injection.",
                    "Patient anxious; vasovagal precautions taken.",
                )
            )
            if completed
            else "",
        )

    def follow_up(
        self,
        patient: Patient,
        course: TreatmentCourse,
        session: InjectionSession | None,
        clinician: User,
        when: datetime.datetime,
        kind: FollowUpKind,
    ) -> FollowUp:
        if when < self.now:
            status = (
                FollowUpStatus.NO_SHOW if self.rng.random() < 0.06 else FollowUpStatus.COMPLETED
            )
        else:
            status = self.rng.choice((FollowUpStatus.SCHEDULED, FollowUpStatus.CONFIRMED))
        if kind == FollowUpKind.POST_INJECTION_CHECK and self.rng.random() < 0.4:
            kind = FollowUpKind.PHONE_CALL
        return FollowUp(
            patient=patient,
            course=course,
            session=session,
            kind=kind,
            starts_at=when,
            ends_at=when + SLOT,
            clinician=clinician,
            status=status,
        )

    def add_injections(
        self,
        chunk: Chunk,
        session: InjectionSession,
        template: ConditionTemplate,
        laterality: str,
        course: TreatmentCourse,
    ) -> None:
        rng = self.rng
        kinds = {
            TreatmentKind.PRP: [InjectateKind.PRP],
            TreatmentKind.DEXTROSE: [InjectateKind.DEXTROSE],
            TreatmentKind.EXOSOME: [InjectateKind.EXOSOME],
            TreatmentKind.PRP_DEXTROSE: [InjectateKind.PRP, InjectateKind.DEXTROSE],
            TreatmentKind.PRP_EXOSOME: [InjectateKind.PRP, InjectateKind.EXOSOME],
        }[TreatmentKind(course.planned_treatment)]
        day = session.performed_at.date()
        injectates = [
            self.injectate(session, line, kind, day) for line, kind in enumerate(kinds, start=1)
        ]
        chunk.injectates.extend(injectates)
        side = (
            laterality
            if laterality != Laterality.BILATERAL
            else rng.choice((Laterality.LEFT, Laterality.RIGHT))
        )
        sites = []
        count = rng.randint(1, min(3, len(template.sites) + 1))
        for line in range(1, count + 1):
            structure, tissue, code = template.sites[(line - 1) % len(template.sites)]
            injectate = injectates[(line - 1) % len(injectates)]
            sites.append(
                InjectionSite(
                    session=session,
                    line=line,
                    injectate=injectate,
                    body_region=template.region,
                    structure=structure,
                    snomed_code=code,
                    tissue=tissue,
                    laterality=side,
                    volume_ml=min(injectate.volume_ml, Decimal(rng.choice(("1.0", "2.0", "3.0")))),
                    needle_gauge=rng.choice((22, 25, 25, 27)),
                    approach=rng.choice(("", "In-plane, lateral", "Superolateral", "Peppering")),
                )
            )
        chunk.sites.extend(sites)
        for kind, chance, grades in SIDE_EFFECTS:
            if rng.random() < chance:
                chunk.side_effects.append(
                    self.side_effect(session, rng.choice(sites), kind, grades)
                )

    def injectate(
        self, session: InjectionSession, line: int, kind: InjectateKind, day: datetime.date
    ) -> Injectate:
        rng = self.rng
        expiry = day + datetime.timedelta(days=rng.randrange(30, 700))
        if kind == InjectateKind.PRP:
            baseline = rng.randrange(150, 400)
            return Injectate(
                session=session,
                line=line,
                kind=kind,
                volume_ml=Decimal(rng.choice(("3.0", "4.0", "5.0", "6.0", "8.0"))),
                product_name="PRP",
                manufacturer=rng.choice(("Arthrex", "Regen Lab", "EmCyte")),
                lot_number=f"K{rng.randrange(10**6):06d}",
                expiry_date=expiry,
                whole_blood_ml=Decimal(rng.choice((15, 30, 30, 60))),
                prp_system=rng.choice(("ACP Double Syringe", "RegenKit BCT", "PurePRP II")),
                spins=rng.choice((1, 2)),
                anticoagulant=rng.choice(list(Anticoagulant)[:2]),
                leukocytes=rng.choice(list(RichOrPoor)),
                red_cells=RichOrPoor.POOR,
                activation=rng.choices(list(Activation), [85, 10, 4, 1])[0],
                platelet_count=int(baseline * rng.uniform(1.5, 6)),
                baseline_platelet_count=baseline if rng.random() < 0.6 else None,
            )
        if kind == InjectateKind.DEXTROSE:
            return Injectate(
                session=session,
                line=line,
                kind=kind,
                volume_ml=Decimal(rng.choice(("5.0", "10.0", "15.0", "20.0"))),
                product_name="Dextrose 50%",
                manufacturer="Hospira",
                lot_number=f"D{rng.randrange(10**5):05d}",
                expiry_date=expiry,
                dextrose_pct=Decimal(rng.choice(("12.5", "15.0", "15.0", "20.0", "25.0"))),
                anaesthetic=Anaesthetic.LIDOCAINE,
                anaesthetic_pct=Decimal(rng.choice(("0.20", "0.50", "1.00"))),
                diluent="Sodium chloride 0.9%",
            )
        return Injectate(
            session=session,
            line=line,
            kind=kind,
            volume_ml=Decimal(rng.choice(("1.0", "2.0", "3.0"))),
            product_name=rng.choice(("ExoFlo", "Kimera XoGlo", "Vesiclear")),
            manufacturer=rng.choice(("Direct Biologics", "Kimera Labs", "Organicell")),
            lot_number=f"EX{rng.randrange(40):03d}-{day.year}",
            expiry_date=expiry,
            exosome_source=rng.choices(list(ExosomeSource), [20, 20, 45, 10, 5])[0],
            particles_per_ml=rng.choice((None, 10**9, 5 * 10**9, 10**10)),
        )

    def side_effect(
        self,
        session: InjectionSession,
        site: InjectionSite,
        kind: SideEffectKind,
        grades: tuple[int, ...],
    ) -> SideEffect:
        rng = self.rng
        grade = rng.choice(grades)
        onset = session.performed_at.date() + datetime.timedelta(days=rng.choice((0, 0, 1, 2)))
        resolves = onset + datetime.timedelta(days=rng.randint(1, 14))
        resolved = resolves if resolves <= self.today else None
        outcome = SideEffectOutcome.RESOLVED if resolved else SideEffectOutcome.RECOVERING
        reported = (
            session.performed_at + datetime.timedelta(minutes=30)
            if onset == session.performed_at.date()
            else timezone.make_aware(datetime.datetime.combine(onset, datetime.time(12)))
        )
        return SideEffect(
            created_at=min(reported, self.now),
            session=session,
            site=site,
            kind=kind,
            grade=grade,
            serious=grade >= Grade.SEVERE,
            onset_date=min(onset, self.today),
            resolved_date=resolved,
            relatedness=rng.choice(
                (Relatedness.PROBABLE, Relatedness.DEFINITE, Relatedness.POSSIBLE)
            ),
            action_taken=rng.choice(("", "Ice and rest.", "Paracetamol.", "Reviewed in clinic.")),
            outcome=outcome,
            reported_by=rng.choice((Reporter.PATIENT, Reporter.PATIENT, Reporter.CLINICIAN)),
        )

    def add_scores(
        self,
        chunk: Chunk,
        patient: Patient,
        course: TreatmentCourse,
        recovery: Recovery,
    ) -> None:
        rng = self.rng
        points = (
            (TimePoint.BASELINE, 0),
            (TimePoint.WEEK_6, 42),
            (TimePoint.MONTH_3, 91),
            (TimePoint.MONTH_6, 182),
            (TimePoint.MONTH_12, 365),
        )
        for instrument in recovery.severity:
            spec = INSTRUMENTS[instrument]
            span = spec.maximum - spec.minimum
            for time_point, days in points:
                measured = course.start_date + datetime.timedelta(days=days)
                if measured > self.today:
                    break
                if days and measured > self.today - PATIENTS_ANSWER_DAYS:
                    break  # the patient is invited to answer this one (demo_invitations)
                severity = recovery.severity_on(instrument, days, rng)
                score = severity if spec.better == "lower" else spec.maximum - severity
                chunk.scores.append(
                    OutcomeScore(
                        patient=patient,
                        course=course,
                        instrument=instrument,
                        score=score.quantize(Decimal("1" if span > 10 else "0.1")),
                        time_point=time_point,
                        measured_on=measured,
                    )
                )


def _save_chunk(chunk: Chunk, close: bool = False) -> None:
    try:
        with transaction.atomic():
            chunk.save()
    finally:
        if close:
            connection.close()  # this thread's own connection


def _chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def seed_demo(
    *, patients: int, seed: int, progress: Callable[[int], None] = lambda _: None
) -> dict[str, int]:
    clinicians = demo_clinicians(max(3, -(-patients // PATIENTS_PER_CLINICIAN)))
    clinic = DemoClinic(seed=seed, today=timezone.localdate(), clinicians=clinicians)
    clinic.calendar.preload(clinicians)
    totals = clinic.generate(patients, progress)
    totals.update(demo_invitations(seed=seed))
    return totals


# Of the invitations the database planned for the demo courses that are due by now: how many the
# patients answered, left to be chased (sent, chased, some on the list to call), declined on the
# phone (missed), and left for the dispatch pass to send when the clinic starts.
INVITATION_FATES = ("answered", "chased", "declined", "to_send")
INVITATION_FATE_WEIGHTS = (55, 25, 10, 10)
NEW_PROBLEM_TEXTS = (
    "The knee was swollen and warm for three days after the injection.",
    "A bruise at the injection site that is still there.",
    "Pain at night since the last injection.",
)


def demo_invitations(*, seed: int) -> dict[str, int]:
    """Give the invitations due by now of courses the demo just added their fates: answered
    (through the same scoring as the patient's pages, so the scores are patient-reported),
    chased by message and listed for a call once the chasers ran out, or declined when called.
    The rest stay due, for the dispatch pass."""
    rng = random.Random(seed)
    now = timezone.now()
    caller = (
        User.objects.filter(groups__name=FRONT_DESK).order_by("pk").first()
        or User.objects.filter(groups__name=CLINICIAN).order_by("pk").first()
    )
    counts = dict.fromkeys(INVITATION_FATES, 0)
    due = (
        Invitation.objects.filter(status=InvitationStatus.PLANNED, due_at__lte=now)
        .select_related("patient", "course__condition")
        .order_by("id")
    )
    messages: list[InvitationMessage] = []
    for invitation in due:
        fate = rng.choices(INVITATION_FATES, INVITATION_FATE_WEIGHTS)[0]
        counts[fate] += 1
        waited = (now - invitation.due_at).total_seconds() / 86400
        invitation.sent_at = invitation.due_at
        if fate == "to_send":
            continue
        if fate == "answered":
            at = invitation.due_at + datetime.timedelta(days=rng.uniform(0, min(waited, 5)))
            severity = _demo_severity(invitation.course, rng)
            answers = {
                item: _demo_answer(code, severity, rng) for item, code in _demo_items(invitation)
            }
            problem = rng.random() < 0.06
            messages.append(_demo_message(invitation, 1))
            invitation_answer_all(
                invitation=invitation,
                answers=answers,
                new_problem=problem,
                problem_text=rng.choice(NEW_PROBLEM_TEXTS) if problem else "",
                at=at,
            )
            Invitation.objects.filter(pk=invitation.pk).update(
                messages_sent=1, sent_at=invitation.due_at
            )
            continue
        chasers = sum(waited >= days for days in settings.PROM_CHASER_DAYS)
        sent = 1 + chasers
        messages += [_demo_message(invitation, n) for n in range(1, sent + 1)]
        invitation.messages_sent = sent
        invitation.status = InvitationStatus.SENT
        listed = waited >= settings.PROM_CALL_AFTER_DAYS
        if listed:
            invitation.chase_from = invitation.due_at + datetime.timedelta(
                days=settings.PROM_CALL_AFTER_DAYS
            )
            invitation.next_attempt_at = invitation.closes_at
        elif chasers < len(settings.PROM_CHASER_DAYS):
            days = settings.PROM_CHASER_DAYS[chasers]
            invitation.next_attempt_at = invitation.due_at + datetime.timedelta(days=days)
        else:
            days = settings.PROM_CALL_AFTER_DAYS
            invitation.next_attempt_at = invitation.due_at + datetime.timedelta(days=days)
        if fate == "declined" and caller is not None:
            invitation.status = InvitationStatus.MISSED
            invitation.ended_reason = "Declined to answer when called."
            invitation.next_attempt_at = invitation.chase_from = None
            InvitationCall.objects.create(
                invitation=invitation,
                called_at=min(now, invitation.due_at + datetime.timedelta(days=waited / 2)),
                called_by=caller,
                outcome=CallOutcome.DECLINED,
            )
        invitation.save()
    InvitationMessage.objects.bulk_create(messages)
    return {f"invitations {fate}": count for fate, count in counts.items()}


def _demo_message(invitation: Invitation, number: int) -> InvitationMessage:
    channel = invitation.patient.reminder_channel
    return InvitationMessage(
        invitation=invitation,
        number=number,
        key=f"invitation-{invitation.pk}-{number}-attempt-1",
        attempt=1,
        channel="" if channel == ReminderChannel.NONE else channel,
        outcome="sent",
    )


def _demo_items(invitation: Invitation) -> list[tuple[int, str]]:
    ids = [item for item, _ in invitation_items(invitation=invitation)]
    codes = dict(Item.objects.filter(pk__in=ids).values_list("pk", "code"))
    return [(item, codes[item]) for item in ids]


def _demo_severity(course: TreatmentCourse, rng: random.Random) -> float:
    """How bad things are now, 0 to 1: the pain before the course's latest session, or a guess."""
    pains = list(
        course.sessions.filter(status=SessionStatus.COMPLETED, pre_pain_score__isnull=False)
        .order_by("performed_at")
        .values_list("pre_pain_score", flat=True)
    )
    pain = pains[-1] if pains else None
    if pain is None:
        pain = rng.randint(3, 8)
    return max(0.0, min(1.0, pain / 10 + rng.uniform(-0.1, 0.1)))


def _demo_answer(code: str, severity: float, rng: random.Random) -> int:
    if code in ("NOW", "AVERAGE"):
        return max(0, min(10, round(severity * 10 + rng.uniform(-1, 1))))
    if code == "WORST":
        return max(0, min(10, round(severity * 10 + rng.uniform(1, 3))))
    if code == "GRC":
        return max(-7, min(7, round((0.6 - severity) * 10 + rng.uniform(-2, 2))))
    return max(0, min(4, round(severity * 4 + rng.gauss(0, 0.7))))


# The product presets of the demo clinic's session screen (GTINs from GS1's example range).
DEMO_PRODUCTS = (
    {
        "manufacturer": "Arthrex",
        "name": "Angel cPRP kit",
        "kind": InjectateKind.PRP,
        "gtin": "09506000134352",
        "volume_ml": Decimal(5),
        "whole_blood_ml": Decimal(30),
        "spins": 2,
        "anticoagulant": Anticoagulant.ACD_A,
        "activation": Activation.NONE,
        "leukocytes": RichOrPoor.POOR,
    },
    {
        "manufacturer": "Hospira",
        "name": "Dextrose 15% with lidocaine 0.5%",
        "kind": InjectateKind.DEXTROSE,
        "gtin": "09506000134369",
        "volume_ml": Decimal(10),
        "dextrose_pct": Decimal(15),
        "diluent": "Sodium chloride 0.9%",
        "anaesthetic": Anaesthetic.LIDOCAINE,
        "anaesthetic_pct": Decimal("0.5"),
    },
)


def demo_products() -> int:
    """The PRP kit and the dextrose of the README's session, as presets (kept if present)."""
    for values in DEMO_PRODUCTS:
        keys = {"manufacturer": values["manufacturer"], "name": values["name"]}
        if not Product.objects.filter(**keys).exists():
            product = Product(**values)
            product.full_clean()
            product.save()
    return len(DEMO_PRODUCTS)
