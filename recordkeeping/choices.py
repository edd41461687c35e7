"""Vocabulary shared by the patients and treatments apps (see DOMAIN.md)."""

from __future__ import annotations

from django.db import models


class BodyRegion(models.TextChoices):
    KNEE = "knee", "Knee"
    HIP = "hip", "Hip"
    SHOULDER = "shoulder", "Shoulder"
    ELBOW = "elbow", "Elbow"
    WRIST_HAND = "wrist_hand", "Wrist / hand"
    ANKLE_FOOT = "ankle_foot", "Ankle / foot"
    CERVICAL_SPINE = "cervical_spine", "Cervical spine"
    THORACIC_SPINE = "thoracic_spine", "Thoracic spine"
    LUMBAR_SPINE = "lumbar_spine", "Lumbar spine"
    SACROILIAC = "sacroiliac", "Sacroiliac joint"
    OTHER = "other", "Other"


class Laterality(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"
    MIDLINE = "midline", "Midline"
