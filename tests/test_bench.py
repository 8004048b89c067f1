"""The benchmark's arithmetic: model FLOPs counted by hand (MFU rests on them) and op grouping."""
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

from minireason.config import ModelConfig  # noqa: E402


@pytest.fixture(scope="module")
def w1():
    import w1
    return w1


@pytest.fixture(scope="module")
def op_profile():
    saved = os.environ.get("XLA_FLAGS")
    import op_profile  # sets XLA_FLAGS for its own process; keep ours as it was
    if saved is None:
        os.environ.pop("XLA_FLAGS", None)
    else:
        os.environ["XLA_FLAGS"] = saved
    return op_profile


def test_forward_flops_by_hand(w1):
    """D=4, F=8, one layer, V=10, 2 tokens seeing 3 keys each. Per token: qkv 2*4*12 = 96, output
    2*4*4 = 32, SwiGLU 3*2*4*8 = 192, attention 2*2*3*4 = 48, unembedding 2*4*10 = 80: 448."""
    cfg = ModelConfig(d_model=4, n_layers=1, n_heads=2, d_mlp=8)
    assert w1.forward_flops(2, 3, cfg, vocab=10) == 2 * 448


def test_step_flops_parts(w1):
    """Sampling = prefill + decode; the update is 3 forwards (backward = 2x forward) of the sequence
    the reference scores once; at W1's shapes the step is the 243.7 GFLOP the README quotes."""
    n, p, t = 128, 32, 128
    parts = w1.step_flops(n, p, t)
    full = w1.forward_flops(n * (p + t - 1), (p + t) / 2)
    assert parts["ref_logp"] == full and parts["update"] == 3 * full
    assert parts["sample"] == w1.forward_flops(n * p, (p + 1) / 2) + w1.forward_flops(n * t, p + (t + 1) / 2)
    assert round(sum(parts.values()) / 1e9, 1) == 243.7


@pytest.mark.parametrize("op, kind", [
    ("ynn_fusion.116", "matmul (YNNPACK)"), ("dot.282", "batched dot (XLA)"),
    ("dot_general.89", "batched dot (XLA)"), ("copy_bitcast_fusion.7", "copy / transpose"),
    ("transpose_copy_fusion.5", "copy / transpose"), ("bitcast_dynamic-update-slice_fusion.6", "in-place writes"),
    ("wrapped_reduce-window", "sampling cumsum"), ("add_rsqrt_fusion.3", "other elementwise"),
])
def test_op_kinds(op_profile, op, kind):
    assert op_profile.kind_of(op) == kind


def test_report_divides_per_step(op_profile, capsys):
    ops = {"ynn_fusion.1": 0.3, "dot.2": 0.1}
    op_profile.report("t", 1.0, ops, top=1, per=10, unit="/step")
    out = capsys.readouterr().out
    assert "30.00 ms/step   75.0%" in out and "10.00 ms/step   25.0%" in out
    assert "ynn_fusion.1" in out and "dot.2  " not in out.split("other elementwise")[1]


def test_long_bar_checks_by_hand():
    """bench/long.py reads issue 17's bar off a frontier block: each part met, missed, or unreadable."""
    import long
    block = {"length_ratio": 4.2, "rho_length": 0.93, "levels_advanced": 3,
             "reflection_by_frontier": {"1": 0.2, "2": 0.3, "3": 0.5, "4": 0.6},
             "heldout": {"arith": {"accuracy_passed": {"1": 0.9, "2": 0.8, "3": 0.55}}}}
    assert all(long.bar_checks(block).values())
    block.update(length_ratio=None, rho_length=0.89, levels_advanced=2,
                 reflection_by_frontier={"1": 0.2, "2": 0.2}, heldout={"arith": {"accuracy_passed": {"1": 0.4}}})
    assert list(long.bar_checks(block).values()) == [None, False, False, False, False]
    block.update(reflection_by_frontier={"1": 0.2}, heldout={"arith": {"accuracy_passed": {}}})
    assert list(long.bar_checks(block).values())[3:] == [None, None]      # nothing passed: unreadable


def test_the_bench_scripts_exit_codes(tmp_path, capsys):
    """bench/runner.cli: 0 when the body returns, 1 with a one-line error on a bad argument or run folder,
    130 on Ctrl-C; a script given an unknown condition says which and exits 1 before it runs anything."""
    import runner

    from minireason import runfolder
    assert runner.cli(lambda: None) == 0

    def bad():
        runner.check_choices(["long", "longer"], ("long", "long-stretch"), "condition")
    assert runner.cli(bad) == 1
    assert capsys.readouterr().err == "error: unknown condition 'longer'; choose from long, long-stretch\n"

    def broken():
        raise runfolder.RunFolderError("run/config.json is not JSON")
    assert runner.cli(broken) == 1 and capsys.readouterr().err == "error: run/config.json is not JSON\n"

    def interrupted():
        raise KeyboardInterrupt
    assert runner.cli(interrupted) == 130 and "run the same command again" in capsys.readouterr().err

    from bench_module import load
    out = tmp_path / "long"
    assert load("long").main(["--conditions", "longer", "--out", str(out)]) == 1
    assert "unknown condition 'longer'" in capsys.readouterr().err and not out.exists()
    assert load("judge").main(["--variants", "oracle", "--out", str(tmp_path / "judge"), "--table"]) == 1
    assert "unknown variant 'oracle'" in capsys.readouterr().err
