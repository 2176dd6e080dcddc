"""Provisioning: Ironic's state machine over one BMC per node, from Python.

::

    import os
    from ferrofish.provision import StateStore, run_fleet

    os.environ["R640_PASSWORD"] = ...            # passwords come from the environment only
    with StateStore("sqlite:fleet.db", holder="worker-1") as store:
        store.enroll({"name": "r640-12", "bmc": "https://10.0.0.12", "username": "root",
                      "password_env": "R640_PASSWORD"})
        summary = run_fleet(store, {"inspect": True, "provide": True}, workers=8,
                            on_event=lambda e: print(e.node, e.state, e.phase, e.message))

Or one node by hand: ``store.send(name, "manage")`` then ``store.advance(name)`` until its
``kind`` is ``"done"`` or ``"failed"`` (sleeping ``delay`` seconds while ``"waiting"``).
Nodes are dicts (the node document: ``state``, ``operation.phase``, ``revision``,
``last_error``, ``fields``, ...). See ``docs/provisioning.md`` for the states, events and
phases.
"""

from __future__ import annotations

from ferrofish._ferrofish import Advance, FleetEvent, StateStore, run_fleet
from ferrofish.exceptions import (
    AlreadyEnrolledError,
    InvalidDeployError,
    InvalidEventError,
    InvalidStepError,
    LeaseHeldError,
    NodeConnectionError,
    NodeNotFoundError,
    ProvisionError,
    StaleRevisionError,
    StoreError,
)

__all__ = [
    "Advance",
    "AlreadyEnrolledError",
    "FleetEvent",
    "InvalidDeployError",
    "InvalidEventError",
    "InvalidStepError",
    "LeaseHeldError",
    "NodeConnectionError",
    "NodeNotFoundError",
    "ProvisionError",
    "StaleRevisionError",
    "StateStore",
    "StoreError",
    "run_fleet",
]
