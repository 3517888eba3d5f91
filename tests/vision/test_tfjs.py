"""The TensorFlow.js-to-ONNX converter on tiny graph models written here, each compared with numpy (or OpenCV) doing
what TensorFlow's ops do; no real model is needed."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import pytest
from numpy.typing import NDArray

from omni.vision.convert.tfjs import tfjs_to_onnx

Array = NDArray[np.float32]
RNG = np.random.default_rng(7)
# Untyped; used through a few calls.
onnxruntime: Any = importlib.import_module("onnxruntime")


# Graph-model json, written the way the TensorFlow.js converter writes it.


def _s(text: str) -> dict[str, Any]:
    return {"s": base64.b64encode(text.encode()).decode()}


def _ints(values: Sequence[int]) -> dict[str, Any]:
    return {"list": {"i": [str(value) for value in values]}}


def _node(name: str, op: str, inputs: Sequence[str] = (), **attr: Any) -> dict[str, Any]:
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


def _placeholder(name: str, shape: Sequence[int]) -> dict[str, Any]:
    dims = [{"size": str(size)} for size in shape]
    return _node(name, "Placeholder", shape={"shape": {"dim": dims}}, dtype={"type": "DT_FLOAT"})


def _conv_attrs(strides: Sequence[int], padding: str) -> dict[str, Any]:
    return {"strides": _ints([1, *strides, 1]), "padding": _s(padding), "data_format": _s("NHWC")}


def _package(
    nodes: list[dict[str, Any]],
    weights: dict[str, NDArray[Any]],
    *,
    shards: int = 1,
    float16: Sequence[str] = (),
) -> dict[str, bytes]:
    """The files of a package holding the model in ``pkg/model``: json plus weights split over ``shards`` files."""
    specs, data = [], b""
    for name, value in weights.items():
        spec: dict[str, Any] = {"name": name, "shape": list(value.shape), "dtype": str(value.dtype)}
        if name in float16:
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            value = value.astype("<f2")
        specs.append(spec)
        data += value.astype(value.dtype.newbyteorder("<")).tobytes()
    cut = -(-len(data) // shards)
    paths = [f"group1-shard{i + 1}of{shards}.bin" for i in range(shards)]
    consts = [_node(name, "Const") for name in weights]
    model = {
        "format": "graph-model",
        "modelTopology": {"node": consts + nodes},
        "weightsManifest": [{"paths": paths, "weights": specs}],
    }
    files = {f"pkg/model/{path}": data[i * cut : (i + 1) * cut] for i, path in enumerate(paths)}
    files["pkg/model/model.json"] = json.dumps(model).encode()
    return files


def _convert(files: dict[str, bytes], names: dict[str, str] | None = None) -> bytes:
    return tfjs_to_onnx(files["pkg/model/model.json"], files.__getitem__, base="pkg/model", names=names)


def _run(model: bytes, feeds: dict[str, Array]) -> dict[str, Array]:
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds), strict=True))


# What TensorFlow computes, written plainly.


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _reference_conv(x: Array, kernel: Array, stride: int, padding: str, *, depthwise: bool = False) -> Array:
    """TensorFlow's NHWC convolution: kernel HWIO, or H x W x C x multiplier when depthwise."""
    kh, kw = kernel.shape[:2]
    if padding == "SAME":
        x = np.pad(x, ((0, 0), _same_padding(x.shape[1], kh, stride), _same_padding(x.shape[2], kw, stride), (0, 0)))
    out_h, out_w = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    channels = kernel.shape[2] * kernel.shape[3] if depthwise else kernel.shape[3]
    out = np.zeros((x.shape[0], out_h, out_w, channels))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + stride * out_h : stride, j : j + stride * out_w : stride, :]
            if depthwise:
                out += (patch[..., None] * kernel[i, j]).reshape(out.shape)
            else:
                out += patch @ kernel[i, j]
    return out.astype(np.float32)


def test_conv_bias_relu_matches_numpy() -> None:
    x = RNG.standard_normal((2, 9, 11, 3)).astype(np.float32)
    kernel = RNG.standard_normal((3, 3, 3, 5)).astype(np.float32)
    bias = RNG.standard_normal(5).astype(np.float32)
    nodes = [
        _placeholder("x", [-1, 9, 11, 3]),
        _node("conv", "Conv2D", ["x", "kernel"], **_conv_attrs([2, 2], "SAME")),
        _node("biased", "AddV2", ["conv", "bias"]),
        _node("out", "Relu", ["biased"]),
    ]
    model = _convert(_package(nodes, {"kernel": kernel, "bias": bias}))
    expected = np.maximum(_reference_conv(x, kernel, 2, "SAME") + bias, 0)
    np.testing.assert_allclose(_run(model, {"x": x})["out"], expected, rtol=1e-5, atol=1e-5)


def test_fused_conv_and_depthwise_conv_match_numpy() -> None:
    x = RNG.standard_normal((1, 8, 8, 4)).astype(np.float32)
    depthwise = RNG.standard_normal((3, 3, 4, 2)).astype(np.float32)
    pointwise = RNG.standard_normal((1, 1, 8, 6)).astype(np.float32)
    bias = RNG.standard_normal(6).astype(np.float32)
    fused = {"fused_ops": {"list": {"s": [_s("BiasAdd")["s"], _s("LeakyRelu")["s"]]}}, "leakyrelu_alpha": {"f": 0.1}}
    nodes = [
        _placeholder("x", [1, 8, 8, 4]),
        _node("dw", "DepthwiseConv2dNative", ["x", "depthwise"], **_conv_attrs([1, 1], "VALID")),
        _node("out", "_FusedConv2D", ["dw", "pointwise", "bias"], **_conv_attrs([1, 1], "VALID"), **fused),
    ]
    model = _convert(_package(nodes, {"depthwise": depthwise, "pointwise": pointwise, "bias": bias}))
    y = _reference_conv(_reference_conv(x, depthwise, 1, "VALID", depthwise=True), pointwise, 1, "VALID") + bias
    np.testing.assert_allclose(_run(model, {"x": x})["out"], np.where(y > 0, y, 0.1 * y), rtol=1e-5, atol=1e-5)


def test_channels_first_graph_keeps_no_transpose_pairs() -> None:
    """An ONNX-born graph (NCHW data, transposed around each NHWC op) converts with its transposes cancelled."""
    x = RNG.standard_normal((1, 2, 6, 6)).astype(np.float32)
    kernel = RNG.standard_normal((3, 3, 2, 2)).astype(np.float32)
    to_nhwc, to_nchw = np.array([0, 2, 3, 1], np.int32), np.array([0, 3, 1, 2], np.int32)
    pool = {"ksize": _ints([1, 2, 2, 1]), "strides": _ints([1, 2, 2, 1]), "padding": _s("VALID")}
    nodes = [
        _placeholder("x", [1, 2, 6, 6]),
        _node("pad", "Pad", ["x", "paddings"]),
        _node("t1", "Transpose", ["pad", "to_nhwc"]),
        _node("conv", "Conv2D", ["t1", "kernel"], **_conv_attrs([1, 1], "VALID")),
        _node("t2", "Transpose", ["conv", "to_nchw"]),
        _node("t3", "Transpose", ["t2", "to_nhwc"]),
        _node("pool", "MaxPool", ["t3"], **pool),
        _node("out", "Transpose", ["pool", "to_nchw"]),
    ]
    paddings = np.array([[0, 0], [0, 0], [1, 1], [1, 1]], np.int32)
    weights = {"kernel": kernel, "paddings": paddings, "to_nhwc": to_nhwc, "to_nchw": to_nchw}
    model = _convert(_package(nodes, weights))
    conv = _reference_conv(np.pad(x, paddings).transpose(0, 2, 3, 1), kernel, 1, "VALID")
    expected = conv.reshape(1, 3, 2, 3, 2, 2).max(axis=(2, 4)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(_run(model, {"x": x})["out"], expected, rtol=1e-5, atol=1e-5)
    # The last transpose undoes the pool's own, leaving an Identity only to name the output.
    assert [node.op_type for node in onnx.load_from_string(model).graph.node] == ["Pad", "Conv", "MaxPool", "Identity"]


def _resized(x: Array, *, half_pixel: bool) -> Array:
    """``x`` (1 x 4 x 5 x C) doubled by a ResizeBilinear node."""
    nodes = [
        _placeholder("x", list(x.shape)),
        _node("out", "ResizeBilinear", ["x", "size"], half_pixel_centers={"b": half_pixel}, align_corners={"b": False}),
    ]
    return _run(_convert(_package(nodes, {"size": np.array([8, 10], np.int32)})), {"x": x})["out"]


def test_resize_bilinear_with_half_pixel_centres_is_opencvs() -> None:
    x = RNG.standard_normal((1, 4, 5, 3)).astype(np.float32)
    expected = cv2.resize(x[0], (10, 8), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(_resized(x, half_pixel=True)[0], expected, rtol=1e-5, atol=1e-5)


def test_legacy_resize_bilinear_samples_from_the_corner() -> None:
    """Without half-pixel centres an output pixel reads the source at (its index / 2): even ones are source pixels."""
    x = RNG.standard_normal((1, 4, 5, 3)).astype(np.float32)
    resized = _resized(x, half_pixel=False)
    np.testing.assert_allclose(resized[:, ::2, ::2], x, rtol=1e-6)
    np.testing.assert_allclose(resized[:, 1:-1:2, ::2], (x[:, :-1] + x[:, 1:]) / 2, rtol=1e-5, atol=1e-6)


def test_float16_weights_over_shards_and_shape_arithmetic_fold() -> None:
    """Weights quantised to float16 and split over shards decode; SparseToDense into a Reshape's shape folds away."""
    x = RNG.standard_normal((1, 6, 4)).astype(np.float32)
    scale = RNG.standard_normal(4).astype(np.float32)
    nodes = [
        _placeholder("x", [1, 6, 4]),
        _node("scaled", "Mul", ["x", "scale"]),
        _node("zeros", "SparseToDense", ["where", "rank", "values", "zero"]),
        _node("shape", "AddV2", ["base_shape", "zeros"]),
        _node("reshaped", "Reshape", ["scaled", "shape"]),
        _node("parts", "SplitV", ["reshaped", "sizes", "axis"], num_split={"i": "2"}),
        _node("first", "Sigmoid", ["parts"]),
        _node("out", "ConcatV2", ["first", "parts:1", "axis"]),
    ]
    weights = {
        "scale": scale,
        "where": np.zeros((0, 1), np.int32),
        "rank": np.array([2], np.int32),
        "values": np.zeros(0, np.int32),
        "zero": np.array(0, np.int32),
        "base_shape": np.array([-1, 8], np.int32),
        "sizes": np.array([3, 5], np.int32),
        "axis": np.array(1, np.int32),
    }
    model = _convert(_package(nodes, weights, shards=3, float16=["scale"]))
    y = (x * scale.astype(np.float16).astype(np.float32)).reshape(-1, 8)
    expected = np.concatenate([1 / (1 + np.exp(-y[:, :3])), y[:, 3:]], axis=1)
    np.testing.assert_allclose(_run(model, {"x": x})["out"], expected, rtol=1e-5, atol=1e-6)
    ops = {node.op_type for node in onnx.load_from_string(model).graph.node}
    assert ops == {"Mul", "Reshape", "Split", "Sigmoid", "Concat"}


def _mean_softmax_package() -> dict[str, bytes]:
    nodes = [
        _placeholder("input_1", [-1, 4, 4, 3]),
        _node("mean", "Mean", ["input_1", "axes"], keep_dims={"b": False}),
        _node("Identity", "Softmax", ["mean"]),
    ]
    return _package(nodes, {"axes": np.array([1, 2], np.int32)})


def test_mean_softmax_renamed_and_batched() -> None:
    x = RNG.standard_normal((5, 4, 4, 3)).astype(np.float32)
    model = _convert(_mean_softmax_package(), {"input_1": "face", "Identity": "expressions"})
    means = x.mean(axis=(1, 2))
    expected = np.exp(means) / np.exp(means).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(_run(model, {"face": x})["expressions"], expected, rtol=1e-5, atol=1e-6)


_CONVERT_AND_HASH = """
import hashlib, sys
from pathlib import Path
from omni.vision.convert.tfjs import tfjs_to_onnx
root = Path(sys.argv[1])
def read(path):
    return (root / path).read_bytes()
print(hashlib.sha256(tfjs_to_onnx(read("pkg/model/model.json"), read, base="pkg/model")).hexdigest())
"""


def test_conversion_is_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    """The install step pins the converted file's SHA-256, so string hashing (which differs per process) must not
    leak into the output."""
    for path, data in _mean_softmax_package().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    digests = {
        subprocess.run(
            [sys.executable, "-c", _CONVERT_AND_HASH, str(tmp_path)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {hashlib.sha256(_convert(_mean_softmax_package())).hexdigest()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda nodes: nodes.append(_node("odd", "Cumsum", ["x"])), "unsupported TensorFlow.js op 'Cumsum'"),
        (lambda nodes: nodes.append(_node("lost", "Relu", ["nowhere"])), "'nowhere', which no node makes"),
        (lambda nodes: nodes.append(_node("v", "Reshape", ["x", "x"])), "'x' must be a constant"),
    ],
)
def test_unsupported_graphs_are_refused_by_name(change: Callable[[list[dict[str, Any]]], None], message: str) -> None:
    nodes = [_placeholder("x", [1, 2])]
    change(nodes)
    with pytest.raises(ValueError, match=re.escape(message)):
        _convert(_package(nodes, {}))


def test_weights_must_fill_their_shards() -> None:
    files = _package([_placeholder("x", [1, 2]), _node("out", "Mul", ["x", "w"])], {"w": np.ones(2, np.float32)})
    files["pkg/model/group1-shard1of1.bin"] += b"\0\0\0\0"
    with pytest.raises(ValueError, match="hold 12 bytes, the manifest 8"):
        _convert(files)
