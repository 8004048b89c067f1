"""Pretraining: next-token cross-entropy on the completion tokens of packed worked traces.

AdamW (Loshchilov & Hutter 2019) with linear warmup then cosine decay, and global-norm gradient
clipping, all from optax. The update is three visible lines in `make_train_step`; `fit` is the loop
around it (checkpoints, resume, progress bar, Ctrl-C), shared by the policy's pretraining and the
judge's training (judge.py).
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

from minireason import checkpoint, sharding
from minireason import model as model_lib
from minireason.config import PretrainConfig
from minireason.corpus import Packed


def make_optimizer(cfg: PretrainConfig):
    """AdamW with warmup + cosine decay to lr * min_lr_ratio, after global-norm clipping."""
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=cfg.lr, warmup_steps=cfg.warmup_steps,
        decay_steps=max(cfg.steps, cfg.warmup_steps + 1), end_value=cfg.lr * cfg.min_lr_ratio)
    return optax.chain(optax.clip_by_global_norm(cfg.grad_clip),
                       optax.adamw(schedule, b1=0.9, b2=0.99, weight_decay=cfg.weight_decay))


def lm_loss(graphdef, params, batch):
    """Mean cross-entropy of the completion tokens: -(1/|M|) sum_{t in M} log p(x_{t+1} | x_<=t)."""
    tokens, targets, loss_mask, segments, positions = batch
    logits = model_lib.forward(graphdef, params, tokens, positions, model_lib.packed_mask(segments))
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets)      # [R, L]
    return (nll * loss_mask).sum() / jnp.maximum(loss_mask.sum(), 1.0)


def make_train_step(graphdef, optimizer):
    """The jitted step: (params, opt_state, batch) -> (params, opt_state, loss)."""

    @jax.jit
    def train_step(params, opt_state, batch):
        loss, grads = jax.value_and_grad(lambda p: lm_loss(graphdef, p, batch))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step


def make_eval_loss(graphdef):
    """The jitted held-out loss: (params, batch) -> mean completion-token cross-entropy."""
    return jax.jit(lambda params, batch: lm_loss(graphdef, params, batch))


def batch_at(packed: Packed, step: int, batch_size: int, seed: int):
    """The rows of pretraining step `step` (numpy): epoch-wise shuffles, a pure function of (seed, step)."""
    rows = packed.tokens.shape[0]
    per_epoch = max(rows // batch_size, 1)
    epoch, i = divmod(step, per_epoch)
    order = np.random.default_rng([seed, 23, epoch]).permutation(rows)
    idx = order[i * batch_size:(i + 1) * batch_size]
    if len(idx) < batch_size:                          # fewer rows than one batch: wrap around
        idx = np.resize(order, batch_size)
    return tuple(a[idx] for a in packed)


def fit(p: PretrainConfig, folder: str, graphdef, params, packed: Packed, heldout_batch, log, seed: int, echo,
        stage: str = "pretrain"):
    """p.steps of next-token training on `packed`, with checkpoints in `folder` (resumed from the latest
    one) and rows {stage, step, loss, heldout_loss} in `log`; returns (params, wall seconds)."""
    optimizer = make_optimizer(p)
    state = {"params": params, "opt_state": optimizer.init(params)}
    found = checkpoint.load_latest(folder, state, warn=echo)
    start, wall = 0, 0.0
    if found:
        state, meta, _ = found
        start, wall = meta["step"], meta["wall"]
    state, heldout_batch = sharding.state(state), sharding.replicated(heldout_batch)   # onto the mesh
    log.truncate_after(stage, start)
    if start >= p.steps:
        return state["params"], wall
    train_step, eval_loss = make_train_step(graphdef, optimizer), make_eval_loss(graphdef)
    params, opt_state = state["params"], state["opt_state"]
    t0 = time.time() - wall
    bar = tqdm(range(start, p.steps), initial=start, total=p.steps, desc=stage, dynamic_ncols=True)
    snapshot = None                      # the last completed step, saved if Ctrl-C stops the loop
    try:
        for step in bar:
            batch = sharding.batch(batch_at(packed, step, p.batch_size, seed))
            params, opt_state, loss = train_step(params, opt_state, batch)
            done = step + 1
            evaluate_now = done % p.eval_every == 0 or done == p.steps
            if done % 10 == 0 or evaluate_now:
                row = {"stage": stage, "step": done, "loss": float(loss)}
                if evaluate_now:
                    row["heldout_loss"] = float(eval_loss(params, heldout_batch))
                log.write(row)           # log first: a crash before the checkpoint re-logs the step on resume
                if evaluate_now:
                    checkpoint.save_checkpoint(folder, done, {"params": params, "opt_state": opt_state},
                                               {"step": done, "wall": time.time() - t0}, keep=2)
                bar.set_postfix(loss=f"{row['loss']:.3f}")
            snapshot = (done, params, opt_state)
    except KeyboardInterrupt:
        if snapshot:
            done, params, opt_state = snapshot
            checkpoint.save_checkpoint(folder, done, {"params": params, "opt_state": opt_state},
                                       {"step": done, "wall": time.time() - t0}, keep=2)
            echo(f"\ninterrupted: saved a checkpoint at {stage} step {done}")
        raise
    return params, time.time() - t0
