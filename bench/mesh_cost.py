"""What the mesh costs on one device: W1's RL step (bench/w1.py) as it was, and with every array placed
through sharding.py on the default mesh (what train.py now does), in alternating rounds in one process.

    python bench/mesh_cost.py                       # 4 rounds of 5 steps per side
    python bench/mesh_cost.py --out docs/runs/mesh/cost.json     # and store the result
    python bench/mesh_cost.py --show docs/runs/mesh/cost.json    # print a stored result

The last line is one JSON object: the median step of each side, their ratio (mesh over plain), and the
per-round medians (a shared machine's noise is the spread between rounds of one side).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.path.dirname(os.path.abspath(__file__))]
import jax  # noqa: E402
from w1 import CallCounter, make_w1, run_ours  # noqa: E402  (bench/w1.py)

from minireason import sharding  # noqa: E402
from minireason.config import MeshConfig  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=5, help="measured steps per side and round")
    ap.add_argument("--out", default=None, help="also write the result to this JSON file")
    ap.add_argument("--show", default=None, metavar="FILE", help="print a stored result; run nothing")
    args = ap.parse_args(argv)
    if args.show:
        try:
            with open(args.show) as f:
                result = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f"error: cannot read {args.show}: {e}")
        print(f"W1 step on {result['device']}: plain {result['plain_step_s']:.3f} s, through the mesh "
              f"{result['mesh_step_s']:.3f} s (median of {result['rounds']} alternating rounds of "
              f"{result['steps']} steps): ratio {result['ratio_mesh_over_plain']:.3f}; round medians "
              f"plain {result['round_medians']['plain']}, mesh {result['round_medians']['mesh']}")
        return result
    if args.rounds < 1 or args.steps < 1:
        ap.error("--rounds and --steps must be at least 1")
    mesh = sharding.make_mesh(MeshConfig())
    print(f"[mesh_cost] {sharding.describe(mesh)}", flush=True)
    counter = CallCounter()
    sides = {"plain": make_w1(counter=counter)[0], "mesh": make_w1(mesh=mesh, counter=counter)[0]}
    for step in sides.values():
        run_ours(step, counter, 2)                                  # warm-up: compiles
    rows = {name: [] for name in sides}
    for r in range(args.rounds):
        for name, step in sides.items():
            got = run_ours(step, counter, args.steps)
            rows[name].append(got)
            print(f"[mesh_cost] round {r + 1} {name}: median step {statistics.median(x['step'] for x in got):.3f} s",
                  flush=True)
    med = {name: statistics.median(x["step"] for rnd in rs for x in rnd) for name, rs in rows.items()}
    result = {"device": str(jax.devices()[0]), "devices": mesh.size, "rounds": args.rounds, "steps": args.steps,
              "plain_step_s": round(med["plain"], 4), "mesh_step_s": round(med["mesh"], 4),
              "ratio_mesh_over_plain": round(med["mesh"] / med["plain"], 3),
              "round_medians": {name: [round(statistics.median(x["step"] for x in rnd), 4) for rnd in rs]
                                for name, rs in rows.items()},
              "recompiles_after_warmup": sum(x["compiles"] for rs in rows.values() for rnd in rs for x in rnd)}
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
