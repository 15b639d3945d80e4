"""Regions on Dask: OGGM entity tasks on a laptop's cores or a cluster, glacier by glacier.

- :mod:`.scheduler`: :func:`execute_entity_task` (OGGM's function, on Dask) and
  :func:`run_region` (each glacier's whole chain as one unit, largest first, no barrier
  between steps, a progress bar and a per-glacier summary table);
- :mod:`.cluster`: the embedded ``LocalCluster``, a user's scheduler or cluster, SLURM;
  :mod:`.preload`: the workers made ready when they start;
- :mod:`.worker`, :mod:`.transaction`: a glacier's chain in a worker, as one transaction on
  its folder (faults lose nothing and produce each result once);
- :mod:`.steps`, :mod:`.summary`: OGGM's input rules, the summary table;
- :mod:`.chain`, :mod:`.command`, :mod:`.figure`: the Ötztal chain, ``oggm-glaunti region``
  and its figure.

See the workflow guide (docs/oggm_workflow.md, "Regions on Dask"). Importing this package
imports neither OGGM nor Dask.
"""

_LAZY = {
    "execute_entity_task": "scheduler",
    "run_region": "scheduler",
    "open_client": "cluster",
    "local_cluster": "cluster",
    "slurm_cluster": "cluster",
    "worker_environment": "cluster",
    "RegionResult": "summary",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
