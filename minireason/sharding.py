"""Many devices with JAX's own sharding: one device Mesh, and what is sharded how.

    mesh            axes ("data", "fsdp"), mesh.data x mesh.fsdp devices (config `mesh`; by default
                    every device on the data axis)
    batches         their leading axis split over both axes: pretraining rows, RL prompts and
                    completions, held-out evaluation rows
    RL groups       whole groups on each device: rl.prompts_per_step is a multiple of the device count,
                    so a group's G completions, and so its advantages, never straddle two devices
    parameters      replicated; with mesh.fsdp > 1 each array's first axis that fsdp divides is split
                    over the fsdp axis (ZeRO-3 / FSDP: every device keeps 1/fsdp of it)
    optimizer state as the parameters (AdamW's moments have their shapes); its step count replicated
    PRNG keys       uncommitted arrays, which jit copies to every device

Nothing else changes. The jitted functions (sampling.make_generate, rl.make_update, pretrain's step)
are the single-device ones: `jax.jit` compiles for the shardings of the arrays it is given
("computation follows data", https://docs.jax.dev/en/latest/sharded-computation.html) and XLA's SPMD
partitioner adds the collectives: the all-reduce of the gradient over the batch, fsdp's all-gathers
of the parameters. This module is the one place that puts arrays on the mesh (`batch`, `state`,
`replicated`) and brings them back (`host`); `use(mesh)` makes a mesh the current one, and without one
every helper is the plain single-device conversion.

Several hosts (`mesh.distributed=true`): `jax.distributed.initialize()` connects one process per host
before anything else runs. Every process draws the same prompts (they are a function of seed and
step), builds the same global arrays from them (`jax.make_array_from_callback`, each process filling
its own devices' shards), and only the first one writes the run folder (`runfolder.WRITER`).
Every process checks the run folder before the first one writes it, so a bad `--out` stops them all
with the same error. Checkpoints are gathered by all and written by the first; Ctrl-C's last save is
such a collective too, so stop a multi-host run on every host at once (as launchers do).
Checkpoints hold plain host arrays, so they do not depend on the device count: a run saved on 4
devices resumes on 1, and the other way round.
"""
from __future__ import annotations

import contextlib
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from minireason import runfolder
from minireason.config import ConfigError, MeshConfig

AXES = ("data", "fsdp")
BATCH = PartitionSpec(AXES)       # the leading axis over every device of the mesh
REPLICATED = PartitionSpec()

_current: Mesh | None = None      # the mesh `use` made current; None: one device, no sharding


def initialize(cfg: MeshConfig) -> None:
    """Connect the processes of a multi-host run (mesh.distributed): jax.distributed.initialize() reads
    the cluster from the environment (TPU VM slices, SLURM; elsewhere JAX_COORDINATOR_ADDRESS,
    JAX_NUM_PROCESSES, JAX_PROCESS_ID). Call it before any other JAX call. Then only process 0 writes."""
    if not cfg.distributed:
        return
    env = os.environ
    if "JAX_COORDINATOR_ADDRESS" in env:          # a cluster JAX does not detect by itself (and the tests)
        if env.get("JAX_PLATFORMS", "") == "cpu":
            jax.config.update("jax_cpu_collectives_implementation", "gloo")   # CPU processes talk over TCP
        jax.distributed.initialize(env["JAX_COORDINATOR_ADDRESS"], int(env["JAX_NUM_PROCESSES"]),
                                   int(env["JAX_PROCESS_ID"]))
    else:                                         # TPU VM slices, SLURM, Open MPI: detected
        jax.distributed.initialize()
    runfolder.WRITER = jax.process_index() == 0


def make_mesh(cfg: MeshConfig, devices=None) -> Mesh:
    """The (data, fsdp) mesh over `devices` (default: every device of every process). ConfigError when
    mesh.data * mesh.fsdp is not the device count."""
    devices = list(jax.devices() if devices is None else devices)
    n = len(devices)
    if cfg.fsdp < 1 or cfg.data < 0:
        raise ConfigError(f"mesh.fsdp must be at least 1 and mesh.data at least 0, got {cfg.data} x {cfg.fsdp}")
    if n % cfg.fsdp:
        raise ConfigError(f"mesh.fsdp={cfg.fsdp} does not divide the {n} {devices[0].platform} devices there are")
    data = cfg.data or n // cfg.fsdp
    if data * cfg.fsdp != n:
        raise ConfigError(f"mesh.data x mesh.fsdp = {data} x {cfg.fsdp} does not use the {n} {devices[0].platform} "
                          "devices there are; mesh.data=0 takes all the rest")
    # jax.make_mesh orders the devices by the interconnect's topology (TPU slices); Auto axes: jit
    # propagates shardings itself (the default, Explicit, would make them part of every array's type)
    return jax.make_mesh((data, cfg.fsdp), AXES, axis_types=(AxisType.Auto,) * 2, devices=devices)


def check_batches(cfg, mesh: Mesh) -> None:
    """Every batch that is split over the devices must divide evenly: a one-line ConfigError if not."""
    n = mesh.size
    sizes = {"pretrain.batch_size": cfg.pretrain.batch_size,
             "rl.prompts_per_step (whole groups per device)": cfg.rl.prompts_per_step,
             "eval.batch_size": cfg.eval.batch_size}
    if cfg.rl.reward == "judge":
        sizes.update({"judge.batch_size": cfg.judge.batch_size, "judge.batch": cfg.judge.batch})
    for name, size in sizes.items():
        if size % n:
            raise ConfigError(f"{name}={size} does not divide over the {n} devices of the mesh "
                              f"({mesh.shape['data']} data x {mesh.shape['fsdp']} fsdp); pick a multiple of {n}")


@contextlib.contextmanager
def use(mesh: Mesh | None):
    """Make `mesh` the current one for `batch`, `state`, `replicated` (None: no sharding)."""
    global _current
    previous, _current = _current, mesh
    try:
        yield mesh
    finally:
        _current = previous


def devices() -> int:
    """How many devices a batch is split over (1 without a mesh)."""
    return 1 if _current is None else _current.size


def _put(x, spec: PartitionSpec):
    """x as a global array with sharding `spec` on the current mesh. A host value (every process holds
    the same one) is cut into the shards this process's devices hold; an array already spread over
    several processes' devices is resharded on the devices (it cannot be read whole on one host)."""
    sharding = NamedSharding(_current, spec)
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        return jax.device_put(x, sharding)
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])


def batch(tree):
    """Arrays whose leading axis is the batch, split over every device of the mesh (without a mesh:
    plain device arrays, as jnp.asarray makes them)."""
    if _current is None:
        return jax.tree.map(jnp.asarray, tree)
    return jax.tree.map(lambda x: _put(x, BATCH), tree)


def replicated(tree):
    """Arrays every device holds whole (the held-out loss batch); without a mesh, `tree` as it is."""
    if _current is None:
        return tree
    return jax.tree.map(lambda x: _put(x, REPLICATED), tree)


def param_spec(shape: tuple[int, ...], fsdp: int) -> PartitionSpec:
    """FSDP's rule for one array: split its first axis that `fsdp` divides over the fsdp axis, or
    replicate it (scalars, and arrays no axis of which fsdp divides). A kernel is [in, out], so that is
    its input axis, the one a matmul contracts and XLA all-gathers before it: splitting the output axis
    instead would ask the activations for the fsdp axis twice (batch and features), which XLA can only
    resolve by replicating them."""
    if fsdp > 1:
        for axis, size in enumerate(shape):
            if size % fsdp == 0:
                return PartitionSpec(*[("fsdp" if i == axis else None) for i in range(len(shape))])
    return REPLICATED


def state(tree):
    """Parameters and optimizer state: replicated, or split by `param_spec` when the mesh has fsdp > 1;
    without a mesh, `tree` as it is."""
    if _current is None:
        return tree
    fsdp = _current.shape["fsdp"]
    return jax.tree.map(lambda x: _put(x, param_spec(np.shape(x), fsdp)), tree)


def host(x) -> np.ndarray:
    """A (possibly sharded) array as one numpy array on this host; across hosts this is a collective,
    so every process must call it."""
    if getattr(x, "is_fully_addressable", True):
        return np.asarray(x)
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def sync(name: str) -> None:
    """Wait until every process gets here (a no-op with one process), e.g. after process 0 wrote a file
    the others read."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils
        multihost_utils.sync_global_devices(name)


def describe(mesh: Mesh) -> str:
    """One line for the log: the mesh and where the parameters live."""
    d, f = mesh.shape["data"], mesh.shape["fsdp"]
    where = "replicated" if f == 1 else f"split over {f} devices (fsdp)"
    hosts = f" on {jax.process_count()} processes" if jax.process_count() > 1 else ""
    return (f"mesh: {d} data x {f} fsdp = {math.prod(mesh.devices.shape)} {mesh.devices.flat[0].platform} "
            f"device(s){hosts}; batches split over all of them, parameters {where}")
