"""Exceptions of the clinic's rules that every entry point (API, admin, tasks) reports."""

from __future__ import annotations


class RecordLocked(Exception):
    """The record is final (e.g. a signed session) and cannot change."""
