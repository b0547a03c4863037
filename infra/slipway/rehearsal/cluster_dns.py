"""Cluster DNS for a rehearsed pod: Service names resolve to the rehearsal's loopback ports.

In the cluster the model server calls ``http://mlflow.mlflow.svc.cluster.local:5000``:
CoreDNS resolves the Service's name and kube-proxy forwards the Service port to the MLflow
pod. Here each workload is a process on 127.0.0.1 with a port of its own, so
``SLIPWAY_REHEARSAL_SERVICES`` (``name:port=127.0.0.1:port,...``, set by the rehearsal)
makes ``socket.getaddrinfo`` answer for those names and ports with the loopback address and
port. Nothing else changes: the URL, and so the HTTP ``Host`` header, stay the in-cluster
ones, which is what MLflow's host check sees in the cluster.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

ENV = "SLIPWAY_REHEARSAL_SERVICES"


def encode(services: Mapping[str, int]) -> str:
    """``{"name:port": loopback port}`` as the variable's value."""
    return ",".join(f"{service}=127.0.0.1:{port}" for service, port in services.items())


def decode(value: str) -> dict[tuple[str, int], tuple[str, int]]:
    table = {}
    for item in filter(None, value.split(",")):
        service, target = item.split("=")
        name, port = service.rsplit(":", 1)
        host, target_port = target.rsplit(":", 1)
        table[name, int(port)] = (host, int(target_port))
    return table


def install(environ: Mapping[str, str] = os.environ) -> None:
    """Answer ``getaddrinfo`` for the services in ``SLIPWAY_REHEARSAL_SERVICES``."""
    table = decode(environ.get(ENV, ""))
    if not table:
        return
    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            target = table.get((str(host), int(port)))
        except (TypeError, ValueError):
            target = None
        if target is not None:
            host, port = target
        return resolve(host, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
