"""The engine's tests need no database and no Django; they must also run with `-p no:django`
(then nothing puts the repository root on sys.path, so do it here)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def generated():
    """A small generated pair of lists with ground truth, shared by the behaviour tests."""
    from bench.generate import generate_pair

    return generate_pair(n=2000, seed=11)
