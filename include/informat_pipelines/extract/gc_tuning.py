"""Fewer runs of Python's cyclic garbage collector while partitions are landed or validated.

A landed partition is millions of small dicts and lists (Informat's JSON, then rows): with the
collector's default thresholds (700, 10, 10) the cpu bench's batch (20,000 students, 5
partitions) ran it about 850 times, and each full run walked every object alive, the modules
imported at start-up included (pyarrow, boto3; GX in its process). Timed with ``gc.callbacks``:
0.37 s of the task's 6 s of CPU one partition at a time, 0.50 s with 5 at once (5 partitions'
records alive); about 0.02 and 0.07 s with the settings below. The cpu bench (task and GX
process, the least of 3 runs each): 12.3 / 12.7 / 13.2 s of CPU at 1 / 2 / 5 at once before,
12.0 / 12.0 / 12.5 s after. A task's records hold no cycles (reference counting frees them), so
collecting seldom keeps nothing longer there; its peak memory did not change.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# a young collection after 20,000 more tracked objects instead of 700; the older generations as
# often as before, counted in young collections
THRESHOLDS = (20_000, 10, 10)


@contextmanager
def collecting_less(thresholds: tuple[int, int, int] | None = THRESHOLDS) -> Iterator[None]:
    """For the block: what is alive when it starts (modules, clients) is left out of every
    collection (``gc.freeze``), and young collections are rarer (``thresholds``; None: as they
    were). Both are undone after it; a freeze made before the block by someone else (a process
    that forks does) is left as it was.

    The GX process takes the freeze only: what GX builds for a validation holds cycles (the
    expectation suite and its expectations), which rarer collections kept into the next
    validation with all they refer to (its peak at 200,000 students: 306 MB; it collects after
    each validation instead, 286 MB)."""
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    if thresholds:
        gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if not frozen_before:
            gc.unfreeze()
