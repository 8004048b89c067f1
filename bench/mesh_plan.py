"""What a preset holds per device on a mesh: parameters, batch rows, and the memory XLA plans for each
compiled step, for N devices forced on this CPU (the partitioning is the one a TPU v5e-8 or an 8-GPU node
would get; the byte counts are the CPU compiler's, a guide to an accelerator's, not a measurement on one).

    python bench/mesh_plan.py --preset gpu --devices 8                 # 8 devices on the data axis
    python bench/mesh_plan.py --preset gpu --devices 8 --fsdp 8        # parameters split over all 8
    python bench/mesh_plan.py --preset gpu --devices 8 --out docs/runs/mesh/plan-gpu-8.json
    python bench/mesh_plan.py --show docs/runs/mesh/plan-gpu-8.json docs/runs/mesh/plan-gpu-8-fsdp8.json

Per compiled step (pretraining, the RL update, the sampler) it reports XLA's memory analysis of the
per-device program: arguments, outputs and temporaries (activations, the KV cache, gradients), in MiB.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MIB = 2 ** 20


def plan(preset_name: str, devices: int, fsdp: int, sets: list[str]) -> dict:
    import jax
    import numpy as np

    from minireason import model as model_lib
    from minireason import pretrain, rl, sampling, sharding
    from minireason.config import MeshConfig, override, preset, validate
    cfg = preset(preset_name)
    for item in sets:
        key, _, value = item.partition("=")
        cfg = override(cfg, key, value)
    cfg = validate(override(cfg, "mesh.fsdp", str(fsdp)))
    mesh = sharding.make_mesh(MeshConfig(fsdp=fsdp))
    sharding.check_batches(cfg, mesh)
    d, p, r = cfg.data, cfg.pretrain, cfg.rl
    graphdef, params = model_lib.init(cfg.model, d.vocab_size, cfg.seed)
    n_params = model_lib.count_params(params)
    rows = r.prompts_per_step * r.group_size
    width = d.prompt_len + d.completion_len

    def per_device(tree) -> float:
        """MiB this tree's shards take on one device (the first)."""
        first = mesh.devices.flat[0]
        return sum(s.data.nbytes for x in jax.tree.leaves(tree) for s in x.addressable_shards
                   if s.device == first) / MIB

    def memory(compiled) -> dict:
        m = compiled.memory_analysis()
        return {"arguments_mib": round(m.argument_size_in_bytes / MIB, 2),
                "outputs_mib": round(m.output_size_in_bytes / MIB, 2),
                "temporaries_mib": round(m.temp_size_in_bytes / MIB, 2)}

    with sharding.use(mesh):
        opt = pretrain.make_optimizer(p)
        state = sharding.state({"params": params, "opt_state": opt.init(params)})
        ints = np.zeros((p.batch_size, width), np.int32)
        batch = sharding.batch((ints, ints, np.ones((p.batch_size, width), np.float32), ints, ints))
        train_step = pretrain.make_train_step(graphdef, opt)
        out = {"pretrain_step": memory(train_step.lower(state["params"], state["opt_state"], batch).compile())}

        rl_opt = rl.make_optimizer(r)
        rl_state = sharding.state(rl_opt.init(params))
        update, _ = rl.make_update(graphdef, rl_opt, r, 0)
        rl_batch = sharding.batch(rl.Batch(np.zeros((rows, d.prompt_len), np.int32),
                                           np.zeros((rows, d.completion_len), np.int32),
                                           np.ones((rows, d.completion_len), np.float32), np.zeros(rows, np.float32)))
        out["rl_update"] = memory(update.lower(state["params"], rl_state, state["params"], rl_batch).compile())

        generate = sampling.make_generate(graphdef, cfg.model, d.completion_len, 0, 1)
        prompts = sharding.batch(np.zeros((rows, d.prompt_len), np.int32))
        out["sampler"] = memory(generate.lower(state["params"], jax.random.key(0), prompts, 1.0).compile())

        return {"preset": cfg.preset, "sets": sets, "platform": jax.devices()[0].platform, "devices": mesh.size,
                "mesh": dict(mesh.shape), "parameters": n_params,
                "parameters_mib_per_device": round(per_device(state["params"]), 3),
                "optimizer_state_mib_per_device": round(per_device(state["opt_state"]), 3),
                "rows_per_device": {"pretrain": p.batch_size // mesh.size, "rl_completions": rows // mesh.size,
                                    "rl_groups": r.prompts_per_step // mesh.size,
                                    "eval": cfg.eval.batch_size // mesh.size},
                "sequence_tokens": width, "compiled": out}


def show(result: dict) -> str:
    c = result["compiled"]
    steps = "; ".join(f"{name.replace('_', ' ')}: arguments {m['arguments_mib']:.1f}, temporaries "
                      f"{m['temporaries_mib']:.1f}" for name, m in c.items())
    rows = result["rows_per_device"]
    return (f"{result['preset']} on {result['devices']} devices ({result['mesh']['data']} data x "
            f"{result['mesh']['fsdp']} fsdp): {result['parameters'] / 1e6:.2f}M parameters, per device "
            f"{result['parameters_mib_per_device']:.1f} MiB of them and {result['optimizer_state_mib_per_device']:.1f} "
            f"MiB of AdamW state; rows per device: pretraining {rows['pretrain']}, RL {rows['rl_completions']} "
            f"completions ({rows['rl_groups']} groups), evaluation {rows['eval']}, of {result['sequence_tokens']} "
            f"tokens; per-device MiB, {steps}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="gpu")
    ap.add_argument("--devices", type=int, default=8, help="CPU devices to force (XLA_FLAGS)")
    ap.add_argument("--fsdp", type=int, default=1)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default=None, help="also write the result to this JSON file")
    ap.add_argument("--show", nargs="+", default=None, metavar="FILE", help="print stored results; run nothing")
    args = ap.parse_args(argv)
    if args.show:
        for path in args.show:
            try:
                with open(path) as f:
                    print(show(json.load(f)))
            except (OSError, json.JSONDecodeError, KeyError) as e:
                print(f"error: cannot read {path}: {e}", file=sys.stderr)
                return 2
        return 0
    if args.devices < 1 or args.fsdp < 1:
        ap.error("--devices and --fsdp must be at least 1")
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={args.devices}"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")          # before JAX is imported (in plan)
    from minireason.config import ConfigError
    try:
        result = plan(args.preset, args.devices, args.fsdp, args.sets)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    print(show(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
