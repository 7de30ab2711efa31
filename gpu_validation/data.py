"""Data for the network validations: scikit-learn digits (default, offline), MNIST, CIFAR-10.

* ``digits``: the 1797 8×8 handwritten digits that ship inside scikit-learn (no download).
* ``mnist``: the four IDX files of MNIST in ``data_dir`` (``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally
  ``.gz``), directly in ``data_dir`` or in ``data_dir/mnist`` or ``data_dir/MNIST/raw``.
* ``cifar10``: the python batches of CIFAR-10 (``data_batch_1`` … ``data_batch_5``, ``test_batch``),
  directly in ``data_dir`` or in ``data_dir/cifar-10-batches-py``.

Nothing is ever downloaded. A dataset asked for but absent raises ``FileNotFoundError`` saying which
files go where; a malformed file raises ``ValueError`` naming the file and what is wrong with it.
Images are returned as float32 arrays of shape (N, C, H, W) with values in [0, 1].
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np

from kdtheory import validation as V

DATASETS = ("digits", "mnist", "cifar10")

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"


@dataclasses.dataclass(frozen=True)
class ImageData:
    """Train/test images (N, C, H, W) float32 in [0, 1] and integer labels."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def load(dataset: str = "digits", data_dir: str | os.PathLike | None = None, *, test_fraction: float = 0.3,
         seed: int = 0) -> ImageData:
    """Load ``dataset`` (``"digits" | "mnist" | "cifar10"``).

    ``digits`` is split into train/test deterministically by ``seed`` (``test_fraction`` of it held out);
    MNIST and CIFAR-10 keep their standard splits and need ``data_dir``.
    """
    V.one_of("dataset", dataset, DATASETS)
    test_fraction = V.scalar("test_fraction", test_fraction, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    seed = V.count("seed", seed, lo=0, strict=True)  # None would give a non-reproducible split
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path (str or os.PathLike) or None, got {type(data_dir).__name__}")
    if dataset == "digits":
        return _load_digits(test_fraction, seed)
    if data_dir is None:
        raise FileNotFoundError(f"dataset={dataset!r} needs data_dir (--data-dir DIR): {where_files_go(dataset)}")
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir {str(root)!r} is not a directory; {where_files_go(dataset)}")
    return _load_mnist(root) if dataset == "mnist" else _load_cifar10(root)


def where_files_go(dataset: str) -> str:
    """One sentence saying which files a dataset needs and where to put them."""
    V.one_of("dataset", dataset, DATASETS)
    if dataset == "mnist":
        names = ", ".join(MNIST_FILES.values())
        return (f"MNIST needs the four IDX files {names} (optionally gzipped, '.gz') directly in DATA_DIR, "
                "in DATA_DIR/mnist or in DATA_DIR/MNIST/raw")
    if dataset == "cifar10":
        return ("CIFAR-10 needs the python batches data_batch_1 … data_batch_5 and test_batch (from "
                "cifar-10-python.tar.gz, extracted) directly in DATA_DIR or in DATA_DIR/cifar-10-batches-py")
    return "digits ships with scikit-learn and needs no files"


def _load_digits(test_fraction: float, seed: int) -> ImageData:
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    d = load_digits()
    X = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return ImageData("digits", X[tr], y[tr], X[te], y[te])


# ----------------------------------------------------------------------------------------------- MNIST
def _find(root: Path, name: str, subdirs: tuple[str, ...]) -> Path | None:
    for sub in ("",) + subdirs:
        for suffix in ("", ".gz"):
            p = root / sub / (name + suffix)
            if p.is_file():
                return p
    return None


def _path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot be read ({type(exc).__name__}: {exc}; argument path)") from None


def read_idx(path: str | os.PathLike, *, expect_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (the MNIST format: magic 0x0000 0x08 ndim, big-endian int32 sizes, uint8 data)."""
    path = _path(path)
    if expect_ndim is not None:
        expect_ndim = V.count("expect_ndim", expect_ndim, hi=255)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: bad IDX magic number 0x{raw[:4].hex()} (expected 0x000008NN, unsigned bytes)")
    if expect_ndim is not None and ndim != expect_ndim:
        raise ValueError(f"{path}: IDX file has {ndim} dimensions, expected {expect_ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    n = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != n:
        raise ValueError(f"{path}: IDX header promises {dims} = {n} bytes of data, file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_mnist(root: Path) -> ImageData:
    subdirs = ("mnist", "MNIST/raw", "MNIST")
    paths = {k: _find(root, v, subdirs) for k, v in MNIST_FILES.items()}
    missing = [MNIST_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(f"MNIST files missing in {str(root)!r}: {missing}. {where_files_go('mnist')}")
    arrays = {}
    for k, p in paths.items():
        arrays[k] = read_idx(p, expect_ndim=3 if k.endswith("images") else 1)
    for split in ("train", "test"):
        xi, yi = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if xi.shape[0] != yi.shape[0]:
            raise ValueError(f"{paths[f'{split}_labels']}: {yi.shape[0]} labels for {xi.shape[0]} images in "
                             f"{paths[f'{split}_images']}")
        if yi.size and yi.max() > 9:
            raise ValueError(f"{paths[f'{split}_labels']}: label {int(yi.max())} outside 0..9")
    f = lambda a: (a.astype(np.float32) / 255.0)[:, None, :, :]  # noqa: E731
    return ImageData("mnist", f(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
                     f(arrays["test_images"]), arrays["test_labels"].astype(np.int64))


# -------------------------------------------------------------------------------------------- CIFAR-10
# A CIFAR-10 batch is a pickle; unpickling may call any global it names, so only the few that a dict of
# numpy arrays needs are allowed (numpy 1.x and 2.x module names; _codecs.encode for Python 2 bytes).
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load the global {module}.{name} (a CIFAR-10 batch holds only "
                                         "numpy arrays and lists)")
        return super().find_class(module, name)


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch: a pickled dict with ``data`` (N×3072 uint8) and ``labels``.

    The pickle is read with an unpickler that allows only numpy arrays (never arbitrary code).
    """
    path = _path(path)
    try:
        with open(path, "rb") as fh:
            d = _SafeUnpickler(fh, encoding="bytes").load()
    except OSError as exc:  # missing or unreadable file: the same ValueError as read_idx
        raise ValueError(f"{path}: cannot be read ({type(exc).__name__}: {exc}; argument path)") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError,
            IndexError, KeyError) as exc:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (unpickling failed: {type(exc).__name__}: {exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch (a {type(d).__name__}, expected a dict)")
    get = lambda k: d.get(k.encode(), d.get(k))  # noqa: E731
    data, labels = get("data"), get("labels")
    if data is None or labels is None:
        raise ValueError(f"{path}: CIFAR-10 batch lacks the 'data' or 'labels' entry (keys {sorted(map(str, d))})")
    data = np.asarray(data)
    labels = np.asarray(labels)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: 'data' has shape {data.shape}, expected (N, 3072)")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {labels.size} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path}: labels outside 0..9")
    X = (data.astype(np.float32) / 255.0).reshape(-1, 3, 32, 32)
    return X, labels.astype(np.int64)


def _load_cifar10(root: Path) -> ImageData:
    base = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root
    needed = CIFAR_TRAIN + (CIFAR_TEST,)
    missing = [n for n in needed if not (base / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 files missing in {str(base)!r}: {missing}. {where_files_go('cifar10')}")
    tr = [read_cifar_batch(base / n) for n in CIFAR_TRAIN]
    Xte, yte = read_cifar_batch(base / CIFAR_TEST)
    return ImageData("cifar10", np.concatenate([t[0] for t in tr]), np.concatenate([t[1] for t in tr]), Xte, yte)


# ------------------------------------------------------------------------------------------ transforms
def unit_norm(X: np.ndarray) -> np.ndarray:
    """Rows of the flattened ``X`` scaled to unit Euclidean norm (all-zero rows are left at zero)."""
    X = V.as_array("X", X, dtype=np.float64, min_size=1)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (N, ...) with one row per example, got {X.shape}")
    F = X.reshape(len(X), -1)
    n = np.linalg.norm(F, axis=1, keepdims=True)
    return (F / np.where(n > 0, n, 1.0)).astype(np.float32)


def two_class(data: ImageData, classes: tuple[int, int] = (0, 1), *, n_train: int | None = None,
              n_test: int | None = None, flatten: bool = True, normalize: bool = True,
              labels: str = "pm1") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A two-class subset ``(X_train, y_train, X_test, y_test)``.

    ``labels="pm1"`` gives y ∈ {−1, +1} (class ``classes[1]`` is +1), ``"01"`` gives {0, 1}. With
    ``flatten`` the inputs are (N, C·H·W) and, with ``normalize``, of unit norm (the papers' setting);
    otherwise images are kept. The first ``n_train``/``n_test`` examples of each split are taken.
    """
    if not isinstance(data, ImageData):
        raise TypeError(f"data must be an ImageData (from load), got {type(data).__name__}")
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__") or len(classes) != 2:
        raise TypeError(f"classes must be a pair (a, b) of integer labels, got {classes!r}")
    a, b = (V.count(f"classes[{i}]", c, lo=0, strict=True) for i, c in enumerate(classes))
    if a == b:
        raise ValueError(f"classes must be two different labels, got {classes}")
    n_train = None if n_train is None else V.count("n_train", n_train)
    n_test = None if n_test is None else V.count("n_test", n_test)
    flatten, normalize = V.flag("flatten", flatten), V.flag("normalize", normalize)
    V.one_of("labels", labels, ("pm1", "01"))
    for split, y in (("train", data.y_train), ("test", data.y_test)):
        absent = [c for c in (a, b) if not np.any(y == c)]
        if absent:  # a one-class "two-class" set would train on a constant label
            raise ValueError(f"classes {tuple(classes)}: label(s) {absent} absent from the {split} split of "
                             f"{data.name} (labels present: {sorted(set(np.unique(y).tolist()))})")
    out = []
    for X, y, n in ((data.X_train, data.y_train, n_train), (data.X_test, data.y_test, n_test)):
        keep = np.flatnonzero((y == a) | (y == b))
        if n is not None:
            keep = keep[:n]
        if keep.size == 0:
            raise ValueError(f"classes {classes} not present in {data.name}")
        Xs = X[keep]
        if flatten:
            Xs = unit_norm(Xs) if normalize else Xs.reshape(len(Xs), -1)
        yb = (y[keep] == b).astype(np.float32)
        out += [Xs, 2.0 * yb - 1.0 if labels == "pm1" else yb]
    return tuple(out)


def random_shift_flip(x, generator, *, max_shift: int = 1, flip: bool = False):
    """Augment a batch of images (torch tensor (B, C, H, W)) on its own device.

    Each image is shifted by an integer offset in [−max_shift, max_shift]² (zero padding) and, with
    ``flip``, mirrored left–right with probability 1/2. ``generator`` is a ``torch.Generator`` on the
    same device, so the augmentation is deterministic given its seed and never leaves the device.
    """
    import torch
    import torch.nn.functional as F

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor (B, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"x must have shape (B, C, H, W), got {tuple(x.shape)}")
    if not torch.is_floating_point(x):  # metadata only: a finiteness test would sync the device every batch
        raise TypeError(f"x must be a floating-point image batch, got dtype {x.dtype}")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    max_shift = V.count("max_shift", max_shift, lo=0, hi=min(x.shape[2], x.shape[3]), strict=True)
    flip = V.flag("flip", flip)
    B, C, H, W = x.shape
    if max_shift:
        s = max_shift
        padded = F.pad(x, (s, s, s, s))
        dx = torch.randint(0, 2 * s + 1, (B,), device=x.device, generator=generator)
        dy = torch.randint(0, 2 * s + 1, (B,), device=x.device, generator=generator)
        rows = (dy[:, None] + torch.arange(H, device=x.device)[None, :])  # (B, H)
        cols = (dx[:, None] + torch.arange(W, device=x.device)[None, :])  # (B, W)
        idx_r = rows[:, None, :, None].expand(B, C, H, W + 2 * s)
        tmp = torch.gather(padded, 2, idx_r)
        idx_c = cols[:, None, None, :].expand(B, C, H, W)
        x = torch.gather(tmp, 3, idx_c)
    if flip:
        m = torch.rand(B, device=x.device, generator=generator) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(-1), x)
    return x
