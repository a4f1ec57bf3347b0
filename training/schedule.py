"""The paper's learning-rate schedule (§2.3.2, reused for the D-MPNN in §2.4.2).

The rate rises linearly from 1e-4 to 1e-3 over the first two epochs, then decays exponentially to
1e-4 at the end of the last epoch. :func:`learning_rate` is a pure function of the optimiser step
(framework-free, so the Keras CNN trainer uses it too); :func:`torch_scheduler` wraps it in
``torch.optim.lr_scheduler.LambdaLR``.
"""

from __future__ import annotations

import math

INITIAL_LR = 1e-4
PEAK_LR = 1e-3
FINAL_LR = 1e-4
WARMUP_EPOCHS = 2.0


def learning_rate(step: int, steps_per_epoch: int, epochs: int, initial: float = INITIAL_LR,
                  peak: float = PEAK_LR, final: float = FINAL_LR,
                  warmup_epochs: float = WARMUP_EPOCHS) -> float:
    """The learning rate for optimiser step ``step`` (0-based, one step per batch).

    Linear from ``initial`` (step 0) to ``peak`` (step ``warmup_epochs * steps_per_epoch``), then
    ``peak * (final / peak) ** fraction``, with ``fraction`` going from 0 to 1 between the end of
    the warm-up and step ``epochs * steps_per_epoch`` (the end of the last epoch); held at
    ``final`` beyond. A run of at most ``warmup_epochs`` epochs only warms up.
    """
    if steps_per_epoch < 1 or epochs < 1:
        raise ValueError(f"need steps_per_epoch >= 1 and epochs >= 1, got {steps_per_epoch}, {epochs}")
    warmup = warmup_epochs * steps_per_epoch
    if step < warmup:
        return initial + (peak - initial) * step / warmup
    decay = epochs * steps_per_epoch - warmup
    if decay <= 0:
        return peak
    fraction = min((step - warmup) / decay, 1.0)
    return peak * math.exp(fraction * math.log(final / peak))


def torch_scheduler(optimizer, steps_per_epoch: int, epochs: int, **rates):
    """A ``LambdaLR`` following :func:`learning_rate`; step it once per batch.

    The optimiser's base learning rate must be the peak rate (``rates.get("peak", 1e-3)``): the
    lambda returns the schedule divided by it.
    """
    from torch.optim.lr_scheduler import LambdaLR

    peak = rates.get("peak", PEAK_LR)
    for group in optimizer.param_groups:
        group["lr"] = peak
        group["initial_lr"] = peak
    return LambdaLR(optimizer, lambda step: learning_rate(step, steps_per_epoch, epochs, **rates) / peak)
