"""Heap allocation while a D-MPNN trains (``ovito_glassml.allocator``).

glibc's own bookkeeping tells where a large block came from: ``mallinfo2().hblkhd`` counts the
bytes held in mmapped blocks. Inside :func:`heap_allocation` a 64 MB buffer must not be one of
them; outside, and after the block, it must (glibc's defaults are back).
"""

import ctypes

import numpy as np
import pytest
import torch
from paths import DATASET1

from ovito_glassml import allocator
from ovito_glassml.allocator import heap_allocation

pytestmark = pytest.mark.skipif(not allocator.available(), reason="glibc only")
BIG = 64 << 20  # above glibc's largest mmap threshold (32 MB)


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]


def mmapped_bytes() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2().hblkhd


def mmapped_by_a_big_tensor() -> int:
    """Bytes of mmapped blocks that a 64 MB torch buffer adds while it lives."""
    before = mmapped_bytes()
    buffer = torch.ones(BIG // 4, dtype=torch.float32)
    grown = mmapped_bytes() - before
    del buffer
    return grown


def test_a_big_buffer_is_mmapped_outside_the_block_and_not_inside_it():
    assert mmapped_by_a_big_tensor() >= BIG
    with heap_allocation() as active:
        assert active
        assert mmapped_by_a_big_tensor() == 0
        with heap_allocation():  # nested: still on
            assert mmapped_by_a_big_tensor() == 0
        assert mmapped_by_a_big_tensor() == 0  # the inner block's end changes nothing
    assert mmapped_by_a_big_tensor() >= BIG  # the defaults are back


def test_the_defaults_come_back_after_an_exception():
    with pytest.raises(RuntimeError):
        with heap_allocation():
            raise RuntimeError("training failed")
    assert mmapped_by_a_big_tensor() >= BIG


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_it_can_be_switched_off(how, monkeypatch):
    if how == "environment":
        monkeypatch.setenv(allocator.ENVIRONMENT, "0")
        block = heap_allocation()
    else:
        block = heap_allocation(enabled=False)
    with block as active:
        assert not active
        assert mmapped_by_a_big_tensor() >= BIG


def test_numpy_buffers_follow_it_too():
    with heap_allocation():
        before = mmapped_bytes()
        array = np.ones(BIG // 8)
        assert mmapped_bytes() == before
        del array


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
