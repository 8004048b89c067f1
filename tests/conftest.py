"""Fixtures shared by the test files."""
import os
import sys

import jax
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # train.py, sample.py, ...


@pytest.fixture(scope="module")
def fast_compiles():
    """Skip most of XLA's optimisation passes while a test module runs (opt in with
    `pytestmark = pytest.mark.usefixtures("fast_compiles")`).

    Tests of tiny models spend nearly all their time compiling programs they then run a few times;
    on CPU this halves the compile time. Only this process is affected (subprocesses are not), and the
    previous setting is restored after the module.
    """
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", old)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """One finished run of the `smoke` preset, shared by the tests of the pipeline and of the tools:
    (run folder, summary)."""
    from minireason.config import smoke
    from minireason.run import run
    out = str(tmp_path_factory.mktemp("smoke") / "run")
    summary = run(smoke(), out, echo=lambda *a: None)
    return out, summary
