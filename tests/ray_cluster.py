"""A real Ray cluster on this machine for the tests: a head and a second node, each its own
raylet (and object store) on loopback, so actors, tasks and objects really cross nodes.

Ray takes a machine's outward address as a node's address; here the cluster must stay on
loopback (CI machines have no network to speak of), which Ray does when told not to act as
a multi-machine cluster (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: on Linux it only changes
the address Ray picks). Nodes are Ray's own test helper (``ray.cluster_utils.Cluster``):
each ``add_node`` starts a raylet process, and ``remove_node`` kills one, as a lost
machine would be.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent

NODE_CPUS = 1
"""Each node offers one core, so two searchers need both nodes."""


class RayCluster:
    """Started on ``__enter__``; the test process joins it as Ray's driver."""

    def __init__(self, nodes: int = 2):
        self.nodes = nodes
        self.cluster: Any = None
        self.workers: list[Any] = []

    def __enter__(self) -> RayCluster:
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
        # Ray's workers import what they run by module (test helpers from tests/ too); they
        # inherit the raylets' environment, not pytest's sys.path
        paths = [str(TESTS), str(TESTS.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        import ray
        from ray.cluster_utils import Cluster

        self.cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": NODE_CPUS, "include_dashboard": False, "node_ip_address": "127.0.0.1"},
        )
        for _ in range(self.nodes - 1):
            self.add_node()
        self.cluster.wait_for_nodes()
        ray.init(address=self.address, log_to_driver=False)
        return self

    @property
    def address(self) -> str:
        return self.cluster.address

    def add_node(self) -> Any:
        node = self.cluster.add_node(num_cpus=NODE_CPUS, node_ip_address="127.0.0.1")
        self.workers.append(node)
        return node

    def kill_node(self, node: Any) -> None:
        """Kill a node's processes at once (no graceful shutdown), as a lost machine."""
        self.cluster.remove_node(node, allow_graceful=False)
        self.workers.remove(node)

    def node_ids(self) -> set[str]:
        import ray

        return {n["NodeID"] for n in ray.nodes() if n["Alive"]}

    def head_id(self) -> str:
        return self.cluster.head_node.node_id

    def hold_core(self, node_id: str) -> Any:
        """An actor holding the core of node ``node_id`` (started; ``ray.kill`` it to free
        the core), so that what else runs must run on another node."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        holder = ray.remote(num_cpus=NODE_CPUS)(CoreHolder).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
        )
        actor = holder.remote()
        ray.get(actor.node.remote())
        return actor

    def __exit__(self, *exc: object) -> None:
        import ray

        from carescheduler.cluster.searchers import release_idle

        release_idle()
        ray.shutdown()
        self.cluster.shutdown()


class CoreHolder:
    """Holds a core for as long as it lives (here, importable on the nodes, not in a test)."""

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()
