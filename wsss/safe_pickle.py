"""Read ``.npy`` files that hold pickled objects (SEAM's and psa's CAM dicts) without running code.

``np.load(..., allow_pickle=True)`` lets a file name any importable callable, so a crafted file runs
code when read. Here the pickle stream is read by an unpickler that resolves only what numpy
needs to rebuild arrays, dtypes and scalars; dicts, lists, tuples, numbers and strings need no
lookup at all. Anything else stops the read with an error naming the file.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from wsss.errors import DataError

# (module, name) pairs an array pickle may reference; numpy 1.x writes numpy.core, 2.x numpy._core.
_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric")
ALLOWED = {(module, name) for module in _NUMPY_MODULES for name in ("_reconstruct", "scalar", "_frombuffer")}
ALLOWED |= {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"), ("collections", "OrderedDict")}


class RefusedObject(pickle.UnpicklingError):
    pass


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers, and nothing else."""

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED and not (module == "numpy" and name.endswith("DType")):
            raise RefusedObject(f"{module}.{name}")
        return super().find_class(module, name)


def load_npy_object(path: str | os.PathLike) -> object:
    """The object stored in a ``.npy`` file: an array, or the item of a 0-d object array (a dict)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read_header:
                raise ValueError(f"unsupported .npy version {version}")
            shape, fortran, dtype = read_header[version](handle)
            if not dtype.hasobject:
                handle.seek(0)
                return np.load(handle, allow_pickle=False)
            array = ArrayUnpickler(handle, encoding="latin1").load()
    except RefusedObject as error:
        raise DataError(f"{path}: refused: the file asks to run {error} when read (only arrays, numbers "
                        "and plain containers are read from .npy files)") from None
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, TypeError) as error:
        raise DataError(f"{path}: not a readable .npy file ({error})") from None
    if not isinstance(array, np.ndarray):
        raise DataError(f"{path}: the .npy file holds a {type(array).__name__}, not an array")
    return array.item() if array.dtype.hasobject and array.shape == () else array
