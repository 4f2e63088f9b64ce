"""The engine's stored objects round-trip through the plain-data codec, and nothing else is read."""

import dataclasses
import io
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from bench.generate import generate_pair
from mapping.engine import MatchConfig, codec, match, match_block, match_incremental, prepare, split_blocks
from mapping.engine.scoring import DEFAULT_MODEL, ScoringModel


def _equal(a, b) -> bool:
    """Deep equality over what the codec stores (arrays and frames compared exactly, dtypes too)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (
            a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, pd.DataFrame):
        return a.dtypes.equals(b.dtypes) and a.index.equals(b.index) and a.equals(b)
    if dataclasses.is_dataclass(a):
        return all(_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    return a == b


@pytest.fixture(scope="module")
def lists():
    left, right, _truth = generate_pair(n=400, seed=11)
    return prepare(left), prepare(right)


def test_match_state_round_trips_and_an_incremental_run_from_it_equals_one_from_the_original(lists):
    left, right = lists
    config = MatchConfig(workers=1)
    _result, state = match(left, right, config, return_state=True)
    restored = codec.loads(codec.dumps(state))
    assert type(restored) is type(state) and _equal(restored, state)
    assert vars(restored).keys() == vars(state).keys()  # every field, even ones added later
    edited = left.copy()
    changed = list(edited.index[:20])
    edited.loc[changed, "name"] = "Renamed Holdings"
    edited = prepare(edited.drop(columns=[c for c in edited.columns if c.endswith("_norm")], errors="ignore"))
    from_original, _ = match_incremental(
        edited, right, state, config, changed_left=set(changed), changed_right=set()
    )
    from_restored, _ = match_incremental(
        edited, right, restored, config, changed_left=set(changed), changed_right=set()
    )
    pd.testing.assert_frame_equal(from_original, from_restored)


def test_block_payloads_and_scored_blocks_round_trip(lists):
    left, right = lists
    config = MatchConfig(workers=1)
    for block in split_blocks(left, right, 3, config):
        ids = codec.loads(codec.dumps([block.left_ids, block.right_ids, block.passes]))
        assert _equal(ids, [block.left_ids, block.right_ids, block.passes])
        scored = match_block(block, config)
        restored = codec.loads(codec.dumps(scored))
        pd.testing.assert_frame_equal(restored, scored)


def test_scoring_model_round_trips_with_its_origin():
    model = ScoringModel(weights=DEFAULT_MODEL.weights, bias=-3.25, origin="LogisticRegression")
    restored = codec.loads(codec.dumps(model))
    assert restored == model and restored.origin == model.origin and isinstance(restored.weights, tuple)


def test_plain_values_round_trip():
    value = {
        "ints": np.arange(5, dtype=np.int32),
        "text": np.array(["a", "bé"]),
        "objects": np.array(["x", None], dtype=object),
        "nan": float("nan"),
        "inf": float("-inf"),
        "scalar": np.float32(1.5),
        "set": {1, 2},
        3: ("t", [1.0]),
        "bytes": b"\x00\x01",
        "frame": pd.DataFrame(
            {"a": [1, 2], "b": ["x", "y"], "c": pd.Categorical(["p", "q"])},
            index=pd.Index([10, 20], name="id"),
        ),
    }
    assert _equal(codec.loads(codec.dumps(value)), value)


def _blob(skeleton) -> bytes:
    """A well-formed blob with a hand-written skeleton (what someone who can write the row could store)."""
    buffer = io.BytesIO()
    buffer.write(codec.MAGIC)
    np.savez(buffer, skeleton=np.frombuffer(json.dumps(skeleton).encode(), dtype=np.uint8))
    return buffer.getvalue()


class _Outside:
    pass


@dataclasses.dataclass
class _NotEngine:
    x: int = 1


def test_refuses_pickles_foreign_classes_and_garbage():
    payload = pickle.dumps(DEFAULT_MODEL)
    with pytest.raises(codec.CodecError):
        codec.loads(payload)  # an old pickled row: not read, whatever it holds
    with pytest.raises(TypeError):
        codec.dumps(_Outside())
    with pytest.raises(TypeError):
        codec.dumps(_NotEngine())
    for target in (
        "subprocess:Popen",
        "os:system",
        "tests.mapping.test_engine_codec:_NotEngine",
        "mapping.engine.scoring:np",
    ):
        with pytest.raises(codec.CodecError):
            codec.loads(_blob({"__dataclass__": target, "fields": {"args": ["true"]}}))
    with pytest.raises(codec.CodecError):
        codec.loads(codec.MAGIC + b"not a zip")
    with pytest.raises(codec.CodecError):
        codec.loads(codec.dumps(DEFAULT_MODEL)[:-10])
