"""Course mode's snapshot tests (CS336's convention): expected outputs, made from the reference tree
with seeded random inputs, stored as small .npz files in tests/course/snapshots/.

    snapshot.check(name, y=..., cache=...)    compare every array with the stored one

Tolerance (chosen on purpose): float arrays must agree to rtol = 1e-4, atol = 1e-5. The reference's
float32 results move by ~1e-7 relative between CPUs and XLA versions (sums reassociate, another vector
width) and by more after a chain of layers (a transformer's logits), which this leaves room for; a real
mistake changes them by far more (every mutant of the matrix that a snapshot catches fails it).
Integer and boolean arrays must match exactly.
`pytest --snapshot-exact` asks for bit-for-bit floats (true on the machine that made the snapshots).
`pytest --update-snapshots` rewrites the files; it is refused in a student tree.
"""
import os

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SNAPSHOTS = os.path.join(HERE, "snapshots")
ROOT = os.path.dirname(os.path.dirname(HERE))
RTOL, ATOL = 1e-4, 1e-5


class Snapshot:
    def __init__(self, update: bool, exact: bool):
        self.update, self.exact = update, exact

    def check(self, name: str, **arrays):
        path = os.path.join(SNAPSHOTS, f"{name}.npz")
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        if self.update:
            os.makedirs(SNAPSHOTS, exist_ok=True)
            np.savez(path, **arrays)
            return
        assert os.path.exists(path), f"no snapshot {path}: make it in the reference tree with --update-snapshots"
        with np.load(path) as stored:
            assert sorted(stored.files) == sorted(arrays), \
                f"snapshot {name}: keys {sorted(arrays)} differ from the stored {sorted(stored.files)}"
            for key in sorted(arrays):
                got, want = arrays[key], stored[key]
                assert got.shape == want.shape, f"snapshot {name}[{key}]: shape {got.shape}, expected {want.shape}"
                assert got.dtype.kind == want.dtype.kind, \
                    f"snapshot {name}[{key}]: dtype {got.dtype}, expected a {want.dtype} (int, float and bool differ)"
                if np.issubdtype(want.dtype, np.floating) and not self.exact:
                    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"snapshot {name}[{key}]")
                else:
                    np.testing.assert_array_equal(got, want, err_msg=f"snapshot {name}[{key}]")


@pytest.fixture
def snapshot(request):
    update = request.config.getoption("--update-snapshots")
    if update and os.path.exists(os.path.join(ROOT, "course.json")):
        pytest.fail("--update-snapshots rewrites the answer key: run it in the reference tree, not a student tree")
    return Snapshot(update, request.config.getoption("--snapshot-exact"))
