"""Many devices (minireason/sharding.py), on CPU devices forced by XLA_FLAGS in subprocesses (this process
already has its one device): the smoke pipeline on 1 and on 4 devices logs the same metrics step for step,
a run resumes across device counts with the same results, arrays carry the shardings the config asks
for, nothing recompiles after the first step, and batches that do not divide get a one-line error."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from jax.sharding import PartitionSpec as P

from minireason.config import Config, ConfigError, MeshConfig, preset, validate
from minireason.sharding import make_mesh, param_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = [sys.executable, "train.py", "--preset", "smoke"]
TIMING = ("time_generate", "time_update")
TOLERANCE = 1e-4          # float differences of a reordered sum (the gradient's all-reduce), nothing more


def on_devices(n: int, args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `args` in the repository root with n forced CPU devices."""
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}", "JAX_PLATFORMS": "cpu"}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def train(n: int, out: str, *extra: str) -> subprocess.CompletedProcess:
    proc = on_devices(n, [*TRAIN, "--out", out, *extra])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def rows(run: str) -> list[dict]:
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in f]


def assert_same_metrics(a: str, b: str) -> None:
    """Every row of a's metrics.jsonl equals b's: numbers within TOLERANCE, everything else exactly."""
    ra, rb = rows(a), rows(b)
    assert len(ra) == len(rb) > 0
    for x, y in zip(ra, rb):
        assert x.keys() == y.keys(), (x["stage"], x["step"])
        for k in x:
            u, v = x[k], y[k]
            if isinstance(u, float) or isinstance(v, float):
                assert u == pytest.approx(v, abs=TOLERANCE), (x["stage"], x["step"], k, u, v)
            else:
                assert u == v, (x["stage"], x["step"], k)


def samples(run: str) -> list[dict]:
    with open(os.path.join(run, "samples.jsonl")) as f:
        return [json.loads(line) for line in f]


def summary(run: str) -> dict:
    with open(os.path.join(run, "summary.json")) as f:
        return {k: v for k, v in json.load(f).items() if k != "wall_seconds"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The smoke run on 1 device and on 4 (2 data x 2 fsdp: batches and parameters both split)."""
    root = tmp_path_factory.mktemp("mesh")
    one, four = str(root / "one"), str(root / "four")
    train(1, one)
    proc = train(4, four, "--mesh.fsdp=2")
    assert "mesh: 2 data x 2 fsdp = 4 cpu device(s)" in proc.stdout
    return root, one, four


def test_one_and_four_devices_log_the_same_run(runs):
    _, one, four = runs
    assert_same_metrics(one, four)
    assert samples(one) == samples(four)             # the very same sampled completions
    assert summary(one) == summary(four)


@pytest.mark.parametrize("saved, resumed, stage", [(4, 1, "rl"), (1, 4, "pretrain")])
def test_resume_across_device_counts(runs, saved, resumed, stage):
    """A run saved on `saved` devices, cut back to a checkpoint in the middle of `stage` (RL step 2, or
    pretraining step 6 of 12), resumes on `resumed` devices and ends as the uninterrupted run did."""
    root, one, four = runs
    source = four if saved == 4 else one
    cut = str(root / f"cut-{saved}-{resumed}")
    shutil.copytree(source, cut)
    os.remove(os.path.join(cut, "summary.json"))
    if stage == "rl":
        os.remove(os.path.join(cut, "rl", "checkpoints", "ckpt_0000004.ckpt"))
    else:
        os.remove(os.path.join(cut, "pretrain", "checkpoints", "ckpt_0000012.ckpt"))
        shutil.rmtree(os.path.join(cut, "rl"))
        os.remove(os.path.join(cut, "eval_base.json"))
    mesh = ["--mesh.fsdp=2"] if resumed == 4 else []
    proc = on_devices(resumed, [*TRAIN, "--out", cut, "--resume", *mesh])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert_same_metrics(cut, source)
    assert summary(cut) == summary(source)


SHARDINGS = r"""
import json, jax, numpy as np
from minireason import pretrain, rl, sampling, sharding, model as model_lib
from minireason.config import MeshConfig, smoke
cfg = smoke()
graphdef, params = model_lib.init(cfg.model, 64, 0)
mesh = sharding.make_mesh(MeshConfig(fsdp=2))
opt = pretrain.make_optimizer(cfg.pretrain)
step = pretrain.make_train_step(graphdef, opt)
rows, width = 8, 96
out = {"mesh": dict(mesh.shape)}
with sharding.use(mesh):
    state = sharding.state({"params": params, "opt_state": opt.init(params)})
    p, o = state["params"], state["opt_state"]
    batch = sharding.batch((np.ones((rows, width), np.int32), np.ones((rows, width), np.int32),
                            np.ones((rows, width), np.float32), np.zeros((rows, width), np.int32),
                            np.tile(np.arange(width, dtype=np.int32), (rows, 1))))
    specs_in = [str(x.sharding.spec) for x in jax.tree.leaves(p)]
    for _ in range(3):
        p, o, loss = step(p, o, batch)
    out["specs_in"], out["specs_out"] = specs_in, [str(x.sharding.spec) for x in jax.tree.leaves(p)]
    out["shapes"] = [list(x.shape) for x in jax.tree.leaves(p)]
    out["moments"] = [[list(x.shape), str(x.sharding.spec)] for x in jax.tree.leaves(o)]
    rl_cfg = cfg.rl
    rl_opt = rl.make_optimizer(rl_cfg)
    update, _ = rl.make_update(graphdef, rl_opt, rl_cfg, 0)
    rl_state = sharding.state(rl_opt.init(params))
    n = rl_cfg.prompts_per_step * rl_cfg.group_size
    rl_batch = sharding.batch(rl.Batch(np.full((n, 16), 5, np.int32), np.full((n, 8), 6, np.int32),
                                       np.ones((n, 8), np.float32), np.linspace(-1, 1, n).astype(np.float32)))
    q = p
    for _ in range(3):
        q, rl_state, _ = update(q, rl_state, p, rl_batch)
    out["update_compiles"] = update._cache_size()
    out["update_specs"] = [str(x.sharding.spec) for x in jax.tree.leaves(q)]
    out["batch"] = str(batch[0].sharding.spec)
    out["compiles"] = step._cache_size()
    gen = sampling.make_generate(graphdef, cfg.model, 8, 0, 1)
    r = gen(p, jax.random.key(0), sharding.batch(np.full((8, 16), 5, np.int32)), 1.0)
    r = gen(p, jax.random.key(1), sharding.batch(np.full((8, 16), 5, np.int32)), 1.0)
    out["tokens"], out["generate_compiles"] = str(r.tokens.sharding.spec), gen._cache_size()
print(json.dumps(out))
"""


def test_arrays_carry_the_shardings_the_config_asks_for():
    proc = on_devices(4, [sys.executable, "-c", SHARDINGS], timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["mesh"] == {"data": 2, "fsdp": 2}
    assert out["specs_in"] == out["specs_out"]                 # the update keeps each parameter where it was
    expected = [str(param_spec(tuple(shape), 2)) for shape in out["shapes"]]
    assert out["specs_in"] == expected
    assert any("fsdp" in s for s in out["specs_in"])
    moments = [(shape, spec) for shape, spec in out["moments"] if shape]       # AdamW's mu and nu (not its count)
    assert len(moments) == 2 * len(expected)
    assert all(spec == str(param_spec(tuple(shape), 2)) for shape, spec in moments)   # split as the parameters
    assert out["update_specs"] == out["specs_in"]
    assert out["batch"] == str(P(("data", "fsdp")))
    assert out["tokens"] == str(P(("data", "fsdp")))
    assert out["compiles"] == out["generate_compiles"] == out["update_compiles"] == 1   # nothing recompiles


@pytest.mark.parametrize("extra, message", [
    (["--rl.prompts_per_step=6"], "rl.prompts_per_step (whole groups per device)=6 does not divide over the 4 "
                                  "devices"),
    (["--pretrain.batch_size=10"], "pretrain.batch_size=10 does not divide over the 4 devices"),
    (["--eval.batch_size=30"], "eval.batch_size=30 does not divide over the 4 devices"),
    (["--mesh.data=3"], "mesh.data x mesh.fsdp = 3 x 1 does not use the 4 cpu devices there are"),
    (["--mesh.fsdp=3"], "mesh.fsdp=3 does not divide the 4 cpu devices there are"),
])
def test_batches_that_do_not_divide_get_one_line(tmp_path, extra, message):
    proc = on_devices(4, [*TRAIN, "--out", str(tmp_path / "run"), *extra], timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not os.path.exists(tmp_path / "run" / "config.json")          # refused before the folder is made


def test_param_spec_is_fsdp_rule():
    """Hand-worked: the first axis that fsdp divides is split; nothing divisible, or fsdp 1: replicated."""
    assert param_spec((96, 256), 2) == P("fsdp", None)
    assert param_spec((90, 256), 4) == P(None, "fsdp")           # 90 % 4 != 0: the next axis
    assert param_spec((6, 7), 4) == P()
    assert param_spec((), 2) == P()
    assert param_spec((96, 256), 1) == P()


def test_mesh_errors():
    import jax
    with pytest.raises(ConfigError, match="does not use the 1 cpu devices"):
        make_mesh(MeshConfig(data=2))
    assert dict(make_mesh(MeshConfig(), jax.devices()).shape) == {"data": 1, "fsdp": 1}
    with pytest.raises(ConfigError, match="mesh.fsdp at least 1"):
        validate(Config(mesh=MeshConfig(fsdp=0)))


def test_presets_divide_over_eight_devices():
    """What the README says fits a TPU v5e-8 or an 8-GPU node: the gpu preset's batches split over 8."""
    cfg = preset("gpu")
    for size in (cfg.pretrain.batch_size, cfg.rl.prompts_per_step, cfg.eval.batch_size):
        assert size % 8 == 0


def test_two_processes_run_as_one(runs):
    """Several hosts, played by two processes of 2 CPU devices each (jax.distributed over localhost, gloo
    collectives), the parameters split over all 4 (so across the processes): one run folder, written
    once, with the 1-device run's metrics."""
    import socket
    root, one, _ = runs
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    out = str(root / "two-hosts")
    procs = []
    for i in range(2):
        env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu",
               "JAX_COORDINATOR_ADDRESS": f"localhost:{port}", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": str(i)}
        procs.append(subprocess.Popen([*TRAIN, "--out", out, "--mesh.distributed=true", "--mesh.fsdp=4"], cwd=ROOT,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    logs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs[0][1][-2000:] + logs[1][1][-2000:]
    assert "mesh: 1 data x 4 fsdp = 4 cpu device(s) on 2 processes" in logs[0][0]
    assert "mesh:" not in logs[1][0]                 # the others do not report
    assert_same_metrics(one, out)                  # one copy of every row: only process 0 wrote
    assert samples(one) == samples(out)
    assert summary(one) == summary(out)


def test_one_device_mesh_changes_nothing():
    """On one device the mesh is bookkeeping: the same pretraining steps and samples, bit for bit."""
    import jax
    import numpy as np

    from minireason import model as model_lib
    from minireason import pretrain, sampling, sharding
    cfg = Config()
    graphdef, params = model_lib.init(cfg.model, 64, 0)
    opt = pretrain.make_optimizer(cfg.pretrain)
    step = pretrain.make_train_step(graphdef, opt)
    gen = sampling.make_generate(graphdef, cfg.model, 8, 0, 1)
    rng = np.random.default_rng(0)
    batch = (rng.integers(2, 64, (4, 24)).astype(np.int32), rng.integers(2, 64, (4, 24)).astype(np.int32),
             np.ones((4, 24), np.float32), np.zeros((4, 24), np.int32), np.tile(np.arange(24, dtype=np.int32), (4, 1)))
    prompts = rng.integers(2, 64, (4, 6)).astype(np.int32)

    def go():
        state = sharding.state({"params": params, "opt_state": opt.init(params)})
        p, o = state["params"], state["opt_state"]
        for _ in range(2):
            p, o, loss = step(p, o, sharding.batch(batch))
        tokens = gen(p, jax.random.key(3), sharding.batch(prompts), 1.0).tokens
        return [sharding.host(x) for x in jax.tree.leaves(p)] + [sharding.host(loss), sharding.host(tokens)]

    plain = go()
    with sharding.use(make_mesh(MeshConfig())):
        meshed = go()
    assert all(np.array_equal(a, b) for a, b in zip(plain, meshed))
