"""Loaders on tiny files written by the tests (IDX and CIFAR pickle formats), malformed files, transforms."""

import gzip
import pickle
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gpu_validation import data  # noqa: E402


def write_idx(path, arr, *, gz=False):
    arr = np.asarray(arr, dtype=np.uint8)
    raw = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


def make_mnist(root, n_train=6, n_test=4, gz=False, rng=None):
    rng = rng or np.random.default_rng(0)
    tr = rng.integers(0, 256, size=(n_train, 28, 28))
    te = rng.integers(0, 256, size=(n_test, 28, 28))
    ytr, yte = rng.integers(0, 10, n_train), rng.integers(0, 10, n_test)
    write_idx(root / "train-images-idx3-ubyte", tr, gz=gz)
    write_idx(root / "train-labels-idx1-ubyte", ytr, gz=gz)
    write_idx(root / "t10k-images-idx3-ubyte", te, gz=gz)
    write_idx(root / "t10k-labels-idx1-ubyte", yte, gz=gz)
    return tr, ytr, te, yte


def make_cifar(root, n=3):
    rng = np.random.default_rng(1)
    batches = {}
    for name in data.CIFAR_TRAIN + (data.CIFAR_TEST,):
        d = {b"data": rng.integers(0, 256, size=(n, 3072)).astype(np.uint8), b"labels": list(rng.integers(0, 10, n))}
        with open(root / name, "wb") as fh:
            pickle.dump(d, fh)
        batches[name] = d
    return batches


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_roundtrip(tmp_path, gz):
    tr, ytr, te, yte = make_mnist(tmp_path, gz=gz)
    d = data.load("mnist", tmp_path)
    assert d.X_train.shape == (6, 1, 28, 28) and d.X_test.shape == (4, 1, 28, 28)
    np.testing.assert_allclose(d.X_train[:, 0] * 255.0, tr, atol=1e-3)
    np.testing.assert_array_equal(d.y_test, yte)


def test_mnist_in_subdir(tmp_path):
    sub = tmp_path / "MNIST" / "raw"
    sub.mkdir(parents=True)
    make_mnist(sub)
    assert data.load("mnist", tmp_path).X_train.shape[0] == 6


def test_mnist_missing_says_which_files(tmp_path):
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        data.load("mnist", tmp_path)
    with pytest.raises(FileNotFoundError, match="data_dir"):
        data.load("mnist", None)


def test_mnist_malformed_names_file(tmp_path):
    make_mnist(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 6, 28, 28) + b"\x00" * 10)  # truncated data
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*promises"):
        data.load("mnist", tmp_path)
    p.write_bytes(b"PK\x03\x04garbage")  # wrong magic
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*magic"):
        data.load("mnist", tmp_path)


def test_mnist_label_count_mismatch(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5))
    with pytest.raises(ValueError, match="5 labels for 6 images"):
        data.load("mnist", tmp_path)


def test_cifar_roundtrip(tmp_path):
    b = make_cifar(tmp_path)
    d = data.load("cifar10", tmp_path)
    assert d.X_train.shape == (15, 3, 32, 32) and d.X_test.shape == (3, 3, 32, 32)
    first = b["data_batch_1"][b"data"][0].reshape(3, 32, 32)
    np.testing.assert_allclose(d.X_train[0] * 255.0, first, atol=1e-3)
    np.testing.assert_array_equal(d.y_test, b["test_batch"][b"labels"])


def test_cifar_missing_and_malformed(tmp_path):
    make_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        data.load("cifar10", tmp_path)
    (tmp_path / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="data_batch_3.*not a CIFAR-10"):
        data.load("cifar10", tmp_path)
    with open(tmp_path / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(ValueError, match=r"data_batch_3.*\(N, 3072\)"):
        data.load("cifar10", tmp_path)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="dataset"):
        data.load("imagenet")


def test_digits_split_and_two_class():
    d = data.load("digits")
    assert d.X_train.shape[1:] == (1, 8, 8) and len(d.X_train) + len(d.X_test) == 1797
    assert 0.0 <= d.X_train.min() and d.X_train.max() <= 1.0
    Xtr, ytr, Xte, yte = data.two_class(d, (3, 8), n_train=40)
    assert Xtr.shape == (40, 64) and set(np.unique(ytr)) <= {-1.0, 1.0}
    np.testing.assert_allclose(np.linalg.norm(Xtr, axis=1), 1.0, rtol=1e-5)
    # +1 is exactly class 8
    keep = np.flatnonzero((d.y_train == 3) | (d.y_train == 8))[:40]
    np.testing.assert_array_equal(ytr == 1.0, d.y_train[keep] == 8)
    with pytest.raises(ValueError, match="classes"):
        data.two_class(d, (3, 3))


def test_shift_flip_is_a_permutation_with_zero_fill():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).reshape(2, 1, 5, 5) + 1
    y = data.random_shift_flip(x, g, max_shift=1, flip=True)
    for i in range(2):
        vals = set(y[i].flatten().tolist()) - {0.0}
        assert vals <= set(x[i].flatten().tolist())
        assert len(vals) >= 16  # a 1-pixel shift keeps at least a 4×4 block
    assert torch.equal(data.random_shift_flip(x, torch.Generator().manual_seed(0), max_shift=0), x)
    with pytest.raises(ValueError, match="x must have shape"):
        data.random_shift_flip(x[0], g)


def test_absent_datasets_say_which_files_go_where(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.*MNIST/raw"):
        data.load("mnist", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"data_batch_1.*test_batch.*cifar-10-batches-py"):
        data.load("cifar10", tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        data.load("cifar10", tmp_path / "nowhere")


def test_more_malformed_files_name_the_file_and_the_fault(tmp_path):
    make_mnist(tmp_path, gz=True)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: cannot be read"):
        data.load("mnist", tmp_path)
    make_mnist(tmp_path, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(6, 11), gz=True)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: label 11 outside 0\.\.9"):
        data.load("mnist", tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((6, 2)), gz=True)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: IDX file has 2 dimensions, expected 1"):
        data.load("mnist", tmp_path)

    make_cifar(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump([1, 2, 3], fh)
    with pytest.raises(ValueError, match="test_batch.*a list, expected a dict"):
        data.load("cifar10", tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8)}, fh)
    with pytest.raises(ValueError, match="test_batch.*lacks the 'data' or 'labels'"):
        data.load("cifar10", tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, fh)
    with pytest.raises(ValueError, match="test_batch: labels outside 0..9"):
        data.load("cifar10", tmp_path)


class _Evil:
    def __reduce__(self):
        import os

        return (os.getcwd, ())


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_reader_runs_no_code_but_reads_numpy_pickles(tmp_path, protocol):
    p = tmp_path / "data_batch_1"
    d = {b"data": np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072) % 256, b"labels": [3, 7]}
    p.write_bytes(pickle.dumps({k: (v.astype(np.uint8) if k == b"data" else v) for k, v in d.items()},
                               protocol=protocol))
    X, y = data.read_cifar_batch(p)
    np.testing.assert_allclose(X.reshape(2, -1) * 255.0, d[b"data"], atol=1e-3)
    np.testing.assert_array_equal(y, [3, 7])
    p.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": [0]}, protocol=protocol))
    with pytest.raises(ValueError, match=r"data_batch_1.*refusing to load the global posix\.getcwd|data_batch_1.*refusing"):
        data.read_cifar_batch(p)


def test_shift_moves_the_image_by_the_drawn_offset():
    """With max_shift = 1 every output is one of the 9 zero-filled shifts of its input (checked by numpy)."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(6, 2, 5, 5, generator=g) + 0.1
    y = data.random_shift_flip(x, g, max_shift=1).numpy()
    xn = x.numpy()

    def shifted(a, dy, dx):
        p = np.pad(a, ((0, 0), (1, 1), (1, 1)))
        return p[:, 1 + dy:6 + dy, 1 + dx:6 + dx]

    for i in range(6):
        assert any(np.array_equal(y[i], shifted(xn[i], dy, dx)) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    flipped = data.random_shift_flip(x, torch.Generator().manual_seed(0), max_shift=0, flip=True).numpy()
    for i in range(6):
        assert np.array_equal(flipped[i], xn[i]) or np.array_equal(flipped[i], xn[i][..., ::-1])
    assert not np.array_equal(flipped, xn)  # some image was mirrored (p = 1/2 each, 6 images; seed 0)
