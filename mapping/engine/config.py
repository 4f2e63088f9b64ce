"""Tunable knobs of the engine, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from .scoring import DEFAULT_MODEL, ScoringModel


@dataclass(frozen=True)
class MatchConfig:
    # Pairs scoring >= threshold are matches; review_threshold <= score < threshold go to review.
    threshold: float = 0.5
    review_threshold: float = 0.2
    # Sorted-neighbourhood window (odd) over distinct name keys of both lists.
    window: int = 7
    # A blocking key shared by more than this many left x right pairs is too common to block on
    # (owner e-mail domain of the list's own company, "Starbucks" x 300 stores); other passes cover it.
    max_block_pairs: int = 2500
    # Compare in chunks of this many pairs to bound memory.
    chunk_size: int = 2_000_000
    # Threads for rapidfuzz's pairwise scorers (-1 = all cores).
    workers: int = -1
    # One-to-one: 'max-weight' (Hungarian on each component of candidate pairs) or 'greedy' by score.
    assignment: str = "max-weight"
    model: ScoringModel = field(default_factory=lambda: DEFAULT_MODEL)
