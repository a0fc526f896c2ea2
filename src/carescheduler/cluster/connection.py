"""Joining a Ray cluster once per process, by the address the settings give."""

from __future__ import annotations

import logging
import os
import threading
from types import ModuleType

from ..errors import InputError

__all__ = ["connect", "connected_address", "ray_module"]

_lock = threading.Lock()


def ray_module() -> ModuleType:
    """The ``ray`` package, or a clear error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(
            "ray_address", "a Ray address is set but Ray is not installed: pip install 'carescheduler[ray]'"
        ) from None
    return ray


def connect(address: str) -> ModuleType:
    """Join the cluster at ``address`` ('host:port', 'auto', or 'local' to start a Ray on
    this machine) unless this process already has; returns the ``ray`` module.

    A process joins one cluster for its life (Ray's own rule): a second, different address
    is refused rather than silently ignored. Usage statistics are never sent.
    """
    if not address or not address.strip():
        raise InputError("ray_address", "is empty: give 'host:port', 'auto' or 'local', or leave it unset")
    ray = ray_module()
    with _lock:
        if ray.is_initialized():
            return ray
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            if address == "local":  # a new Ray on this machine, even if another is running
                ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
            else:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise InputError("ray_address", f"cannot join the Ray cluster at {address!r}: {error}") from None
    return ray


def connected_address() -> str | None:
    """The address of the cluster this process has joined, if any (Ray need not be installed)."""
    try:
        import ray
    except ImportError:
        return None
    if not ray.is_initialized():
        return None
    return ray.get_runtime_context().gcs_address
