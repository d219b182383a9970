"""`radsim compile`: the fast loops compiled now, not by a machine's first large run."""
from __future__ import annotations

from .common import out


def compile_loops() -> None:
    """Compile the fast loops (radsim[fast]: numba) into numba's cache now, some 80 s once per machine and
    install: the first large run then starts at once (without it, the first run that needs a loop compiles
    it, some 20 s a loop)."""
    from simulator.compile_ahead import compile_every_loop
    from simulator.experiment import run_replication

    if compile_every_loop(run_replication):
        out.print("the fast loops are compiled, in numba's cache: large runs load them")
    else:
        out.print("nothing to compile here: numba is not installed (radsim[fast]), or it has nowhere to keep "
                  "compiled loops; each large run runs its loops as Python, or compiles its own")
