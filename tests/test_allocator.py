"""Heap allocation while a D-MPNN trains (``ovito_glassml.allocator``).

glibc's own bookkeeping tells where a large block came from: ``mallinfo2().hblkhd`` counts the
bytes held in mmapped blocks. Inside :func:`heap_allocation` a 64 MB buffer must not be one of
them; outside, and after the block, it must (glibc's defaults are back). The probe runs in a
fresh interpreter, whose heap holds no free chunk that large.
"""

import json
import os
import subprocess
import sys

import pytest
import torch
from paths import DATASET1

from ovito_glassml import allocator

pytestmark = pytest.mark.skipif(not allocator.available(), reason="glibc only")
BIG = 64 << 20  # above glibc's largest mmap threshold (32 MB)


#: Run in a fresh interpreter: in a long test session the heap can already hold a free chunk of
#: 64 MB, which glibc then serves a large allocation from instead of a new mmap.
PROBE = r"""
import ctypes, json, os, sys
import numpy as np
import torch
from ovito_glassml.allocator import heap_allocation

BIG = 64 << 20


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]


libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2


def mmapped(make):
    # bytes of mmapped blocks that a 64 MB buffer adds while it lives
    before = libc.mallinfo2().hblkhd
    buffer = make()
    grown = libc.mallinfo2().hblkhd - before
    del buffer
    return grown


tensor = lambda: torch.ones(BIG // 4, dtype=torch.float32)
array = lambda: np.ones(BIG // 8)
seen = {"outside": mmapped(tensor)}
with heap_allocation() as active:
    seen["active"] = active
    seen["inside"] = mmapped(tensor)
    seen["numpy_inside"] = mmapped(array)
    with heap_allocation():
        seen["nested"] = mmapped(tensor)
    seen["after_nested"] = mmapped(tensor)
seen["after"] = mmapped(tensor)
try:
    with heap_allocation():
        raise RuntimeError("training failed")
except RuntimeError:
    pass
seen["after_exception"] = mmapped(tensor)
with heap_allocation(enabled=False) as active:
    seen["off_active"] = active
    seen["off"] = mmapped(tensor)
os.environ["GLASSML_HEAP_ALLOCATION"] = "0"
with heap_allocation() as active:
    seen["environment_off_active"] = active
    seen["environment_off"] = mmapped(tensor)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def seen():
    """What the probe measured, in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=300, env={**os.environ, allocator.ENVIRONMENT: "1"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_big_buffer_is_mmapped_outside_the_block_and_not_inside_it(seen):
    assert seen["outside"] >= BIG
    assert seen["active"] and seen["inside"] == 0
    assert seen["nested"] == 0 and seen["after_nested"] == 0   # the inner block's end changes nothing
    assert seen["after"] >= BIG                                # the defaults are back


def test_the_defaults_come_back_after_an_exception(seen):
    assert seen["after_exception"] >= BIG


def test_it_can_be_switched_off_by_argument_or_environment(seen):
    assert not seen["off_active"] and seen["off"] >= BIG
    assert not seen["environment_off_active"] and seen["environment_off"] >= BIG


def test_numpy_buffers_follow_it_too(seen):
    assert seen["numpy_inside"] == 0


@pytest.mark.slow
def test_a_training_under_heap_allocation_gives_the_same_weights(monkeypatch, tmp_path):
    from ovito_glassml.datasets import load_dataset
    from ovito_glassml.training.dmpnn import DMPNNTrainingConfig, train_dmpnn

    data = load_dataset(DATASET1)
    subset = data.subset([0, 1, 2, 3, 20, 21, 22, 23])
    config = DMPNNTrainingConfig.from_params(dict(window_length=0.3, hidden_size=8, batch_size=4,
                                                  epochs=1))
    heap, _ = train_dmpnn(subset, tmp_path / "heap", config, progress=False)
    monkeypatch.setenv(allocator.ENVIRONMENT, "0")
    default, _ = train_dmpnn(subset, tmp_path / "default", config, progress=False)
    for (name, x), (_, y) in zip(heap.state_dict().items(), default.state_dict().items()):
        assert torch.equal(x, y), name
