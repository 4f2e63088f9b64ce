"""The engine's objects as stored in the database: trained models (MatchSettings.model), incremental
state (MatchState.data) and fan-out payloads (MatchBlockJob.pairs / result).

They go through `mapping.engine.codec` (JSON + numpy arrays, read with allow_pickle=False), never
pickle: whoever can write one of these rows cannot run code in a worker. A row that is not such a
blob (a pickle written before, a damaged value) reads as absent: the state as "match in full", the
model as "needs retraining".
"""

from __future__ import annotations

import logging

import pandas as pd

from mapping.engine import MatchState as EngineState
from mapping.engine import ScoringModel, codec

log = logging.getLogger(__name__)


def engine_blob(obj) -> bytes:
    return codec.dumps(obj)


def _read(raw, expected: type | tuple, what: str):
    if raw is None:
        return None
    try:
        value = codec.loads(bytes(raw))
    except codec.CodecError as exc:
        log.warning("%s is not readable (%s); treated as absent", what, exc)
        return None
    if not isinstance(value, expected):
        log.warning("%s holds a %s; treated as absent", what, type(value).__name__)
        return None
    return value


def stored_model(raw) -> ScoringModel | None:
    """A partnership's trained model, or None (none stored, or one it must retrain)."""
    return _read(raw, ScoringModel, "a stored scoring model")


def stored_model_readable(raw) -> bool:
    return raw is not None and stored_model(raw) is not None


def stored_state(raw) -> EngineState | None:
    return _read(raw, EngineState, "a stored engine state")


def stored_block_pairs(raw) -> list | None:
    value = _read(raw, list, "a block's candidate pairs")
    # ids, ids, passes and (from engine version 4) the lists' context
    return value if value is not None and len(value) in (3, 4) else None


def stored_block_result(raw) -> pd.DataFrame | None:
    return _read(raw, pd.DataFrame, "a block's scored pairs")
