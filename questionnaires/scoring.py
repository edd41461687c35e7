"""Scores from answers, by a scale's rule. Pure: the values in, the score out.

- sum: the items' sum; with items missing (when the scale allows it) the mean of those answered
  times the number of items.
- mean: the mean of the items answered.
- table: the items' sum (every item answered) converted by the scale's table.
- percent of maximum: the answered items' distance from their lowest value as a share of their
  span, times 100; reversed, 100 minus that (KOOS and HOOS: 100 - mean(0-4) / 4 x 100).

No score when fewer than ``min_answered_percent`` of the items were answered. Scores are
rounded half up to one decimal, as outcome scores are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from questionnaires.models import ScoringRule

TENTH = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ItemSpan:
    """An item's lowest and highest option value."""

    low: int
    high: int


@dataclass(frozen=True)
class Rule:
    rule: str
    reverse: bool = False
    min_answered_percent: int = 100
    table: Mapping[int, Decimal] | None = None


def answered_enough(answered: int, items: int, min_answered_percent: int) -> bool:
    return items > 0 and answered * 100 >= min_answered_percent * items


def score(rule: Rule, spans: Sequence[ItemSpan], values: Sequence[int | None]) -> Decimal | None:
    """The score of one scale: ``values`` are its items' answers in order (None: unanswered),
    ``spans`` their option ranges."""
    given = [(span, value) for span, value in zip(spans, values, strict=True) if value is not None]
    if not answered_enough(len(given), len(spans), rule.min_answered_percent):
        return None
    total = Decimal(sum(value for _, value in given))
    result: Decimal
    if rule.rule == ScoringRule.SUM:
        result = total * len(spans) / len(given)
    elif rule.rule == ScoringRule.MEAN:
        result = total / len(given)
    elif rule.rule == ScoringRule.TABLE:
        if len(given) < len(spans) or rule.table is None:
            return None
        converted = rule.table.get(int(total))
        if converted is None:
            return None
        result = Decimal(converted)
    elif rule.rule == ScoringRule.PERCENT_OF_MAX:
        reached = sum((Decimal(value - span.low) for span, value in given), Decimal(0))
        possible = sum((Decimal(span.high - span.low) for span, _ in given), Decimal(0))
        result = reached / possible * HUNDRED
        if rule.reverse:
            result = HUNDRED - result
    else:
        raise ValueError(f"Unknown scoring rule {rule.rule!r}")
    return result.quantize(TENTH, rounding=ROUND_HALF_UP)
