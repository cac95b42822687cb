"""Checkpoint interop without the original frameworks.

- MXNet ``.params`` files (NDArray list container) are parsed directly — the ResNet-38 ImageNet
  weights ``ilsvrc-cls_rna-a1_cls1000_ep-0001.params`` that psa/SEAM ask for load without MXNet.
- Their key names are mapped onto ResNet-38's module names (psa's ``convert_mxnet_to_torch`` rules).
- State dicts saved by the original SEAM code (``resnet38_SEAM.pth``) map onto :class:`SeamNet`.

Original SEAM key layout → wsss: backbone keys (``conv1a.*``, ``b2.*`` … ``b7.*``, ``bn7.*``) gain the
prefix ``backbone.``; head keys ``fc8``, ``f8_3``, ``f8_4``, ``f9`` keep their names.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import torch
from torch import nn

from wsss.errors import CheckpointError
from wsss.models.checkpoint import load_plain

LIST_MAGIC = 0x112
NDARRAY_V1_MAGIC = 0xF993FAC8
NDARRAY_V2_MAGIC = 0xF993FAC9
MX_DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8, 6: np.int64}
HEAD_KEYS = ("fc8", "f8_3", "f8_4", "f9", "f8_5")


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise CheckpointError(f"{self.path}: truncated MXNet file at byte {self.pos}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise CheckpointError(f"{self.path}: truncated MXNet file at byte {self.pos}")
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out


def _read_ndarray(r: _Reader) -> np.ndarray:
    magic = r.take("<I")
    if magic == NDARRAY_V2_MAGIC:
        storage = r.take("<i")
        if storage not in (0, -1):
            raise CheckpointError(f"{r.path}: sparse NDArrays (storage type {storage}) are not supported")
        ndim = r.take("<I")
        shape = r.take(f"<{ndim}q") if ndim else ()
    elif magic == NDARRAY_V1_MAGIC:
        ndim = r.take("<I")
        shape = r.take(f"<{ndim}q") if ndim else ()
    else:  # legacy layout: the first word is the number of dimensions, dims are uint32
        ndim = magic
        if ndim > 32:
            raise CheckpointError(f"{r.path}: not an MXNet NDArray (bad header {magic:#x})")
        shape = r.take(f"<{ndim}I") if ndim else ()
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if ndim == 0:
        return np.zeros((0,), np.float32)
    r.take("<ii")  # context: device type, device id
    type_flag = r.take("<i")
    if type_flag not in MX_DTYPES:
        raise CheckpointError(f"{r.path}: unknown MXNet dtype flag {type_flag}")
    dtype = np.dtype(MX_DTYPES[type_flag])
    count = int(np.prod(shape))
    return np.frombuffer(r.raw(count * dtype.itemsize), dtype=dtype).reshape(shape).copy()


def read_mxnet_params(path: str | Path) -> dict[str, np.ndarray]:
    """{name: array} from an MXNet ``.params``/``nd.save`` file (legacy, V1 and V2 dense NDArrays)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: MXNet params file not found")
    r = _Reader(path.read_bytes(), path)
    header, _reserved = r.take("<QQ")
    if header != LIST_MAGIC:
        raise CheckpointError(f"{path}: not an MXNet NDArray file (header {header:#x})")
    arrays = [_read_ndarray(r) for _ in range(r.take("<Q"))]
    names = [r.raw(r.take("<Q")).decode("utf-8") for _ in range(r.take("<Q"))]
    if len(names) != len(arrays):
        raise CheckpointError(f"{path}: {len(arrays)} arrays but {len(names)} names")
    return dict(zip(names, arrays))


def write_mxnet_params(path: str | Path, arrays: dict[str, np.ndarray], version: int = 2) -> None:
    """Write the same container (used by tests and to hand weights back to MXNet users)."""
    flags = {np.dtype(v): k for k, v in MX_DTYPES.items()}
    out = [struct.pack("<QQ", LIST_MAGIC, 0), struct.pack("<Q", len(arrays))]
    for array in arrays.values():
        array = np.ascontiguousarray(array)
        if version == 2:
            out.append(struct.pack("<Ii", NDARRAY_V2_MAGIC, 0))
            out.append(struct.pack(f"<I{array.ndim}q", array.ndim, *array.shape))
        elif version == 1:
            out.append(struct.pack(f"<II{array.ndim}q", NDARRAY_V1_MAGIC, array.ndim, *array.shape))
        else:
            out.append(struct.pack(f"<I{array.ndim}I", array.ndim, *array.shape))
        out.append(struct.pack("<iii", 1, 0, flags[array.dtype]))
        out.append(array.tobytes())
    out.append(struct.pack("<Q", len(arrays)))
    for name in arrays:
        encoded = name.encode("utf-8")
        out.append(struct.pack("<Q", len(encoded)) + encoded)
    Path(path).write_bytes(b"".join(out))


_BN_SUFFIX = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_var": "running_var"}


def mxnet_key_to_resnet38(key: str) -> str | None:
    """``arg:res4b5_branch2a_weight`` → ``b4_5.conv_branch2a.weight``; ``None`` for the ImageNet classifier."""
    name = key.split(":", 1)[-1]
    if name.startswith("linear1000") or name.startswith("fc1000"):
        return None
    if name.startswith("conv1a"):
        return "conv1a.weight"
    match = re.fullmatch(r"(res|bn)(\d)([a-z])(\d*)_(branch\w+?)_(weight|gamma|beta|moving_mean|moving_var)", name)
    if match:
        kind, stage, letter, index, branch, param = match.groups()
        block = f"b{stage}" if letter == "a" else f"b{stage}_{index}"
        if kind == "res":
            return f"{block}.conv_{branch}.weight"
        return f"{block}.bn_{branch}.{_BN_SUFFIX[param]}"
    match = re.fullmatch(r"bn7_(gamma|beta|moving_mean|moving_var)", name)
    if match:
        return f"bn7.{_BN_SUFFIX[match.group(1)]}"
    raise CheckpointError(f"unexpected key {key!r} in ResNet-38 MXNet weights")


def resnet38_state_from_mxnet(path: str | Path) -> dict[str, torch.Tensor]:
    state = {}
    for key, array in read_mxnet_params(path).items():
        target = mxnet_key_to_resnet38(key)
        if target is not None:
            state[target] = torch.from_numpy(array.astype(np.float32))
    return state


def load_resnet38_weights(model: nn.Module, path: str | Path) -> None:
    """ImageNet weights from the MXNet ``.params`` file or a ``.pth`` in the original key layout."""
    path = Path(path)
    if path.suffix == ".params":
        state = resnet38_state_from_mxnet(path)
    else:
        if not path.is_file():
            raise CheckpointError(f"{path}: weights file not found")
        state = load_plain(path, "ResNet-38 weights")
        state = {k: v for k, v in state.items() if not k.startswith(HEAD_KEYS) and not k.startswith("fc")}
    own = model.state_dict()
    unknown = [k for k in state if k not in own]
    if unknown:
        raise CheckpointError(f"{path}: keys that are not in ResNet-38: {unknown[:5]}")
    bad = [k for k, v in state.items() if own[k].shape != v.shape]
    if bad:
        raise CheckpointError(f"{path}: shape mismatch for {bad[:5]}")
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise CheckpointError(f"{path}: ResNet-38 weights missing {len(missing)} tensors, e.g. {missing[:3]}")
    model.load_state_dict(state, strict=False)


def import_original_seam(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original SEAM ``resnet38_SEAM.pth`` keys → :class:`SeamNet` keys (``module.`` prefixes dropped)."""
    out = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        out[key if key.startswith(HEAD_KEYS) else f"backbone.{key}"] = value
    return out


def export_original_seam(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k.removeprefix("backbone."): v for k, v in state.items() if not k.endswith("num_batches_tracked")}
