"""Checkpoints: atomic, checksummed snapshots of a pytree (a run folder's pretrain/ and rl/ hold them).

A checkpoint file has three parts:

    line 1   sha256 (hex) of everything after this line
    line 2   JSON header: format version, step, the caller's meta, and each leaf's key path and dtype
    rest     the leaves as an uncompressed .npz (no pickle)

The checksum covers the header as well as the arrays, so a flipped byte or a truncated write anywhere
is caught on load. A file appears under its final name only once complete (temp file, fsync, rename,
fsync of the directory), so a crash mid-save leaves the previous checkpoints intact.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re

import jax
import numpy as np

from minireason import runfolder, sharding

FORMAT_VERSION = 1
_NAME = re.compile(r"ckpt_(\d+)\.ckpt")


class CheckpointError(ValueError):
    """An unreadable or mismatched checkpoint; its message is one line naming the file."""


def checkpoint_path(run_dir: str, step: int) -> str:
    """Where the checkpoint of `step` lives."""
    return os.path.join(run_dir, "checkpoints", f"ckpt_{step:07d}.ckpt")


def save_checkpoint(run_dir: str, step: int, tree, meta: dict, keep: int = 3) -> str:
    """Save `tree` and `meta` as the checkpoint of `step`, keep the newest `keep`, return the path."""
    if keep < 1:
        raise CheckpointError(f"keep must be at least 1, got {keep}")
    path = checkpoint_path(run_dir, step)
    paths_and_leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    leaves = [sharding.host(leaf) for _, leaf in paths_and_leaves]      # plain host arrays: any device count
    if not runfolder.WRITER:          # a multi-host run: every process gathered (a collective), the first writes
        return path
    for (key, _), leaf in zip(paths_and_leaves, leaves):
        if leaf.dtype.hasobject:  # would need pickle, which load refuses
            name = jax.tree_util.keystr(key)
            raise CheckpointError(f"checkpoint {path}: leaf {name} is not a numeric array")
    payload = io.BytesIO()
    np.savez(payload, *leaves, allow_pickle=False)
    header = {
        "format_version": FORMAT_VERSION,
        "step": step,
        "meta": meta,
        "paths": [jax.tree_util.keystr(key) for key, _ in paths_and_leaves],
        # .npz keeps shapes but not every dtype's name (bfloat16 comes back as raw 2-byte 'V2').
        "dtypes": [str(leaf.dtype) for leaf in leaves],
    }
    try:
        body = json.dumps(header).encode() + b"\n" + payload.getvalue()
    except TypeError as e:
        raise CheckpointError(f"checkpoint {path}: meta is not JSON-serialisable ({e})") from None
    data = hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    _write_atomically(path, data)
    # Never delete the file just written, even if stale newer steps exist (e.g. a corrupt one that
    # load_latest skipped): the run resumed before them, so this one is the newest good state.
    older = [p for p in list_checkpoints(run_dir) if p != path]
    for old in older[: max(0, len(older) - (keep - 1))]:
        os.remove(old)
    return path


def list_checkpoints(run_dir: str) -> list[str]:
    """Paths of the checkpoints in `run_dir`, oldest step first."""
    folder = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(folder):
        return []
    found = [(int(m.group(1)), m.group(0)) for m in map(_NAME.fullmatch, os.listdir(folder)) if m]
    return [os.path.join(folder, name) for _, name in sorted(found)]


def load_checkpoint(path: str, template) -> tuple:
    """Read, verify and return (tree of numpy arrays shaped like `template`, meta)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError(f"checkpoint {path} cannot be read: {e.strerror}") from None

    def corrupt(reason):
        return CheckpointError(f"checkpoint {path} is corrupt: {reason}")

    digest, _, body = data.partition(b"\n")
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise corrupt("checksum mismatch")
    head, _, payload = body.partition(b"\n")
    try:
        header = json.loads(head)
        version, meta = header["format_version"], header["meta"]
        paths, dtypes = header["paths"], header["dtypes"]
    except (ValueError, KeyError, TypeError):
        raise corrupt("bad header") from None
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version}, expected {FORMAT_VERSION}")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            stored = [npz[f"arr_{i}"] for i in range(len(paths))]
    except Exception as e:  # zipfile, zlib and numpy raise a zoo of types on bad bytes
        raise corrupt(f"unreadable arrays ({type(e).__name__})") from None

    expected, treedef = jax.tree_util.tree_flatten_with_path(template)
    if len(expected) != len(paths):
        raise CheckpointError(f"checkpoint {path} has {len(paths)} leaves, the template {len(expected)}")
    leaves = []
    for (key, want), name, dtype, arr in zip(expected, paths, dtypes, stored):
        key = jax.tree_util.keystr(key)
        want_shape, want_dtype = _shape_dtype(want)
        if key != name:
            raise CheckpointError(f"checkpoint {path} has leaf {name} where the template has {key}")
        if arr.shape != want_shape or dtype != str(want_dtype):
            raise CheckpointError(f"checkpoint {path} leaf {name} is {dtype}{list(arr.shape)}, "
                                  f"the template wants {want_dtype}{list(want_shape)}")
        leaves.append(arr.view(want_dtype) if arr.dtype.kind == "V" else arr)
    return jax.tree_util.tree_unflatten(treedef, leaves), meta


def load_latest(run_dir: str, template, warn=print):
    """Load the newest readable checkpoint as (tree, meta, path); None if there is none at all."""
    paths = list_checkpoints(run_dir)
    if not paths:
        return None
    newest_first = paths[::-1]
    for i, path in enumerate(newest_first):
        try:
            tree, meta = load_checkpoint(path, template)
            return tree, meta, path
        except CheckpointError as e:
            if i + 1 == len(newest_first):
                raise CheckpointError(
                    f"no readable checkpoint in {run_dir}; the oldest failed with: {e}") from None
            warn(f"{e}; falling back to {newest_first[i + 1]}")


def _shape_dtype(leaf) -> tuple:
    """Shape and dtype of a template leaf: an array, a jax.ShapeDtypeStruct, or a Python scalar."""
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return tuple(leaf.shape), np.dtype(leaf.dtype)
    leaf = np.asarray(leaf)
    return leaf.shape, leaf.dtype


def _write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` so a reader, even after a crash, sees the whole file or none of it."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    # The rename itself lives in the directory entry; without this fsync a crash could undo it.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
