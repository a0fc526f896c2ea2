"""One library call run as a Ray task on a cluster: awaited, cancelled, retried when lost.

A service's worker hands a solve or a replan to the cluster this way and keeps the rest
(the database, publishing) to itself: the task only computes. Ray runs a task again, up to
``retries`` times, when the worker or node running it is lost; an error raised by the
call itself is not retried (it would only fail again) and comes back as itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .connection import connect

__all__ = ["RemoteCall", "TaskLost", "submit"]

T = TypeVar("T")

_tasks: dict[tuple[Callable[..., Any], int, float], Any] = {}
"""Functions made Ray tasks in this process (each is sent to the cluster once)."""


class TaskLost(RuntimeError):
    """The cluster lost a call more times than it may retry (its node or worker died each
    time): told apart from an error the call raised, which comes back as itself."""


class RemoteCall(Generic[T]):
    """A call running on the cluster."""

    def __init__(self, ray: Any, ref: Any, what: str):
        self._ray, self.ref, self.what = ray, ref, what

    def done(self) -> bool:
        ready, _ = self._ray.wait([self.ref], timeout=0)
        return bool(ready)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the call to finish; True when it has."""
        ready, _ = self._ray.wait([self.ref], timeout=max(0.0, seconds))
        return bool(ready)

    def result(self, timeout: float | None = None) -> T:
        """The call's return value. Raises what the call raised (an ``InputError`` stays one),
        ``TimeoutError`` if not done within ``timeout``, ``TaskLost`` (a ``RuntimeError``)
        when the cluster lost it more times than it may retry (its worker or node died), and
        ``RuntimeError`` when it was cancelled or its answer cannot be read here."""
        if timeout is not None and not self.wait(timeout):
            raise TimeoutError(f"{self.what} did not finish within {timeout:g} s")
        ray = self._ray
        try:
            return ray.get(self.ref)
        except ray.exceptions.RayTaskError as error:
            cause = error.as_instanceof_cause()
            raise (cause.cause if getattr(cause, "cause", None) is not None else cause) from None
        except ray.exceptions.TaskCancelledError:
            raise RuntimeError(f"{self.what} was cancelled") from None
        except (
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.ObjectLostError,
        ) as error:
            raise TaskLost(f"the cluster lost {self.what}: {error}") from None
        except ray.exceptions.RayError as error:  # e.g. an error it raised that cannot be unpickled here
            raise RuntimeError(f"the cluster could not return {self.what}: {error}") from None

    def cancel(self) -> None:
        """Stop the call (its worker process is killed if it is running)."""
        self._ray.cancel(self.ref, force=True)


def submit(
    address: str, function: Callable[..., T], *args: Any, retries: int = 2, cpus: float = 1, **kwargs: Any
) -> RemoteCall[T]:
    """Run ``function(*args, **kwargs)`` on the cluster at ``address``; the function must
    be importable there (a library function, not a closure)."""
    ray = connect(address)
    key = (function, retries, cpus)
    task = _tasks.get(key)
    if task is None:
        task = _tasks[key] = ray.remote(num_cpus=cpus, max_retries=retries, retry_exceptions=False)(function)
    return RemoteCall(ray, task.remote(*args, **kwargs), getattr(function, "__name__", "a call"))


def wait_any(calls: list[RemoteCall], seconds: float) -> list[RemoteCall]:
    """Those of ``calls`` finished within ``seconds`` (all that are done, at least one if any
    finishes in time)."""
    if not calls:
        return []
    ray = calls[0]._ray
    deadline = time.monotonic() + max(0.0, seconds)
    ready, _ = ray.wait([c.ref for c in calls], num_returns=1, timeout=max(0.0, deadline - time.monotonic()))
    if not ready:
        return []
    ready, _ = ray.wait([c.ref for c in calls], num_returns=len(calls), timeout=0)
    done = set(ready)
    return [c for c in calls if c.ref in done]
