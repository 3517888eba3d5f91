"""Read a legacy (pre-zip, torch < 1.6) PyTorch state-dict file into numpy arrays, without torch.

The file is a run of pickles: a magic number, the protocol version, system info, the state dict (its tensors point
at storages through persistent ids), the list of storage keys, then each storage's element count and raw bytes.
Pickles run code on load, so the unpickler here resolves only the handful of globals a plain state dict uses, to
inert stand-ins, and refuses every other one.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_ZIP_MAGIC = b"PK\x03\x04"

# Legacy storages are written in the machine's order; torch only ever wrote these files little-endian in practice,
# and the header says so, which is checked.
_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


@dataclass
class _Storage:
    dtype: np.dtype[Any]
    size: int
    data: NDArray[Any] | None = None


@dataclass(frozen=True)
class _TensorRef:
    """A tensor as pickled: its storage is filled in only after the state dict's pickle has been read."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


@dataclass
class _Storages:
    by_key: dict[str, _Storage] = field(default_factory=dict)


def _rebuild_tensor_v2(storage: object, offset: object, shape: object, strides: object, *_rest: object) -> _TensorRef:
    if not isinstance(storage, _Storage) or not isinstance(offset, int):
        raise ValueError("torch file: malformed tensor record")
    if not isinstance(shape, tuple) or not isinstance(strides, tuple) or len(shape) != len(strides):
        raise ValueError("torch file: malformed tensor shape or strides")
    return _TensorRef(storage, offset, tuple(int(n) for n in shape), tuple(int(s) for s in strides))


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals of a plain state dict; storages come through persistent ids."""

    def __init__(self, stream: io.BytesIO, storages: _Storages) -> None:
        super().__init__(stream)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise ValueError(f"torch file: refusing to load global {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        if not isinstance(pid, tuple) or len(pid) != 6 or pid[0] != "storage":
            raise ValueError(f"torch file: unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, size, view = pid
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str) or not isinstance(size, int):
            raise ValueError("torch file: malformed storage record")
        if view is not None:
            raise ValueError("torch file: storage views are not supported")
        storage = self._storages.by_key.setdefault(key, _Storage(storage_type.dtype, size))
        if storage.dtype != storage_type.dtype or storage.size != size:
            raise ValueError(f"torch file: storage {key} is declared twice differently")
        return storage


class _PlainUnpickler(pickle.Unpickler):
    """For the header and key-list pickles, which hold only plain values: any global at all is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise ValueError(f"torch file: refusing to load global {module}.{name}")


def _load_plain(stream: io.BytesIO) -> Any:
    return _PlainUnpickler(stream).load()


def _check_header(stream: io.BytesIO) -> None:
    if _load_plain(stream) != MAGIC_NUMBER:
        raise ValueError("not a legacy torch file (wrong magic number)")
    if _load_plain(stream) != PROTOCOL_VERSION:
        raise ValueError("torch file: unsupported protocol version")
    sys_info = _load_plain(stream)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise ValueError("torch file: only little-endian files are supported")


def _read_storages(stream: io.BytesIO, storages: _Storages) -> None:
    keys = _load_plain(stream)
    if not isinstance(keys, list) or set(keys) != set(storages.by_key) or len(keys) != len(storages.by_key):
        raise ValueError("torch file: storage key list does not match the tensors")
    for key in keys:
        storage = storages.by_key[key]
        count = int.from_bytes(_read_exactly(stream, 8), "little", signed=True)
        if count != storage.size:
            raise ValueError(f"torch file: storage {key} holds {count} elements, expected {storage.size}")
        raw = _read_exactly(stream, count * storage.dtype.itemsize)
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    if stream.read(1):
        raise ValueError("torch file: unexpected bytes after the last storage")


def _read_exactly(stream: io.BytesIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise ValueError("torch file: truncated")
    return data


def _materialise(ref: _TensorRef) -> NDArray[Any]:
    data = ref.storage.data
    assert data is not None  # _read_storages filled every storage the tensors name
    if any(n < 0 for n in ref.shape) or any(s < 0 for s in ref.strides) or ref.offset < 0:
        raise ValueError("torch file: negative tensor geometry")
    if 0 in ref.shape:
        return np.zeros(ref.shape, dtype=data.dtype.newbyteorder("="))
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.strides, strict=True))
    if last >= data.size:
        raise ValueError("torch file: tensor reaches past its storage")
    itemsize = data.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        data[ref.offset :], shape=ref.shape, strides=tuple(s * itemsize for s in ref.strides), writeable=False
    )
    # A copy, so that the arrays own their memory rather than pin the whole file's bytes; scalars stay 0-d.
    return np.array(view, dtype=data.dtype.newbyteorder("="), order="C", copy=True)


def load_legacy_state_dict(data: bytes) -> dict[str, NDArray[Any]]:
    """The state dict in a legacy torch file, as name → numpy array (native byte order, contiguous copies)."""
    if data.startswith(_ZIP_MAGIC):
        raise ValueError("zip-format torch file (torch >= 1.6); only the legacy format is supported")
    stream = io.BytesIO(data)
    try:
        _check_header(stream)
        storages = _Storages()
        state = _RestrictedUnpickler(stream, storages).load()
        _read_storages(stream, storages)
        tensors_only = isinstance(state, dict) and all(isinstance(v, _TensorRef) for v in state.values())
        if not tensors_only or not all(isinstance(k, str) for k in state):
            raise ValueError("torch file: not a state dict of tensors")
        return {name: _materialise(ref) for name, ref in state.items()}
    # A damaged or hostile pickle can fail in any of these ways (calling a stand-in, bad opcode arguments).
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError, OverflowError) as error:
        raise ValueError(f"torch file: unreadable ({type(error).__name__}: {error})") from error
