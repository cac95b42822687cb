"""The torchrun variables are read in one place, and process-wide switches are put back."""

import ast
from pathlib import Path

import pytest
import torch

from wsss.devices import rank_share
from wsss.train.engine import cudnn_benchmark
from wsss.world import World, launch_world, under_torchrun

ROOT = Path(__file__).resolve().parents[1]


def test_outside_torchrun_this_is_rank_0_of_1(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert not under_torchrun() and launch_world() == World(0, 0, 1)


def test_torchrun_variables_give_the_world_and_each_rank_a_disjoint_share(monkeypatch):
    ids = [f"img{i:03d}" for i in range(120)]
    shares = []
    for rank in range(3):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("LOCAL_RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "3")
        assert under_torchrun() and launch_world() == World(rank, rank, 3)
        shares.append(rank_share(ids)[0])
    assert sorted(sum(shares, [])) == ids and all(shares)


def test_a_bad_torchrun_variable_is_one_line(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(RuntimeError, match="WORLD_SIZE='two'"):
        launch_world()


def files_naming(*names: str) -> set[str]:
    """Project files whose code holds one of ``names`` as a string."""
    found = set()
    for path in [*ROOT.joinpath("wsss").rglob("*.py"), *ROOT.joinpath("stages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_one_module_reads_the_torchrun_variables_and_one_sets_the_thread_count():
    assert files_naming("RANK", "LOCAL_RANK", "WORLD_SIZE") == {"wsss/world.py"}
    assert files_naming("OMP_NUM_THREADS") == {"wsss/progress.py"}


def test_cudnn_kernel_search_is_on_inside_training_only():
    before = torch.backends.cudnn.benchmark
    with cudnn_benchmark(True):
        assert torch.backends.cudnn.benchmark
    assert torch.backends.cudnn.benchmark == before
    with pytest.raises(ValueError), cudnn_benchmark(True):
        raise ValueError
    assert torch.backends.cudnn.benchmark == before
