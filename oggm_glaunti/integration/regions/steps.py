"""OGGM's input rules for entity tasks, shared by the Dask scheduler and the chain runner.

``workflow.execute_entity_task(task, gdirs, **kwargs)`` (OGGM 1.6) accepts:

- ``task``: one task, or a sequence of tasks whose items are a task or a
  ``(task, kwargs)`` pair (the kwargs go to that task only); global tasks are refused;
- ``gdirs``: one glacier directory or a list, whose items are a glacier directory or a
  ``(gdir, kwargs)`` pair (the kwargs go to every task, for that glacier only);
- ``**kwargs``: for every task and glacier.

The kwargs are merged as OGGM's ``_pickle_copier`` merges them: call kwargs, then the
task's own, then the glacier's (a later one wins). The name under which OGGM's entity-task
decorator logs a step (in the glacier's ``log.txt``) is the task's name followed by its
``filesuffix`` or ``output_filesuffix`` argument (:func:`step_name`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, NamedTuple


class Step(NamedTuple):
    """One step of a glacier's chain: a task and the kwargs it gets on every glacier."""

    task: Callable
    kwargs: dict


class Glacier(NamedTuple):
    """A glacier directory and the kwargs its steps get (OGGM's ``(gdir, kwargs)`` item),
    and its area once the scheduler has read it (so that a worker does not read the
    outlines again for the glacier's record)."""

    gdir: Any
    kwargs: dict
    area_km2: float | None = None


def normalise_steps(task, common: dict | None = None) -> list[Step]:
    """``task`` as OGGM accepts it, as a list of :class:`Step` with ``common`` merged in.

    Raises
    ------
    oggm.exceptions.InvalidWorkflowError
        for a global task (as OGGM).
    TypeError
        for an item that is neither a callable nor a ``(callable, dict)`` pair.
    """
    from oggm.exceptions import InvalidWorkflowError

    items = list(task) if isinstance(task, Sequence) and not isinstance(task, str) else [task]
    if isinstance(task, tuple) and len(task) == 2 and callable(task[0]) and isinstance(task[1], dict):
        items = [task]  # a single (task, kwargs) pair
    steps = []
    for item in items:
        func, kwargs = item if isinstance(item, tuple) else (item, {})
        if not callable(func) or not isinstance(kwargs, dict):
            raise TypeError(f"a step must be a task or a (task, kwargs) pair; got {item!r}")
        if getattr(func, "is_global_task", False):
            raise InvalidWorkflowError(f"{func.__name__} is a global task: run it on the list of "
                                       "glacier directories directly, not per glacier")
        steps.append(Step(func, {**(common or {}), **kwargs}))
    if not steps:
        raise ValueError("no task given: pass a task, or a list of tasks")
    return steps


def normalise_glaciers(gdirs) -> list[Glacier]:
    """``gdirs`` as OGGM accepts them, as a list of :class:`Glacier`."""
    from oggm import utils

    glaciers = []
    for item in utils.tolist(gdirs):
        if isinstance(item, Sequence) and not isinstance(item, str):
            gdir, kwargs = item
            glaciers.append(Glacier(gdir, dict(kwargs)))
        else:
            glaciers.append(Glacier(item, {}))
    return glaciers


def step_name(step: Step, glacier_kwargs: dict | None = None) -> str:
    """The name OGGM logs the step under: the task's name + its file suffix."""
    kwargs = {**step.kwargs, **(glacier_kwargs or {})}
    suffix = kwargs.get("filesuffix", False) or kwargs.get("output_filesuffix", False)
    return step.task.__name__ + (suffix or "")


def step_kwargs(step: Step, glacier_kwargs: dict) -> dict:
    """The kwargs of a step on one glacier (OGGM's merge order)."""
    return {**step.kwargs, **glacier_kwargs}


def is_entity_task(func: Callable) -> bool:
    """True for a task decorated with OGGM's ``entity_task`` (it logs itself)."""
    return bool(getattr(func, "is_entity_task", False))


def glacier_area_km2(gdir) -> float:
    """The glacier's RGI area, to start the largest glaciers first (0 when it cannot be
    read: such a glacier is started last, and its chain fails and is recorded like any
    other failure)."""
    try:
        return float(gdir.rgi_area_km2)
    except Exception:  # noqa: BLE001 - no outlines, a broken file: reported by the glacier's chain
        return 0.0


def known_area_km2(glacier: Glacier) -> float:
    """The glacier's area as the scheduler read it, else read now."""
    return glacier_area_km2(glacier.gdir) if glacier.area_km2 is None else glacier.area_km2
