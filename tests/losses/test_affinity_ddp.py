"""Under DDP the AffinityNet loss must give the gradient single-process training gives."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from wsss.losses.affinity import affinity_loss


def batch():
    g = torch.Generator().manual_seed(0)
    affinity = torch.rand(4, 3, 20, generator=g) * 0.98 + 0.01
    masks = torch.randint(0, 4, (4, 3, 20), generator=g)
    # Uneven counts per image, so per-rank normalisation would differ from the global one.
    masks[:2][masks[:2] == 1] = 3
    return affinity, (masks == 1).float(), (masks == 2).float(), (masks == 3).float()


def _worker(rank: int, world: int, port: int, out) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    affinity, bg, fg, neg = batch()
    part = slice(rank * 2, rank * 2 + 2)
    a = affinity[part].clone().requires_grad_(True)
    affinity_loss(a, bg[part], fg[part], neg[part])["loss"].backward()
    # What DDP does with parameter gradients: average over ranks.
    grad = torch.zeros_like(affinity)
    grad[part] = a.grad
    dist.all_reduce(grad)
    out[rank] = grad / world
    dist.destroy_process_group()


def test_ddp_gradient_equals_single_process():
    affinity, bg, fg, neg = batch()
    a = affinity.clone().requires_grad_(True)
    affinity_loss(a, bg, fg, neg)["loss"].backward()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manager = mp.get_context("spawn").Manager()
    out = manager.dict()
    mp.spawn(_worker, args=(2, port, out), nprocs=2, join=True)
    torch.testing.assert_close(out[0], a.grad)
    torch.testing.assert_close(out[1], a.grad)
