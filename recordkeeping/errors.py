"""Exceptions of the clinic's rules that every entry point (API, admin, tasks) reports."""

from __future__ import annotations


class RecordLocked(Exception):
    """The record is final (e.g. a signed session) and cannot change."""


class Clash(Exception):
    """Another request won a race for the same thing (e.g. a slot booked between validation and
    saving); ``field`` names what clashed."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
