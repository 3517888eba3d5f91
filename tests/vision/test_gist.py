"""The gist classifier: the restricted reader of legacy torch files (on files written here, byte by byte), the label
list, preprocessing, and EfficientNet-Lite0 itself on scikit-image's photos (``models``)."""

from __future__ import annotations

import json
import pickle
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from omni.vision.convert.efficientnet import LABELS_PATH, convert_imagenet_labels, short_label
from omni.vision.convert.torch_legacy import MAGIC_NUMBER, PROTOCOL_VERSION, load_legacy_state_dict
from omni.vision.gist import GistClassifier, preprocess
from omni.vision.scene import Guess
from tests.photos import photo

CATS = {"tabby cat", "tiger cat", "Egyptian cat"}
COFFEE = {"espresso", "cup", "coffee mug"}


# Legacy torch files, written with raw protocol-2 opcodes so that no torch (and no stand-in module) is needed.


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _str(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _tensor(kind: str, key: str, size: int, offset: int, shape: tuple[int, ...], strides: tuple[int, ...]) -> bytes:
    storage = _tuple(_str("storage"), _global("torch", kind), _str(key), _str("cpu"), _int(size), b"N") + b"Q"
    hooks = _global("collections", "OrderedDict") + b")R"
    args = _tuple(storage, _int(offset), _tuple(*map(_int, shape)), _tuple(*map(_int, strides)), b"\x89", hooks)
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def _state_dict(entries: dict[str, bytes]) -> bytes:
    items = b"".join(_str(name) + tensor for name, tensor in entries.items())
    return b"\x80\x02" + _global("collections", "OrderedDict") + b")R(" + items + b"u."


def _legacy_file(state: bytes, storages: dict[str, NDArray[np.generic]]) -> bytes:
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": True, "type_sizes": {"int": 4, "long": 4}}
    header = b"".join(pickle.dumps(value, protocol=2) for value in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info))
    keys = pickle.dumps(list(storages), protocol=2)
    raw = b"".join(
        struct.pack("<q", array.size) + array.astype(array.dtype.newbyteorder("<")).tobytes()
        for array in storages.values()
    )
    return header + state + keys + raw


def _small_file() -> bytes:
    """A float storage holding a 2x3 weight and, transposed at an offset, a 3x2 view of it; and an int64 counter."""
    floats = np.arange(8, dtype=np.float32)
    state = _state_dict(
        {
            "conv.weight": _tensor("FloatStorage", "10", 8, 0, (2, 3), (3, 1)),
            "conv.view": _tensor("FloatStorage", "10", 8, 2, (3, 2), (1, 3)),
            "bn.num_batches_tracked": _tensor("LongStorage", "11", 1, 0, (), ()),
        }
    )
    return _legacy_file(state, {"10": floats, "11": np.array([7], dtype=np.int64)})


def test_legacy_file_reads_tensors_views_and_dtypes() -> None:
    state = load_legacy_state_dict(_small_file())
    assert list(state) == ["conv.weight", "conv.view", "bn.num_batches_tracked"]
    np.testing.assert_array_equal(state["conv.weight"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(state["conv.view"], [[2, 5], [3, 6], [4, 7]])
    assert state["conv.weight"].dtype == np.float32
    assert state["bn.num_batches_tracked"].dtype == np.int64
    assert state["bn.num_batches_tracked"].shape == ()
    assert int(state["bn.num_batches_tracked"]) == 7


def test_legacy_file_refuses_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    # What a malicious checkpoint does: the state dict's pickle calls os.system while it loads.
    state = b"\x80\x02" + _global("os", "system") + _tuple(_str(f"touch {marker}")) + b"R."
    with pytest.raises(ValueError, match=r"refusing to load global os\.system"):
        load_legacy_state_dict(_legacy_file(state, {}))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"), [("builtins", "eval"), ("torch", "Tensor"), ("torch._utils", "_rebuild_parameter")]
)
def test_legacy_file_refuses_other_globals(module: str, name: str) -> None:
    state = b"\x80\x02" + _global(module, name) + b")R."
    with pytest.raises(ValueError, match=re.escape(f"refusing to load global {module}.{name}")):
        load_legacy_state_dict(_legacy_file(state, {}))


def test_legacy_file_refuses_zip_format_and_damage() -> None:
    with pytest.raises(ValueError, match="zip-format"):
        load_legacy_state_dict(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ValueError, match="magic number"):
        load_legacy_state_dict(pickle.dumps(12345, protocol=2))
    with pytest.raises(ValueError, match="truncated"):
        load_legacy_state_dict(_small_file()[:-4])
    with pytest.raises(ValueError, match="after the last storage"):
        load_legacy_state_dict(_small_file() + b"\0")
    with pytest.raises(ValueError, match="unreadable"):
        load_legacy_state_dict(_legacy_file(b"\x80\x02" + _global("torch", "FloatStorage") + b")R.", {}))
    with pytest.raises(ValueError, match="not a state dict"):
        load_legacy_state_dict(_legacy_file(pickle.dumps({"w": 1.0}, protocol=2), {}))


def test_legacy_file_refuses_a_tensor_past_its_storage() -> None:
    state = _state_dict({"w": _tensor("FloatStorage", "0", 4, 2, (2, 2), (2, 1))})
    with pytest.raises(ValueError, match="past its storage"):
        load_legacy_state_dict(_legacy_file(state, {"0": np.zeros(4, dtype=np.float32)}))


@pytest.mark.parametrize(
    ("names", "label"),
    [
        ("tabby, tabby cat", "tabby cat"),
        ("hammerhead, hammerhead shark", "hammerhead shark"),
        ("mouse, computer mouse", "computer mouse"),
        ("goldfish, Carassius auratus", "goldfish"),
        ("great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias", "great white shark"),
        ("Samoyed, Samoyede", "Samoyed"),
        ("dingo, warrigal, warragal, Canis dingo", "dingo"),
        ("gorilla, Gorilla gorilla", "gorilla"),
        ("German shepherd, German shepherd dog, German police dog, alsatian", "German shepherd"),
        ("bow", "bow"),
        ("espresso", "espresso"),
    ],
)
def test_short_label_is_the_plain_name(names: str, label: str) -> None:
    assert short_label(names) == label


def _classes_js(names: list[str]) -> bytes:
    entries = "".join(f"    {i}: '{name[:5]}' +\n        '{name[5:]}',\n" for i, name in enumerate(names))
    return f'"use strict";\nexports.IMAGENET_CLASSES = {{\n{entries}}};\n'.encode()


def test_labels_convert_in_order_with_escapes_and_concatenation() -> None:
    names = [f"class number {i}, synonym" for i in range(1000)]
    names[3] = "jack-o\\'-lantern"
    files = {LABELS_PATH: _classes_js(names)}
    converted = convert_imagenet_labels(files.__getitem__)
    labels = json.loads(converted)
    assert len(labels) == 1000
    assert labels[0] == "class number 0"
    assert labels[3] == "jack-o'-lantern"
    assert labels[999] == "class number 999"
    assert convert_imagenet_labels(files.__getitem__) == converted


def test_labels_refuse_a_short_list() -> None:
    files = {LABELS_PATH: _classes_js(["cat"] * 999)}
    with pytest.raises(ValueError, match=re.escape("expected keys 0..999")):
        convert_imagenet_labels(files.__getitem__)


def test_preprocess_crops_the_centre_and_normalises() -> None:
    rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    rgb[:, 320:] = 255  # right half white: the centre crop is half black, half white
    x = preprocess(rgb)
    assert x.shape == (1, 3, 224, 224)
    assert x.dtype == np.float32
    assert x[0, :, :, :100].max() == pytest.approx(-127 / 128)
    assert x[0, :, :, 124:].min() == pytest.approx(128 / 128)


@pytest.mark.parametrize("shape", [(10, 10), (10, 10, 4), (0, 10, 3)])
def test_preprocess_refuses_what_is_not_an_rgb_image(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        preprocess(np.zeros(shape, dtype=np.uint8))



@pytest.mark.models
def test_labels_line_up_with_the_model(classifier: GistClassifier) -> None:
    assert len(classifier.labels) == 1000
    assert classifier.labels[281] == "tabby cat"
    assert classifier.labels[967] == "espresso"


@pytest.mark.models
def test_a_tabby_cat_is_a_cat(classifier: GistClassifier, skimage_photos: Path) -> None:
    guesses = classifier.classify(photo(skimage_photos, "chelsea.png"))
    assert guesses[0].label in CATS
    assert sum(guess.confidence for guess in guesses if guess.label in CATS) > 0.8


@pytest.mark.models
def test_coffee_is_coffee(classifier: GistClassifier, skimage_photos: Path) -> None:
    guesses = classifier.classify(photo(skimage_photos, "coffee.png"))
    assert COFFEE & {guess.label for guess in guesses}
    assert guesses[0].label in COFFEE
    assert guesses[0].confidence > 0.5


@pytest.mark.models
def test_guesses_are_ordered_probabilities(classifier: GistClassifier, skimage_photos: Path) -> None:
    guesses = classifier.classify(photo(skimage_photos, "motorcycle_left.png"), top=5)
    assert len(guesses) == 5
    assert all(isinstance(guess, Guess) for guess in guesses)
    confidences = [guess.confidence for guess in guesses]
    assert confidences == sorted(confidences, reverse=True)
    assert 0 < sum(confidences) <= 1 + 1e-6
    assert len({guess.label for guess in guesses}) == 5
