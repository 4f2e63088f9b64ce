"""Plain-data storage of the engine's objects (scoring models, incremental state, block payloads).

`dumps(obj) -> bytes` and `loads(data) -> obj`, in a format that cannot run code when read: a JSON
skeleton plus numeric / fixed-width string arrays in an uncompressed `.npz` archive, read back with
`np.load(allow_pickle=False)`. No pickle anywhere, so whoever can write a stored row cannot make a
worker execute anything.

What it stores, generically (new fields of the engine's dataclasses keep working without a change
here): None, bool, int, float (NaN and infinities too), str, bytes, lists, tuples, sets, dicts,
numpy arrays (an object array of plain values goes through JSON), numpy scalars, pandas Series and
DataFrames (columns, index, dtypes), and dataclasses of this package (`mapping.engine.*`) whose fields
are any of these. A dataclass of another module, or any other type, is refused at both ends.

Anything else that reads as bytes (an old pickle, a truncated or tampered blob) raises `CodecError`;
callers treat that as "nothing stored".
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import zipfile
from typing import Any

import numpy as np
import pandas as pd

MAGIC = b"PRMCODEC1\n"
_PACKAGE = "mapping.engine"
_SKELETON = "skeleton"


class CodecError(ValueError):
    """The bytes are not a blob this codec wrote (or hold a type it does not read)."""


# --- writing ---------------------------------------------------------------------------------------


class _Writer:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, value: np.ndarray) -> dict:
        if value.dtype.hasobject:
            return {
                "__objarray__": [self.encode(v) for v in value.ravel().tolist()],
                "shape": list(value.shape),
            }
        if value.dtype.kind not in "biufcUSmM":  # void / structured: not worth the risk
            raise TypeError(f"cannot store an array of dtype {value.dtype}")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = np.asarray(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        return {"__array__": name}

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, np.generic):
            return {"__scalar__": self.array(np.asarray(value))}
        if isinstance(value, pd.DataFrame):
            return {
                "__frame__": [[self.encode(c), self.series(value[c])] for c in value.columns],
                "index": self.index(value.index),
                "columns_unique": bool(value.columns.is_unique),
            }
        if isinstance(value, pd.Series):
            return {
                "__series__": self.series(value),
                "index": self.index(value.index),
                "name": self.encode(value.name),
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            cls = type(value)
            _check_class(cls.__module__, cls.__qualname__)
            return {
                "__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
            }
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, set | frozenset):
            return {"__set__": [self.encode(v) for v in sorted(value, key=repr)]}
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: self.encode(v) for k, v in value.items()}
            return {"__dict__": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if isinstance(value, bytes | bytearray | memoryview):
            return {"__bytes__": self.array(np.frombuffer(bytes(value), dtype=np.uint8))}
        raise TypeError(f"cannot store a {type(value).__module__}.{type(value).__qualname__}")

    def series(self, series: pd.Series) -> dict:
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return {
                "categorical": self.encode(series.cat.categories.to_numpy()),
                "codes": self.array(series.cat.codes.to_numpy()),
                "ordered": bool(dtype.ordered),
            }
        if isinstance(dtype, np.dtype):
            return {"values": self.array(series.to_numpy())}
        # pandas extension dtypes (nullable ints, strings, ...): plain values and the dtype's name
        return {"values": self.array(series.to_numpy(dtype=object)), "dtype": str(dtype)}

    def index(self, index: pd.Index) -> dict:
        if isinstance(index, pd.RangeIndex):
            return {
                "range": [int(index.start), int(index.stop), int(index.step)],
                "name": self.encode(index.name),
            }
        if isinstance(index, pd.MultiIndex):
            raise TypeError("cannot store a MultiIndex")
        return {"values": self.series(pd.Series(index)), "name": self.encode(index.name)}


def dumps(obj: Any) -> bytes:
    """The plain-data bytes of an engine object (see the module docstring for what it may hold)."""
    writer = _Writer()
    skeleton = json.dumps(writer.encode(obj), allow_nan=False, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    buffer.write(MAGIC)
    np.savez(buffer, **{_SKELETON: np.frombuffer(skeleton, dtype=np.uint8)}, **writer.arrays)
    return buffer.getvalue()


# --- reading ---------------------------------------------------------------------------------------


def _check_class(module: str, qualname: str) -> None:
    if not (module == _PACKAGE or module.startswith(_PACKAGE + ".")) or "<" in qualname:
        raise TypeError(f"{module}:{qualname} is not an engine class")


def _engine_class(path: str) -> type:
    module, _, qualname = path.partition(":")
    try:
        _check_class(module, qualname)
    except TypeError as exc:
        raise CodecError(str(exc)) from None
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise CodecError(f"unknown engine class {path}") from None
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise CodecError(f"{path} is not an engine dataclass")
    return obj


class _Reader:
    def __init__(self, arrays):
        self.arrays = arrays

    def array(self, node: dict) -> np.ndarray:
        if "__objarray__" in node:
            values = [self.decode(v) for v in node["__objarray__"]]
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out.reshape(node["shape"])
        return self.arrays[node["__array__"]]

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__array__" in node or "__objarray__" in node:
            return self.array(node)
        if "__float__" in node:
            return float(node["__float__"])
        if "__scalar__" in node:
            return self.array(node["__scalar__"])[()]
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__set__" in node:
            return {self.decode(v) for v in node["__set__"]}
        if "__dict__" in node:
            return {_hashable(self.decode(k)): self.decode(v) for k, v in node["__dict__"]}
        if "__bytes__" in node:
            return self.array(node["__bytes__"]).tobytes()
        if "__frame__" in node:
            index = self.index(node["index"])
            columns = [(_hashable(self.decode(c)), self.values(v)) for c, v in node["__frame__"]]
            frame = pd.DataFrame({i: v for i, (_c, v) in enumerate(columns)}, index=index)
            frame.columns = pd.Index([c for c, _v in columns])
            return frame
        if "__series__" in node:
            return pd.Series(
                self.values(node["__series__"]),
                index=self.index(node["index"]),
                name=self.decode(node["name"]),
                copy=False,
            )
        if "__dataclass__" in node:
            cls = _engine_class(node["__dataclass__"])
            values = {k: self.decode(v) for k, v in node["fields"].items()}
            fields = {f.name: f for f in dataclasses.fields(cls)}
            unknown = set(values) - set(fields)
            if unknown:
                raise CodecError(f"{cls.__qualname__} has no field(s) {sorted(unknown)}")
            obj = cls(**{k: v for k, v in values.items() if fields[k].init})
            for k, v in values.items():
                if not fields[k].init:
                    object.__setattr__(obj, k, v)
            return obj
        return {k: self.decode(v) for k, v in node.items()}

    def values(self, node: dict):
        """A column's values: a numpy array, a Categorical or a pandas extension array."""
        if "categorical" in node:
            return pd.Categorical.from_codes(
                self.array(node["codes"]),
                categories=self.decode(node["categorical"]),
                ordered=node["ordered"],
            )
        values = self.array(node["values"])
        if "dtype" in node:
            return pd.array(values, dtype=node["dtype"])
        return values

    def index(self, node: dict) -> pd.Index:
        name = self.decode(node.get("name"))
        if "range" in node:
            return pd.RangeIndex(*node["range"], name=name)
        return pd.Index(self.values(node["values"]), name=name)


def _hashable(value):
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def loads(data: bytes | memoryview) -> Any:
    """The object `dumps` stored. Raises CodecError for anything else (an old pickle among them)."""
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise CodecError("not a stored engine object")
    try:
        with np.load(io.BytesIO(data[len(MAGIC) :]), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        skeleton = json.loads(arrays.pop(_SKELETON).tobytes().decode())
        return _Reader(arrays).decode(skeleton)
    except CodecError:
        raise
    except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise CodecError(f"unreadable stored engine object: {exc}") from None
