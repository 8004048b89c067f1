"""Checkpoints: exact round trips, pruning, and every kind of damage caught as a one-line CheckpointError."""
import hashlib
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minireason.checkpoint import (
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    load_latest,
    save_checkpoint,
)


def make_tree(step: int = 0) -> dict:
    """A nested pytree with the leaf kinds a training state holds; values depend on `step`."""
    return {
        "params": {"w": np.arange(6, dtype=np.float32).reshape(2, 3) + step,
                   "b": jnp.full((3,), 0.5 + step, dtype=jnp.float32)},
        "opt": {"count": np.int32(step), "mu": [np.zeros(2, np.float32), np.ones(2, np.float32)]},
        "rng": np.array([7, 2**32 - 1], dtype=np.uint32),   # what jax.random.key_data gives
        "step": np.asarray(step, dtype=np.int32),            # a scalar
    }


def assert_trees_equal(got, want):
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        w = np.asarray(w)
        assert isinstance(g, np.ndarray) and g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def test_round_trip(tmp_path):
    meta = {"step": 5, "config": {"lr": 1e-3, "name": "tiny"}, "losses": [1.5, 0.25]}
    path = save_checkpoint(str(tmp_path), 5, make_tree(5), meta)
    assert path == str(tmp_path / "checkpoints" / "ckpt_0000005.ckpt")
    tree, got_meta = load_checkpoint(path, make_tree())
    assert_trees_equal(tree, make_tree(5))
    assert got_meta == meta


def test_bfloat16_and_shape_dtype_templates(tmp_path):
    tree = {"w": jnp.array([1.5, -2.0], dtype=jnp.bfloat16)}
    path = save_checkpoint(str(tmp_path), 1, tree, {})
    got, _ = load_checkpoint(path, jax.eval_shape(lambda: tree))
    assert got["w"].dtype == jnp.bfloat16 and got["w"].tolist() == [1.5, -2.0]


def test_keep_prunes_all_but_the_newest(tmp_path):
    for step in [10, 20, 30]:
        save_checkpoint(str(tmp_path), step, make_tree(step), {}, keep=2)
    names = [os.path.basename(p) for p in list_checkpoints(str(tmp_path))]
    assert names == ["ckpt_0000020.ckpt", "ckpt_0000030.ckpt"]


def test_list_orders_by_step_and_ignores_other_files(tmp_path):
    assert list_checkpoints(str(tmp_path)) == []
    for step in [100, 9, 30]:
        save_checkpoint(str(tmp_path), step, make_tree(), {}, keep=5)
    (tmp_path / "checkpoints" / "ckpt_0000040.ckpt.tmp").write_bytes(b"half a write")
    steps = [os.path.basename(p) for p in list_checkpoints(str(tmp_path))]
    assert steps == ["ckpt_0000009.ckpt", "ckpt_0000030.ckpt", "ckpt_0000100.ckpt"]


def test_no_temp_files_left_behind(tmp_path):
    for step in range(4):
        save_checkpoint(str(tmp_path), step, make_tree(step), {"step": step}, keep=2)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["ckpt_0000002.ckpt", "ckpt_0000003.ckpt"]


def test_truncated_file_is_corrupt(tmp_path):
    path = save_checkpoint(str(tmp_path), 1, make_tree(1), {})
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="ckpt_0000001.ckpt is corrupt: checksum mismatch"):
        load_checkpoint(path, make_tree())


@pytest.mark.parametrize("where", [0, 100, 1000, -1])   # checksum line, header, arrays, last byte
def test_flipped_byte_is_corrupt(tmp_path, where):
    path = save_checkpoint(str(tmp_path), 1, make_tree(1), {})
    data = bytearray(open(path, "rb").read())
    data[where] ^= 0x01
    open(path, "wb").write(bytes(data))
    with pytest.raises(CheckpointError, match="is corrupt"):
        load_checkpoint(path, make_tree())


def test_file_layout_and_version_check(tmp_path):
    path = save_checkpoint(str(tmp_path), 3, make_tree(3), {"lr": 0.5})
    digest, header, payload = open(path, "rb").read().split(b"\n", 2)
    assert digest == hashlib.sha256(header + b"\n" + payload).hexdigest().encode()
    head = json.loads(header)
    assert (head["format_version"], head["step"], head["meta"]) == (1, 3, {"lr": 0.5})
    assert head["paths"][-2:] == ["['rng']", "['step']"] and head["dtypes"][-2:] == ["uint32", "int32"]
    # A well-formed file from a future format is refused by version, not called corrupt.
    body = json.dumps({**head, "format_version": 2}).encode() + b"\n" + payload
    open(path, "wb").write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    with pytest.raises(CheckpointError, match="format version 2, expected 1"):
        load_checkpoint(path, make_tree())


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(str(tmp_path / "nope.ckpt"), make_tree())
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"")
    with pytest.raises(CheckpointError, match="is corrupt"):
        load_checkpoint(str(garbage), make_tree())


def test_template_mismatch(tmp_path):
    path = save_checkpoint(str(tmp_path), 1, make_tree(1), {})
    wrong_shape = make_tree()
    wrong_shape["params"]["w"] = np.zeros((3, 2), np.float32)
    with pytest.raises(CheckpointError, match=r"\['params'\]\['w'\] is float32\[2, 3\]"):
        load_checkpoint(path, wrong_shape)
    wrong_dtype = make_tree()
    wrong_dtype["rng"] = np.zeros(2, np.int32)
    with pytest.raises(CheckpointError, match="uint32"):
        load_checkpoint(path, wrong_dtype)
    renamed = make_tree()
    renamed["params"]["v"] = renamed["params"].pop("w")
    with pytest.raises(CheckpointError, match="leaf"):
        load_checkpoint(path, renamed)
    fewer = make_tree()
    del fewer["rng"]
    with pytest.raises(CheckpointError, match="has 7 leaves, the template 6"):
        load_checkpoint(path, fewer)


def test_load_latest_falls_back_past_a_corrupt_checkpoint(tmp_path):
    assert load_latest(str(tmp_path), make_tree()) is None
    older = save_checkpoint(str(tmp_path), 1, make_tree(1), {"step": 1})
    newest = save_checkpoint(str(tmp_path), 2, make_tree(2), {"step": 2})
    open(newest, "r+b").truncate(100)
    warnings = []
    tree, meta, path = load_latest(str(tmp_path), make_tree(), warn=warnings.append)
    assert (meta, path) == ({"step": 1}, older)
    assert_trees_equal(tree, make_tree(1))
    assert warnings == [f"checkpoint {newest} is corrupt: checksum mismatch; falling back to {older}"]


def test_load_latest_raises_when_nothing_is_readable(tmp_path):
    path = save_checkpoint(str(tmp_path), 1, make_tree(1), {})
    open(path, "r+b").truncate(10)
    with pytest.raises(CheckpointError, match="no readable checkpoint"):
        load_latest(str(tmp_path), make_tree(), warn=lambda msg: None)


def test_saving_behind_a_stale_newer_step_keeps_the_new_file(tmp_path):
    # After falling back from a corrupt step 20 the run saves step 15; keep=1 must not delete it.
    save_checkpoint(str(tmp_path), 20, make_tree(20), {})
    path = save_checkpoint(str(tmp_path), 15, make_tree(15), {}, keep=1)
    assert list_checkpoints(str(tmp_path)) == [path]


def test_a_second_process_in_a_locked_run_folder_is_refused(tmp_path):
    from minireason import runfolder
    held = runfolder.lock(str(tmp_path))
    with pytest.raises(runfolder.RunFolderError, match="another process is training"):
        runfolder.lock(str(tmp_path))           # another open file description: as another process
    held.close()
    runfolder.lock(str(tmp_path)).close()       # released: free again
