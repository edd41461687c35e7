"""The vocabulary of what is injected (DOMAIN.md, "Injectate"): the kinds of injectate and the
values a preparation is described by. Kept here, below treatments, so that a product preset and
the injectate it fills in speak the same words; treatments.models re-exports them."""

from __future__ import annotations

from django.db import models


class InjectateKind(models.TextChoices):
    PRP = "prp", "PRP"
    DEXTROSE = "dextrose", "Dextrose"
    EXOSOME = "exosome", "Exosomes"
    LOCAL_ANAESTHETIC = "local_anaesthetic", "Local anaesthetic"
    SALINE = "saline", "Saline"
    OTHER = "other", "Other"


class Anticoagulant(models.TextChoices):
    ACD_A = "acd_a", "ACD-A"
    CITRATE = "citrate", "Sodium citrate"
    HEPARIN = "heparin", "Heparin"
    EDTA = "edta", "EDTA"
    NONE = "none", "None"


class RichOrPoor(models.TextChoices):
    RICH = "rich", "Rich"
    POOR = "poor", "Poor"


class Activation(models.TextChoices):
    NONE = "none", "None"
    CALCIUM_CHLORIDE = "calcium_chloride", "Calcium chloride"
    THROMBIN = "thrombin", "Thrombin"
    OTHER = "other", "Other"


class Anaesthetic(models.TextChoices):
    LIDOCAINE = "lidocaine", "Lidocaine"
    BUPIVACAINE = "bupivacaine", "Bupivacaine"
    ROPIVACAINE = "ropivacaine", "Ropivacaine"


class ExosomeSource(models.TextChoices):
    BONE_MARROW = "bone_marrow_msc", "Bone-marrow MSC"
    ADIPOSE = "adipose_msc", "Adipose MSC"
    UMBILICAL_CORD = "umbilical_cord_msc", "Umbilical-cord MSC"
    AMNIOTIC = "amniotic", "Amniotic"
    OTHER = "other", "Other"
