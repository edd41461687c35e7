"""The body map: where each region sits on a figure seen from the front and from the back, and
the structures usually injected in each region, with their SNOMED CT body-structure codes.

SNOMED CT concept ids (International edition, as browsed in the NCI EVS snomedct_us 2025-09
and the FHIR body-site value sets):
  49076000 Knee joint structure          1627004 Medial collateral ligament of knee joint
  18033002 Patellar ligament            129160003 Structure of patellofemoral joint
  24136001 Hip joint structure           85537004 Glenohumeral joint structure
  16953009 Elbow joint structure         74670003 Wrist joint structure
  70258002 Ankle joint structure        427091002 cervical facet joint structure
 428132006 thoracic facet joint structure 428001008 lumbar facet joint structure
A structure whose code could not be confirmed carries none (""): a blank is honest, a guessed
code would send a wrong body site to every FHIR export. The clinician may type a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recordkeeping.choices import BodyRegion, Laterality
from treatments.models import Tissue

FRONT, BACK = "front", "back"


@dataclass(frozen=True)
class Structure:
    name: str
    tissue: str
    snomed: str = ""
    laterality: str = ""  # "" keeps the side clicked; midline structures say so

    def as_data(self) -> dict[str, str]:
        return {
            "name": self.name,
            "tissue": self.tissue,
            "snomed": self.snomed,
            "laterality": self.laterality,
        }


IA, LIG, TEN, ENT = Tissue.INTRA_ARTICULAR, Tissue.LIGAMENT, Tissue.TENDON, Tissue.ENTHESIS
CAPSULE, OTHER = Tissue.JOINT_CAPSULE, Tissue.OTHER
MID = Laterality.MIDLINE

STRUCTURES: dict[str, tuple[Structure, ...]] = {
    BodyRegion.KNEE: (
        Structure("Knee joint", IA, "49076000"),
        Structure("Medial collateral ligament", LIG, "1627004"),
        Structure("Lateral collateral ligament", LIG),
        Structure("Patellar tendon", TEN, "18033002"),
        Structure("Pes anserinus", ENT),
        Structure("Patellofemoral joint", IA, "129160003"),
        Structure("Quadriceps tendon", TEN),
    ),
    BodyRegion.HIP: (
        Structure("Hip joint", IA, "24136001"),
        Structure("Gluteus medius tendon", TEN),
        Structure("Greater trochanteric bursa", OTHER),
        Structure("Iliofemoral ligament", LIG),
    ),
    BodyRegion.SHOULDER: (
        Structure("Glenohumeral joint", IA, "85537004"),
        Structure("Subacromial bursa", OTHER),
        Structure("Supraspinatus tendon", TEN),
        Structure("Long head of biceps tendon", TEN),
        Structure("Acromioclavicular joint", IA),
    ),
    BodyRegion.ELBOW: (
        Structure("Common extensor origin", ENT),
        Structure("Common flexor origin", ENT),
        Structure("Elbow joint", IA, "16953009"),
        Structure("Ulnar collateral ligament", LIG),
    ),
    BodyRegion.WRIST_HAND: (
        Structure("Wrist joint", IA, "74670003"),
        Structure("First carpometacarpal joint", IA),
        Structure("First dorsal compartment tendons", TEN),
        Structure("Triangular fibrocartilage complex", OTHER),
    ),
    BodyRegion.ANKLE_FOOT: (
        Structure("Ankle joint", IA, "70258002"),
        Structure("Achilles tendon", TEN),
        Structure("Plantar fascia origin", ENT),
        Structure("Anterior talofibular ligament", LIG),
    ),
    BodyRegion.CERVICAL_SPINE: (
        Structure("Cervical facet joints", CAPSULE, "427091002"),
        Structure("Interspinous ligament", LIG, laterality=MID),
        Structure("Nuchal ligament", LIG, laterality=MID),
    ),
    BodyRegion.THORACIC_SPINE: (
        Structure("Thoracic facet joints", CAPSULE, "428132006"),
        Structure("Costotransverse joint", IA),
        Structure("Interspinous ligament", LIG, laterality=MID),
    ),
    BodyRegion.LUMBAR_SPINE: (
        Structure("Lumbar facet joints", CAPSULE, "428001008"),
        Structure("Iliolumbar ligament", LIG),
        Structure("Sacroiliac joint", IA),
        Structure("Interspinous ligament", LIG, laterality=MID),
        Structure("Supraspinous ligament", LIG, laterality=MID),
    ),
    BodyRegion.SACROILIAC: (
        Structure("Sacroiliac joint", IA),
        Structure("Posterior sacroiliac ligaments", LIG),
        Structure("Sacrotuberous ligament", LIG),
    ),
    BodyRegion.OTHER: (),
}


@dataclass(frozen=True)
class Spot:
    """A place to click on one view of the figure: (x, y) in the figure's 200 x 440 units."""

    region: str
    laterality: str
    view: str
    x: int
    y: int

    @property
    def label(self) -> str:
        return f"{Laterality(self.laterality).label} {BodyRegion(self.region).label.lower()}"

    @property
    def key(self) -> str:
        return f"{self.view}-{self.region}-{self.laterality}"

    @property
    def left_pct(self) -> str:
        return f"{self.x / WIDTH * 100:.1f}%"

    @property
    def top_pct(self) -> str:
        return f"{self.y / HEIGHT * 100:.1f}%"


WIDTH, HEIGHT = 200, 440
L, R = Laterality.LEFT, Laterality.RIGHT


def _pair(region: str, view: str, x_right: int, y: int) -> tuple[Spot, Spot]:
    """The region on both sides of one view. From the front the patient's right is on the
    viewer's left; from the back it is on the viewer's right."""
    x_left = WIDTH - x_right
    if view == BACK:
        x_right, x_left = x_left, x_right
    return Spot(region, R, view, x_right, y), Spot(region, L, view, x_left, y)


SPOTS: tuple[Spot, ...] = (
    *_pair(BodyRegion.SHOULDER, FRONT, 58, 96),
    *_pair(BodyRegion.ELBOW, FRONT, 42, 168),
    *_pair(BodyRegion.WRIST_HAND, FRONT, 32, 236),
    *_pair(BodyRegion.HIP, FRONT, 74, 214),
    *_pair(BodyRegion.KNEE, FRONT, 78, 318),
    *_pair(BodyRegion.ANKLE_FOOT, FRONT, 78, 410),
    # The back: the spine's pairs 48 units apart and every spot at least 44 units (a spot's
    # width on the screen) from its neighbours, so each is clicked alone; the hip is on the
    # front only, as it would sit on top of the sacroiliac joint and the wrist.
    *_pair(BodyRegion.CERVICAL_SPINE, BACK, 76, 56),
    *_pair(BodyRegion.SHOULDER, BACK, 54, 100),
    *_pair(BodyRegion.THORACIC_SPINE, BACK, 76, 144),
    *_pair(BodyRegion.ELBOW, BACK, 42, 172),
    *_pair(BodyRegion.LUMBAR_SPINE, BACK, 76, 200),
    *_pair(BodyRegion.SACROILIAC, BACK, 76, 244),
    *_pair(BodyRegion.WRIST_HAND, BACK, 32, 236),
    *_pair(BodyRegion.KNEE, BACK, 78, 318),
    *_pair(BodyRegion.ANKLE_FOOT, BACK, 78, 410),
)
# Where a recorded site is drawn: the view a region is mostly injected from.
BACK_REGIONS = frozenset(
    {
        BodyRegion.CERVICAL_SPINE,
        BodyRegion.THORACIC_SPINE,
        BodyRegion.LUMBAR_SPINE,
        BodyRegion.SACROILIAC,
    }
)


def spots(view: str) -> list[Spot]:
    return [spot for spot in SPOTS if spot.view == view]


def spot_for(region: str, laterality: str) -> Spot | None:
    """Where a recorded site is drawn; a midline or bilateral site sits on the middle line,
    "other" regions have no place on the figure."""
    view = BACK if region in BACK_REGIONS else FRONT
    side = laterality if laterality in (L, R) else R
    for spot in SPOTS:
        if spot.view == view and spot.region == region and spot.laterality == side:
            if laterality in (L, R):
                return spot
            return Spot(region, laterality, view, WIDTH // 2, spot.y)
    return None


def structures_data() -> dict[str, list[dict[str, str]]]:
    """The structures of every region, for the session screen's script."""
    return {region: [s.as_data() for s in found] for region, found in STRUCTURES.items()}


def snomed_of(region: str, structure: str) -> str:
    for found in STRUCTURES.get(region, ()):
        if found.name == structure:
            return found.snomed
    return ""


def dots(sites: list[Any]) -> list[dict[str, Any]]:
    """Numbered dots for recorded sites on the small figure of the chart: two sites at one
    place are set a little apart so both numbers read."""
    placed: dict[tuple[str, int, int], int] = {}
    found = []
    for site in sites:
        spot = spot_for(site.body_region, site.laterality)
        if spot is None:
            continue
        key = (spot.view, spot.x, spot.y)
        nth = placed.get(key, 0)
        placed[key] = nth + 1
        # A column of up to three, read top to bottom (bottom to top near the feet), then a
        # column further out: 40 units apart, a dot's width, never onto the other side.
        down = 1 if spot.y + 80 <= HEIGHT - 20 else -1
        out = -1 if spot.x < WIDTH // 2 else 1
        dx, dy = (nth // 3) * 40 * out, (nth % 3) * 40 * down
        found.append(
            {
                "line": site.line,
                "view": spot.view,
                "x": spot.x + dx + (WIDTH if spot.view == BACK else 0),
                "y": spot.y + dy,
                "label": f"{site.line}: {site.get_laterality_display()} {site.structure}",
            }
        )
    return found
