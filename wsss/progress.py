"""One progress helper (images/s and ETA), one process-parallel map and one thread prefetcher for the
whole project."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "img",
             unit_scale: float = 1) -> Iterator[T]:
    """A tqdm bar on stderr (rate and ETA); in logs (not a terminal) it updates every 10 s.

    ``unit_scale`` counts each item as that many units (e.g. a training step as ``batch`` images).
    """
    interactive = sys.stderr.isatty()
    disabled = os.environ.get("WSSS_NO_PROGRESS") == "1"
    return iter(
        tqdm(iterable, total=total, desc=desc, unit=unit, unit_scale=unit_scale if unit_scale != 1 else False,
             mininterval=0.5 if interactive else 10.0,
             dynamic_ncols=True, disable=disabled, file=sys.stderr)
    )


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def single_threaded_worker() -> None:
    """In a pool's worker process, keep each job on one thread (several threads per process, times
    one process per core, would oversubscribe the cores); the one place that sets OMP_NUM_THREADS."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if multiprocessing.parent_process() is not None:
        import torch

        torch.set_num_threads(1)


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def parallel_map(
    fn: Callable[[T], R], items: Sequence[T], workers: int = 0, desc: str = "", unit: str = "chunk",
    count_elements: bool = False,
) -> list[R]:
    """Apply ``fn`` to every item in worker processes (``workers`` 0 = all cores), in order, with progress.

    ``fn`` must be picklable (a module-level function or a functools.partial of one). With one worker
    or one item everything runs in this process, which keeps tracebacks simple in tests.
    """
    return list(parallel_imap(fn, items, workers, desc, unit, count_elements))


def parallel_imap(
    fn: Callable[[T], R], items: Sequence[T], workers: int = 0, desc: str = "", unit: str = "chunk",
    count_elements: bool = False,
) -> Iterator[R]:
    """Like :func:`parallel_map` but yields results in order as they arrive (bounded memory).
    ``count_elements``: the items are chunks (e.g. of image ids) and the bar counts their elements."""
    workers = workers or default_workers()
    if workers <= 1 or len(items) <= 1:
        yield from _counted((fn(item) for item in items), items, desc, unit, count_elements)
        return
    context = multiprocessing.get_context("spawn" if _threads_started() else "fork")
    with context.Pool(min(workers, len(items))) as pool:
        yield from _counted(pool.imap(fn, items), items, desc, unit, count_elements)


def _counted(results: Iterable[R], items: Sequence, desc: str, unit: str, count_elements: bool) -> Iterator[R]:
    sizes = [len(item) for item in items] if count_elements else [1] * len(items)
    bar = progress(range(sum(sizes)), sum(sizes), desc, unit)
    for result, size in zip(results, sizes):
        for _ in range(size):
            next(bar, None)
        yield result
    next(bar, None)  # closes the bar


def _threads_started() -> bool:
    # Forking after torch has started its thread pools can deadlock; spawn is the safe choice then.
    return "torch" in sys.modules


def prefetched(fn: Callable[[T], R], items: Iterable[T], workers: int = 0, ahead: int = 0) -> Iterator[R]:
    """``fn(item)`` for every item, in order, computed up to ``ahead`` items early in a thread pool.

    Host-side preparation (decoding, resizing, normalising: PIL and numpy release the GIL) then
    overlaps the device's work on earlier items. ``workers`` 0 = up to 8 threads; ``ahead`` 0 = twice
    the workers.
    """
    workers = workers or min(8, default_workers())
    ahead = ahead or 2 * workers
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
