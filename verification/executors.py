"""Run claims (× seeds) as independent tasks: in this process, on a local process pool, or on Dask.

``kdverify run|gpu|stability --jobs N`` and ``--dask ADDRESS`` / ``--dask local`` go through here.

Tasks
-----
:func:`plan` cuts a selection into :class:`Task` s: the claims that share an ``rng_key`` (one
experiment, one memoised run; see ``gpu_validation.experiments._common.memo``) form one task, so their
memo is reused inside the worker; every seed is a separate task. A task carries only names (claim ids,
the seed, the size, the check options and the plugin modules to import), so a worker rebuilds the
registry itself (:func:`run_task`) and receives exactly the generator the sequential run gives the
claim (``claim_rng(seed, claim.rng_name)``). Results are put back in the selection's order, so the
report is the same, byte for byte apart from timing, whichever executor ran it.

Failures
--------
An exception inside a check is already a ``violated`` verdict (``run_claims``). A task that fails
as a whole — its worker process dies (``os._exit``, a segfault, the OOM killer), a plugin module does
not import there, its result cannot be sent back — becomes a ``violated`` row for each of its claims
with ``details["error"]`` naming the cause; the run goes on and the report is complete.
On the process pool, a dead worker breaks the pool (every pending future fails at once): the tasks
not finished are re-run one at a time on a one-process pool, where the first unfinished task is the
one that killed it; it alone is reported. On Dask, the scheduler re-runs a task whose worker died on
another worker up to ``distributed.scheduler.allowed-failures`` times (``--dask local`` sets it to 1)
and then raises ``KilledWorker``, which becomes the row.

Dask
----
``--dask local`` starts an in-process ``distributed.LocalCluster`` (``--jobs`` worker processes, one
thread each). ``--dask tcp://host:8786`` uses a running cluster::

    dask scheduler                                   # on one machine: prints tcp://host:8786
    dask worker tcp://host:8786 --nthreads 1         # CPU workers (one thread: the checks are serial)
    dask worker tcp://host:8786 --nthreads 1 --resources GPU=1   # one per GPU (CUDA_VISIBLE_DEVICES=i)

Every worker needs kdtheory (``pip install -e '.[dask]'``; torch for network claims) and the plugin
modules importable. Network tasks run with ``--device cuda`` request ``resources={"GPU": 1}`` (with
``--device auto`` only when some worker advertises a GPU), so they are scheduled only on GPU workers,
one at a time per GPU; a run asking for GPUs on a cluster without any stops with an error instead of
waiting forever.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from . import claims as _claims

__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SequentialExecutor", "Task", "make_executor",
           "plan", "run_claims_on", "run_seeds", "run_task"]


@dataclasses.dataclass(frozen=True)
class Task:
    """Claims run together in one worker: one ``rng_key`` group at one seed."""

    claim_ids: tuple[str, ...]
    seed: int
    size: str
    options: tuple[tuple[str, Any], ...] = ()  # check options (device, dataset, n_seeds, …)
    network: bool = False  # the worker must load the network claims (torch)
    modules: tuple[str, ...] = ()  # plugin claim modules the worker must import
    gpu: bool = False  # request a GPU worker resource (Dask)
    check_modules: tuple[str, ...] = ()  # the modules defining the checks: a worker imports just these
    figures: bool = False  # the worker may need the figure claims (paper_figs)

    @property
    def label(self) -> str:
        return f"{self.claim_ids[0]}{' +%d' % (len(self.claim_ids) - 1) if len(self.claim_ids) > 1 else ''}" \
               f" (seed {self.seed})"


def plan(claims: Sequence[_claims.Claim], seeds: Iterable[int] = (0,), *, size: str = "quick",
         options: Mapping[str, Any] | None = None, modules: Iterable[str] | None = None,
         gpu: bool = False) -> list[Task]:
    """The tasks of a run: per seed, one task per ``rng_key`` group (first appearance order)."""
    groups: dict[str, list[_claims.Claim]] = {}
    for c in claims:
        groups.setdefault(c.rng_name, []).append(c)
    network = any(c.kind == "network" for c in claims)
    mods = tuple(_claims_plugins().loaded_modules() if modules is None else modules)
    opts = tuple(sorted((options or {}).items()))
    return [Task(tuple(c.id for c in cs), int(s), size, opts, network, mods, gpu and network,
                 tuple(sorted({getattr(c.check, "__module__", None) or "" for c in cs} - {""})),
                 any(c.kind == "figure" for c in cs))
            for s in seeds for cs in groups.values()]


def _claims_plugins():
    from . import plugins

    return plugins


_LOADED: set[tuple[bool, bool, tuple[str, ...]]] = set()


def _ensure_registered(task: Task) -> None:
    """Register the task's claims in this (worker) process: the plugin modules, then the modules that
    define the checks (cheaper than importing every claim module), else the whole registry."""
    import importlib

    plugins = _claims_plugins()
    for m in task.modules:
        plugins.load_module(m)
    reg = _claims.registry()
    if all(i in reg for i in task.claim_ids):
        return
    for m in task.check_modules:
        try:
            importlib.import_module(m)
        except Exception:  # noqa: S110 - the full load below reports what is really missing
            pass
    reg = _claims.registry()
    key = (task.network, task.figures, task.modules)
    if not all(i in reg for i in task.claim_ids) and key not in _LOADED:
        _claims.load_all(network=task.network, figures=task.figures, modules=task.modules)
        _LOADED.add(key)


def run_task(task: Task) -> list[_claims.Verdict]:
    """Worker side: register the task's claims as the parent has them, run them in order."""
    _ensure_registered(task)
    cs = [_claims.get(i) for i in task.claim_ids]
    return _claims.run_claims(cs, seed=task.seed, size=task.size, **dict(task.options))


def failed(task: Task, cause: str, seconds: float = 0.0) -> list[_claims.Verdict]:
    """The rows of a task that did not return: ``violated``, naming the cause."""
    return [_claims.Verdict(i, float("nan"), float("nan"), "n/a", "violated", float("nan"),
                            {"error": cause}, seconds) for i in task.claim_ids]


Progress = Callable[[Task], None]


class Executor:
    """Runs tasks; :meth:`map` returns each task's verdicts in the order of ``tasks``."""

    name = "executor"

    def map(self, tasks: Sequence[Task], progress: Progress | None = None) -> list[list[_claims.Verdict]]:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


class SequentialExecutor(Executor):
    """In this process, one task after the other (the default; what ``--jobs 1`` means)."""

    name = "sequential"

    def map(self, tasks, progress=None):
        out = []
        for t in tasks:
            t0 = time.perf_counter()
            try:
                out.append(run_task(t))
            except Exception as exc:  # e.g. a plugin module that fails to import
                out.append(failed(t, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0))
            if progress is not None:
                progress(t)
        return out


def _spawn_context():
    # spawn (not fork): a worker starts from a clean interpreter, never with a copy of the parent's
    # threads (rich's progress bar, torch's pools) or its half-built registry; portable to macOS/Windows.
    return multiprocessing.get_context("spawn")


class ProcessExecutor(Executor):
    """A local :class:`concurrent.futures.ProcessPoolExecutor` of ``jobs`` spawned processes."""

    def __init__(self, jobs: int):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
        self.jobs = jobs
        self.name = f"process pool ({jobs} workers)"

    def map(self, tasks, progress=None):
        results: dict[int, list] = {}
        pending = list(range(len(tasks)))
        workers = min(self.jobs, max(1, len(tasks)))
        while pending:
            broken = False
            with ProcessPoolExecutor(max_workers=workers, mp_context=_spawn_context()) as ex:
                futs = {ex.submit(run_task, tasks[i]): i for i in pending}
                for f in as_completed(futs):
                    i = futs[f]
                    try:
                        results[i] = f.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    except Exception as exc:  # raised outside the checks: import, pickling …
                        results[i] = failed(tasks[i], f"{type(exc).__name__}: {exc}")
                    if progress is not None:
                        progress(tasks[i])
            pending = [i for i in pending if i not in results]
            if broken and pending:
                if workers == 1:
                    # one worker takes tasks in order: the first unfinished one is the one that killed it
                    i = pending.pop(0)
                    results[i] = failed(tasks[i], "worker process died while running this task "
                                                  "(BrokenProcessPool: the process exited abruptly)")
                    if progress is not None:
                        progress(tasks[i])
                workers = 1  # isolate the culprit among the unfinished tasks
        return [results[i] for i in range(len(tasks))]


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: ``address`` of a scheduler, or ``"local"`` for an in-process LocalCluster."""

    def __init__(self, address: str, jobs: int | None = None):
        if not isinstance(address, str) or not address.strip():
            raise ValueError(f"dask address must be 'local' or a scheduler address, got {address!r}")
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
            raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
        try:
            import distributed  # noqa: F401
        except ImportError as exc:
            raise ImportError("--dask needs dask.distributed: pip install -e '.[dask]'") from exc
        self.address = address.strip()
        self.jobs = jobs
        n = jobs or 2
        self.name = f"dask LocalCluster ({n} workers)" if self.address == "local" else f"dask {self.address}"

    def _client(self, need_gpu: bool):
        import dask
        from distributed import Client, LocalCluster
        from distributed.versions import VersionMismatchWarning

        # workers that imported an optional package (pandas, through the PEP oracles) the client has not
        warnings.filterwarnings("ignore", category=VersionMismatchWarning)

        if self.address != "local":
            return Client(self.address), None
        resources = None
        if need_gpu:
            resources = {"GPU": 1}
        # allowed-failures 1: a task that killed two workers is reported (KilledWorker) instead of killing
        # four. profile off: the statistical profiler samples the task thread every 10 ms and, holding the
        # GIL, slowed pure-Python checks. No MALLOC_TRIM_THRESHOLD_ for the workers (the nanny's default
        # sets it): it turns off glibc's dynamic mmap threshold, so every large temporary array is a fresh
        # mmap — rahbar.finite_width ran 36 s instead of 14 s in a plain process with it set.
        environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
        with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                              "distributed.worker.profile.enabled": False,
                              "distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(n_workers=self.jobs or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, resources=resources, silence_logs=40)
        return Client(cluster), cluster

    def map(self, tasks, progress=None):
        from distributed import as_completed as d_completed

        need_gpu = any(t.gpu for t in tasks)
        client, cluster = self._client(need_gpu)
        try:
            if any(t.network and not t.gpu and dict(t.options).get("device") == "auto" for t in tasks):
                # --device auto: network tasks go to GPU workers when the cluster has any
                if any(w.get("resources", {}).get("GPU", 0) >= 1
                       for w in client.scheduler_info().get("workers", {}).values()):
                    tasks = [dataclasses.replace(t, gpu=True) if t.network else t for t in tasks]
                    need_gpu = True
            if need_gpu:
                workers = client.scheduler_info().get("workers", {})
                if not any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers.values()):
                    raise RuntimeError("network tasks request a GPU but no Dask worker advertises one: start "
                                       "workers with `dask worker ADDRESS --resources GPU=1` (or use --device cpu)")
            run_id = uuid.uuid4().hex[:8]
            results: dict[int, list] = {}

            def submit(indices, attempt):
                return {client.submit(run_task, tasks[i], key=f"kdverify-{run_id}-{attempt}-{i}", pure=False,
                                      resources={"GPU": 1} if tasks[i].gpu else None): i for i in indices}

            def collect(futs, final):
                killed = []
                # with_results: each result is gathered the moment it is ready and the future released,
                # so a worker that dies later cannot take a finished result with it (Dask would recompute it)
                for f, res in d_completed(list(futs), with_results=True, raise_errors=False):
                    i = futs.pop(f)
                    erred = f.status != "finished"  # then res is (type, exception, traceback) or the exception
                    f.release()
                    try:
                        if erred:
                            raise res[1] if isinstance(res, tuple) and len(res) == 3 else res
                        results[i] = res
                    except Exception as exc:
                        name = type(exc).__name__
                        if not final:
                            # KilledWorker: maybe only queued on the worker that died; any other error of a
                            # task that never returned (a result lost with its worker, a cancelled future
                            # under load; a check's own exception is a verdict, not an error): retry it alone
                            killed.append(i)
                            continue
                        cause = (f"dask worker died while running this task ({name}: {exc})"
                                 if name == "KilledWorker" else f"{name}: {exc}")
                        results[i] = failed(tasks[i], cause)
                    if progress is not None:
                        progress(tasks[i])
                return killed

            # a dying worker takes down every task it holds, queued ones included: the tasks that did not return
            # are re-run one at a time, and a task that kills its worker alone is the culprit
            for n, i in enumerate(sorted(collect(submit(range(len(tasks)), 0), final=False))):
                collect(submit([i], n + 1), final=True)
            return [results[i] for i in range(len(tasks))]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_executor(jobs: int | None = None, dask: str | None = None) -> Executor:
    """``--jobs`` / ``--dask`` to an executor: Dask when ``dask`` is set, a pool for ``jobs > 1``."""
    if dask:
        return DaskExecutor(dask, jobs)
    if jobs is None or jobs == 1:
        return SequentialExecutor()
    return ProcessExecutor(jobs)


def run_seeds(claims: Sequence[_claims.Claim], seeds: Iterable[int], *, size: str = "quick",
              executor: Executor | None = None, progress: Progress | None = None, gpu: bool = False,
              modules: Iterable[str] | None = None, **options: Any) -> dict[int, list[_claims.Verdict]]:
    """Run ``claims`` at every seed; per seed, the verdicts in the order of ``claims``."""
    seeds = [int(s) for s in seeds]
    tasks = plan(claims, seeds, size=size, options=options, modules=modules, gpu=gpu)
    done = (executor or SequentialExecutor()).map(tasks, progress)
    by_id: dict[tuple[int, str], _claims.Verdict] = {}
    for t, vs in zip(tasks, done):
        if len(vs) != len(t.claim_ids):
            vs = failed(t, f"task returned {len(vs)} verdicts for {len(t.claim_ids)} claims")
        for cid, v in zip(t.claim_ids, vs):
            by_id[(t.seed, cid)] = v
    return {s: [by_id[(s, c.id)] for c in claims] for s in seeds}


def run_claims_on(claims: Sequence[_claims.Claim], *, seed: int = 0, size: str = "quick",
                  executor: Executor | None = None, progress: Progress | None = None, gpu: bool = False,
                  modules: Iterable[str] | None = None, **options: Any) -> list[_claims.Verdict]:
    """Like :func:`verification.claims.run_claims`, on an executor; verdicts in the order of ``claims``."""
    return run_seeds(claims, [seed], size=size, executor=executor, progress=progress, gpu=gpu,
                     modules=modules, **options)[int(seed)]


def cpu_count() -> int:
    return os.cpu_count() or 1
