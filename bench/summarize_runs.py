"""Print the README's before/after table from the summary.json of several runs.

    python bench/summarize_runs.py runs/demo-seed0 runs/demo-seed1 runs/demo-seed2 runs/demo-noreflect-seed0

Each argument is a run folder or a summary.json file.
"""
import json
import os
import sys

KEYS = ("accuracy", "length_mean", "reflection_rate", "effective_reflection_rate")


def main(paths):
    print("| run | domain | accuracy | length_mean | reflection_rate | effective_reflection_rate "
          "| refl. vs not, hardest (pooled) | same, per family (n) | minutes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        with open(path if path.endswith(".json") else os.path.join(path, "summary.json")) as f:
            s = json.load(f)
        for dom, rep in s["domains"].items():
            cells = [f"{rep['base'][k]:.2f} → {rep['final'][k]:.2f}" if k != "length_mean"
                     else f"{rep['base'][k]:.1f} → {rep['final'][k]:.1f}" for k in KEYS]
            hardest = rep["by_difficulty"][max(rep["by_difficulty"], key=int)]["final"]
            versus = (f"{hardest['accuracy_reflect']:.2f} vs {hardest['accuracy_noreflect']:.2f}"
                      if hardest["style_share_reflect"] > 0 else "no reflection")
            print(f"| {os.path.basename(path.rstrip('/'))} | {dom} | " + " | ".join(cells)
                  + f" | {versus} | {per_family(rep)} | {s['wall_seconds']['total'] / 60:.1f} |")


def per_family(rep: dict) -> str:
    """Accuracy of reflecting vs non-reflecting completions within each family at its hardest difficulty:
    pooled over families, the two groups differ in family mix too (Simpson's paradox)."""
    cells = rep.get("by_family_difficulty")
    if not cells:
        return "–"
    hardest = max(int(k.split("/")[1]) for k in cells)
    parts = []
    for key, row in sorted(cells.items()):
        family, difficulty = key.split("/")
        f = row["final"]
        if int(difficulty) != hardest:
            continue
        n_r, n = f["count_reflect"], f["count"]
        refl = f"{f['accuracy_reflect']:.2f} ({n_r})" if n_r else "– (0)"
        rest = f"{f['accuracy_noreflect']:.2f} ({n - n_r})" if n - n_r else "– (0)"
        parts.append(f"{family} {refl} vs {rest}")
    return "; ".join(parts)


if __name__ == "__main__":
    main(sys.argv[1:])
