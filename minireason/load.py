"""Load a trained run (config, tokenizer, base or final parameters) for sampling and evaluation."""
from __future__ import annotations

import os
import re
from typing import NamedTuple

from minireason import checkpoint, pretrain, rl, sampling
from minireason import model as model_lib
from minireason.config import from_dict, validate
from minireason.runfolder import RunFolderError, read_json
from minireason.tokenizer import Tokenizer


class LoadedRun(NamedTuple):
    cfg: object
    tokenizer: Tokenizer
    graphdef: object
    params: object
    generate: object      # the jitted sampler: (params, key, prompts [N, P], temperature) -> Rollout
    step: int


def load_params(run_dir: str, cfg, graphdef, params, base: bool, step: int | None = None, echo=print):
    """(parameters, step) of the run's RL checkpoint (base=True: pretraining's), the newest or `step`."""
    stage = "pretrain" if base else "rl"
    optimizer = pretrain.make_optimizer(cfg.pretrain) if base else rl.make_optimizer(cfg.rl)
    template = {"params": params, "opt_state": optimizer.init(params)}
    folder = os.path.join(run_dir, stage)
    if step is None:
        found = checkpoint.load_latest(folder, template, warn=echo)
        if found is None:
            raise RunFolderError(f"{run_dir} has no {stage} checkpoint yet")
        state, meta, _ = found
    else:
        path = checkpoint.checkpoint_path(folder, step)
        if not os.path.exists(path):
            steps = [int(re.findall(r"\d+", os.path.basename(p))[0]) for p in checkpoint.list_checkpoints(folder)]
            raise RunFolderError(f"{run_dir} has no {stage} checkpoint of step {step}; it has steps "
                                 f"{', '.join(map(str, steps)) or 'none'}")
        state, meta = checkpoint.load_checkpoint(path, template)
    return state["params"], meta["step"]


def load_run(run_dir: str, base: bool = False, top_k: int = 0, step: int | None = None, echo=print) -> LoadedRun:
    """The run's final RL parameters (or, with base=True, the pretrained base model)."""
    if not os.path.isdir(run_dir):
        raise RunFolderError(f"run folder {run_dir} does not exist")
    cfg_path = os.path.join(run_dir, "config.json")
    if not os.path.exists(cfg_path):
        raise RunFolderError(f"{run_dir} is not a run folder (no config.json)")
    cfg = validate(from_dict(read_json(cfg_path)))
    tok = Tokenizer.load(os.path.join(run_dir, "tokenizer.model"))
    graphdef, params = model_lib.init(cfg.model, tok.vocab_size, cfg.seed)
    params, at = load_params(run_dir, cfg, graphdef, params, base, step, echo)
    generate = sampling.make_generate(graphdef, cfg.model, cfg.data.completion_len, tok.pad_id, tok.eos_id,
                                      top_k)
    return LoadedRun(cfg, tok, graphdef, params, generate, at)
