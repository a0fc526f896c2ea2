"""The pooled search's other searches as Ray actors, on any node of a cluster.

``parallel_search`` talks to a searcher through four calls (``ready``, ``send``,
``receive``, ``stop``), the same for a forked process and for a Ray actor here. An actor
takes a node's core for as long as this process keeps it: the first search on a cluster
pays for starting actors and loading the kernels (seconds), and the actors are then kept
warm for the next search, which only ships them the day. Deadlines cross machines as
seconds left, since each machine has its own clock. An actor that is lost with its node,
fails to start, or answers late is dropped (killed, if it is still there), and the search
goes on with the others.
"""

from __future__ import annotations

import contextlib
import threading
import time
from types import ModuleType
from typing import Any

from ..params import SolveParams
from ..search.instance import Instance
from ..search.parallel import RoundAnswer, search_round
from .connection import connect

__all__ = ["RaySearcher", "SearchActor", "nodes_that_answered", "ray_searchers", "warm_searchers"]

_lock = threading.Lock()
_idle: dict[str, list[Any]] = {}
"""Actors of this process between searches, warm (kernels loaded), by cluster."""
_answered_from: set[str] = set()
"""Nodes whose searchers have answered a round in this process (what tests and logs ask)."""


class SearchActor:
    """One searcher on a cluster node: loads the kernels when it starts, then runs rounds
    of the large-neighbourhood search on the day it was last given."""

    def __init__(self) -> None:
        from ..search.solver import warm_up

        warm_up()  # the kernels from the node's disk cache (compiled there once)
        self.inst: Instance | None = None
        self.params = SolveParams()

    def load(self, inst: Instance, params: SolveParams) -> str:
        """Take the day to search; returns the node this actor is on."""
        import ray

        self.inst, self.params = inst, params
        return ray.get_runtime_context().get_node_id()

    def search_round(self, message: tuple) -> tuple[RoundAnswer, str]:
        import ray

        R, L, seconds_left, *rest = message
        assert self.inst is not None, "load() comes first"
        answer = search_round(self.inst, self.params, R, L, time.monotonic() + seconds_left, *rest)
        return answer, ray.get_runtime_context().get_node_id()


_actor_class: Any = None


def _remote_class(ray: ModuleType) -> Any:
    global _actor_class
    if _actor_class is None:
        # one core each; spread over the nodes, so a lost node takes as few as it can
        _actor_class = ray.remote(num_cpus=1, max_restarts=0, scheduling_strategy="SPREAD")(SearchActor)
    return _actor_class


class RaySearcher:
    """``parallel_search``'s view of one actor: a round sent, its answer awaited."""

    def __init__(self, ray: ModuleType, actor: Any, loaded: Any):
        self.ray, self.actor, self.loaded = ray, actor, loaded
        self.pending: Any = None
        self.lost = False
        self.node: str | None = None

    def ready(self) -> bool:
        """Started and holding the day (False while it loads; a failed start is lost)."""
        if self.lost:
            return False
        if self.loaded is None:
            return True
        done, _ = self.ray.wait([self.loaded], timeout=0)
        if not done:
            return False
        try:
            self.node = self.ray.get(self.loaded)
        except self.ray.exceptions.RayError:
            self.lost = True
            return False
        self.loaded = None
        return True

    def wait_ready(self, until: float) -> bool:
        """Wait until it is ready or ``until``; False if it is not by then (or lost)."""
        if self.loaded is not None and not self.lost:
            self.ray.wait([self.loaded], timeout=max(0.0, until - time.monotonic()))
        return self.ready()

    def send(self, message: tuple) -> None:
        R, L, round_end, *rest = message
        seconds_left = max(0.0, round_end - time.monotonic())
        self.pending = self.actor.search_round.remote((R, L, seconds_left, *rest))

    def receive(self, until: float) -> RoundAnswer | None:
        """The round's answer, or None if the actor is lost or has not answered by ``until``."""
        done, _ = self.ray.wait([self.pending], timeout=max(0.0, until - time.monotonic()))
        if not done:
            return None
        ref, self.pending = self.pending, None
        try:
            answer, node = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as error:  # the search itself failed: a bug to hear of
            raise RuntimeError(f"a search actor failed:\n{error}") from None
        except self.ray.exceptions.RayError:  # its worker or node is gone
            self.lost = True
            return None
        self.node = node
        with _lock:
            _answered_from.add(node)
        return answer

    def stop(self) -> None:
        """Back to the warm pool if it is well and idle; otherwise killed."""
        if self.lost or self.pending is not None or self.loaded is not None:
            with contextlib.suppress(self.ray.exceptions.RayError):  # already gone with its node
                self.ray.kill(self.actor)
            return
        with _lock:
            _idle.setdefault(_cluster(self.ray), []).append(self.actor)


def ray_searchers(address: str, inst: Instance, params: SolveParams, count: int) -> list[RaySearcher]:
    """``count`` searchers on the cluster at ``address``, each sent ``inst`` (shipped once
    through the object store); warm actors of this process are used first."""
    ray = connect(address)
    with _lock:
        idle = _idle.setdefault(_cluster(ray), [])
        actors = [idle.pop() for _ in range(min(count, len(idle)))]
    actor_class = _remote_class(ray)
    actors += [actor_class.remote() for _ in range(count - len(actors))]
    day = ray.put(inst)
    return [RaySearcher(ray, actor, actor.load.remote(day, params)) for actor in actors]


def warm_searchers(address: str, count: int) -> list[str]:
    """Start ``count`` searchers on the cluster now and wait until each has loaded the
    kernels, so the next search's first round has them all (a service does this when it
    starts; a benchmark, before it times). Returns their nodes."""
    from ..scenarios.demo import demo_problem
    from ..search.instance import compile_problem

    searchers = ray_searchers(address, compile_problem(demo_problem(clients=4, carers=2)), SolveParams(), count)
    forever = time.monotonic() + 3600.0
    nodes = [s.node for s in searchers if s.wait_ready(forever) and s.node is not None]
    for searcher in searchers:
        searcher.stop()
    return nodes


def _cluster(ray: ModuleType) -> str:
    return ray.get_runtime_context().gcs_address


def nodes_that_answered() -> set[str]:
    """The nodes whose searchers have answered a round in this process."""
    with _lock:
        return set(_answered_from)
