"""The mutation matrix of assignment 5 (rl): plausible wrong versions of each graded function,
one mistake each (the other assignments: mutants_<name>.py beside this file).

`python -m minireason.course mutants -a rl` swaps each one in alone (in a scratch copy of the tree) and
runs its assignment's public tests (`pytest -x -m rl tests/course`, hidden tests left out): every mutant
must make them fail, and the reference must pass. This file quotes the solutions, so it is a hidden file:
the student tree leaves it out.

Mutant(function, name, old, new): in the region of `function` ("path:qualified name"), the text `old`
(which occurs there exactly once) becomes `new`.
"""
M = Mutant  # noqa: F821  (given by the loader, minireason.course.load_mutants)

RL = "minireason/rl.py"

MUTANTS = [
    # ---- assignment 5: rl
    M(f"{RL}:Curriculum.weights", "floor ignored", "np.maximum(p * (1 - p), self.floor)", "p * (1 - p)"),
    M(f"{RL}:Curriculum.weights", "floor as a cap (minimum for maximum)", "np.maximum(p * (1 - p), self.floor)",
      "np.minimum(p * (1 - p), self.floor)"),
    M(f"{RL}:Curriculum.weights", "weights not normalised", "return w / w.sum()", "return w"),
    M(f"{RL}:Curriculum.weights", "1 - p instead of p (1 - p) (the failure rate)", "p * (1 - p)", "(1 - p)"),
    M(f"{RL}:Curriculum.weights", "enabled ignored", "if not self.enabled:", "if False:"),
    M(f"{RL}:Curriculum.update", "decay swapped with 1 - decay",
      "self.decay * self.pass_rate[k] + (1 - self.decay) * float(np.mean(rs))",
      "(1 - self.decay) * self.pass_rate[k] + self.decay * float(np.mean(rs))"),
    M(f"{RL}:Curriculum.update", "the sum of the rewards for their mean", "float(np.mean(rs))", "float(np.sum(rs))"),
    M(f"{RL}:Curriculum.update", "one update per row instead of per cell", "for k, rs in seen.items():",
      "for k, rs in [(f\"{q['family']}/{q['difficulty']}\", [x]) for q, x in zip(problems, rewards)]:"),
    M(f"{RL}:Curriculum.update", "the family's mean reward for the cell's", "float(np.mean(rs))",
      "float(np.mean([x for q, x in zip(problems, rewards) if q['family'] == k.split('/')[0]]))"),
    M(f"{RL}:Curriculum.update", "no moving average (the rate is the last batch's mean)",
      "self.decay * self.pass_rate[k] + (1 - self.decay) * float(np.mean(rs))", "float(np.mean(rs))"),
    M(f"{RL}:update_on_batch", "old_logp recomputed after each update", "        steps.append(stats)",
      "        steps.append(stats)\n"
      "        if cfg.updates_per_batch > 1:\n"
      "            old_logp = token_logp(params, batch.prompts, batch.tokens, batch.mask)[0]"),
    M(f"{RL}:update_on_batch", "ref_logp from params instead of ref_params", "ref_logp = token_logp(ref_params,",
      "ref_logp = token_logp(params,"),
    M(f"{RL}:update_on_batch", "stats of the last step only, not the mean",
      "{k: jnp.mean(jnp.stack([s[k] for s in steps])) for k in steps[0]}", "stats"),
    M(f"{RL}:update_on_batch", "stats summed over the steps", "jnp.mean(jnp.stack(", "jnp.sum(jnp.stack("),
    M(f"{RL}:update_on_batch", "the loop runs once whatever mu", "range(cfg.updates_per_batch)", "range(1)"),
    M(f"{RL}:update_on_batch", "old_logp computed even at mu = 1", "if cfg.updates_per_batch > 1:",
      "if cfg.updates_per_batch >= 1:"),
    M(f"{RL}:update_on_batch", "old_logp's entropy passed instead of its logp",
      "old_logp = token_logp(params, batch.prompts, batch.tokens, batch.mask)[0]",
      "old_logp = token_logp(params, batch.prompts, batch.tokens, batch.mask)[1]"),
]
