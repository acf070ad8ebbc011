"""Whether a serving process should get new traffic: ready once its models are loaded, not while it drains.

Each worker's app holds one :class:`Readiness`.  ``create_app`` marks it ready
(a worker builds its app only after its artifacts are loaded); a graceful
stop marks it draining, while the listener still accepts for a grace period,
so a load balancer polling ``/readyz`` sees "not ready" before it would see
"connection refused".
"""
from __future__ import annotations

STARTING, READY, DRAINING = "starting", "ready", "draining"


class Readiness:
    """One of ``starting``, ``ready`` or ``draining``; only forward transitions."""

    def __init__(self) -> None:
        self.state = STARTING

    def mark_ready(self) -> None:
        if self.state == STARTING:
            self.state = READY

    def start_draining(self) -> None:
        self.state = DRAINING

    @property
    def ready(self) -> bool:
        return self.state == READY
