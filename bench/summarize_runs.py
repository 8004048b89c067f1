"""Print the README's before/after table from the summary.json of several runs.

    python bench/summarize_runs.py runs/demo-seed0 runs/demo-seed1 runs/demo-seed2 runs/demo-noreflect-seed0
"""
import json
import os
import sys

KEYS = ("accuracy", "length_mean", "reflection_rate", "effective_reflection_rate")


def main(paths):
    print("| run | domain | accuracy | length_mean | reflection_rate | effective_reflection_rate "
          "| refl. vs not, hardest | minutes |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        with open(os.path.join(path, "summary.json")) as f:
            s = json.load(f)
        for dom, rep in s["domains"].items():
            cells = [f"{rep['base'][k]:.2f} → {rep['final'][k]:.2f}" if k != "length_mean"
                     else f"{rep['base'][k]:.1f} → {rep['final'][k]:.1f}" for k in KEYS]
            hardest = rep["by_difficulty"][max(rep["by_difficulty"], key=int)]["final"]
            versus = (f"{hardest['accuracy_reflect']:.2f} vs {hardest['accuracy_noreflect']:.2f}"
                      if hardest["style_share_reflect"] > 0 else "no reflection")
            print(f"| {os.path.basename(path.rstrip('/'))} | {dom} | " + " | ".join(cells)
                  + f" | {versus} | {s['wall_seconds']['total'] / 60:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
