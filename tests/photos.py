"""Real photos for the vision tests, from scikit-image's sample data (public domain or CC0, see its README).

The pinned wheel is fetched with ``pip download --no-deps`` (never installed) and the photos the tests use are
extracted into a cache folder, each checked against its SHA-256, so later runs need no network.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from omni.types import Pixels
from tests.human_speech import default_cache_dir

REQUIREMENT = "scikit-image==0.26.0"
PHOTOS = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "camera.png": "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
    "chelsea.png": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "coffee.png": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
    "horse.png": "c7fb60789fe394c485f842291ea3b21e50d140f39d6dcb5fb9917cc178225455",
    "motorcycle_left.png": "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179",
    "rocket.jpg": "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
    "lfw_subset.npy": "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c",
    "brick.png": "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
    "grass.png": "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
    "gravel.png": "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
    "page.png": "341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3",
    "text.png": "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1",
}


def photos_dir(cache_dir: Path | None = None) -> Path:
    """A folder holding every photo in :data:`PHOTOS`, fetched on first use."""
    folder = (cache_dir or default_cache_dir()) / "skimage-photos"
    if all(_verified(folder / name, sha) for name, sha in PHOTOS.items()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--disable-pip-version-check", "-q", "-d", download, REQUIREMENT],
                       check=True, stdin=subprocess.DEVNULL)
        (wheel,) = Path(download).glob("scikit_image-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in PHOTOS:
                (folder / name).write_bytes(archive.read(f"skimage/data/{name}"))
    for name, sha in PHOTOS.items():
        if not _verified(folder / name, sha):
            raise RuntimeError(f"{folder / name} from {REQUIREMENT} is not the pinned file")
    return folder


def _verified(path: Path, sha256: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def photo(folder: Path, name: str) -> Pixels:
    """A photo of :data:`PHOTOS` as RGB pixels."""
    with Image.open(folder / name) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
