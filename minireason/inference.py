"""Load a trained run (config, tokenizer, base or final parameters) for sampling and evaluation."""
from __future__ import annotations

import os
from typing import NamedTuple

from minireason import checkpoint, pretrain, rl, sampling
from minireason import model as model_lib
from minireason.config import from_dict, validate
from minireason.runfiles import RunFolderError, read_json
from minireason.tokenizer import Tokenizer


class LoadedRun(NamedTuple):
    cfg: object
    tokenizer: Tokenizer
    graphdef: object
    params: object
    generate: object      # the jitted sampler: (params, key, prompts [N, P], temperature) -> Rollout
    step: int


def load_run(run_dir: str, base: bool = False, top_k: int = 0, echo=print) -> LoadedRun:
    """The run's final RL parameters (or, with base=True, the pretrained base model)."""
    if not os.path.isdir(run_dir):
        raise RunFolderError(f"run folder {run_dir} does not exist")
    cfg_path = os.path.join(run_dir, "config.json")
    if not os.path.exists(cfg_path):
        raise RunFolderError(f"{run_dir} is not a run folder (no config.json)")
    cfg = validate(from_dict(read_json(cfg_path)))
    tok = Tokenizer.load(os.path.join(run_dir, "tokenizer.model"))
    graphdef, params = model_lib.init(cfg.model, tok.vocab_size, cfg.seed)
    stage = "pretrain" if base else "rl"
    optimizer = pretrain.make_optimizer(cfg.pretrain) if base else rl.make_optimizer(cfg.rl)
    template = {"params": params, "opt_state": optimizer.init(params)}
    found = checkpoint.load_latest(os.path.join(run_dir, stage), template, warn=echo)
    if found is None:
        raise RunFolderError(f"{run_dir} has no {stage} checkpoint yet")
    state, meta, _ = found
    generate = sampling.make_generate(graphdef, cfg.model, cfg.data.completion_len, tok.pad_id, tok.eos_id,
                                      top_k)
    return LoadedRun(cfg, tok, graphdef, state["params"], generate, meta["step"])
