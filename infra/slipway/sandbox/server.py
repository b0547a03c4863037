"""An in-process moto server on loopback, boto3 clients bound to it, state snapshots.

``EmulatedAws`` starts a moto server on 127.0.0.1 (free port), as moto's
``ThreadedMotoServer`` does, serving the process's one moto application; it points every
client at it with fake credentials, and refuses any endpoint that is not loopback.
While it runs, the process's ``AWS_*`` variables hold fake values too, so nothing in
the process can reach a real account by accident. ``save``/``load`` pickle moto's
in-process backends of the services the sandbox uses (the only way moto offers to
carry state across processes); the snapshot records the moto version and is refused
by another one.
"""

from __future__ import annotations

import copyreg
import functools
import io
import ipaddress
import json
import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from slipway.environ import environ_changed
from slipway.sandbox.errors import SandboxError

SERVICES = (
    "kms",
    "s3",
    "iam",
    "sts",
    "sagemaker",
    "applicationautoscaling",
    "cloudwatch",
    "sns",
    "ecr",
    "eks",
    "events",
)
MANAGED_POLICIES = "MOTO_IAM_LOAD_MANAGED_POLICIES"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_SECURITY_TOKEN": "sandbox",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    # moto's own loading of AWS's managed policies stays off: it would load all ~1,500 of them
    # into the IAM backend of each of the 6 partitions of each session; EmulatedAws adds
    # them to the one partition the sandbox uses (add_aws_managed_policies).
    MANAGED_POLICIES: "false",
}
CLEARED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN")


def ensure_loopback(url: str) -> None:
    """Refuse any endpoint whose host is not a loopback address."""
    host = urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SandboxError(
            f"endpoint: {url!r} is not a loopback address; the sandbox only talks to 127.0.0.1"
        )


@contextmanager
def fake_aws_environment() -> Iterator[None]:
    """Replace AWS credentials/profile variables with fake ones for the duration."""
    with environ_changed(set_=FAKE_ENV, cleared=tuple(CLEARED_ENV)):
        yield


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    """One botocore loader per process: each service model and endpoints.json is parsed once
    for all the sandboxes' sessions (each session keeps its own events and credentials)."""
    loader = botocore.loaders.create_loader()
    boto3.session.Session(botocore_session=_with_loader(loader))  # adds boto3's data path
    return loader


def _with_loader(loader: botocore.loaders.Loader) -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", loader)
    return session


class AwsClients:
    """boto3 clients of one region against one loopback endpoint, fake credentials."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        ensure_loopback(endpoint_url)
        self.endpoint_url = endpoint_url
        self.region = region
        loader = _shared_loader()
        paths = len(loader.search_paths)
        self._session = boto3.session.Session(
            aws_access_key_id=FAKE_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
            botocore_session=_with_loader(loader),
        )
        del loader.search_paths[paths:]  # boto3 appends its data path on every session
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.fresh(service)
        return self._clients[service]

    def fresh(self, service: str) -> Any:
        """A new client of ``service`` (not shared: event hooks on it stay on it)."""
        return self._session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    @property
    def events(self) -> Any:
        """The session's event emitter: hooks registered here reach every client made after."""
        return self._session.events


def reset_backends() -> None:
    """``BackendDict.reset()``: every moto backend reset (their own clean-ups run: S3 frees
    its global bucket names) and then forgotten; the next request creates fresh ones."""
    from moto.core.base_backend import BackendDict

    BackendDict.reset()


@functools.cache
def aws_managed_policy_inputs() -> tuple[tuple[str, dict[str, Any]], ...]:
    """Each of AWS's managed policies in moto's snapshot (~1,500) as the keyword arguments
    ``AWSManagedPolicy.from_data`` gives moto's constructor: parsed, and each document
    serialized, once per process (the serializing was 2/3 of building them)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return tuple(
        (
            name,
            {
                "default_version_id": data.get("DefaultVersionId"),
                "path": data.get("Path"),
                "document": json.dumps(data.get("Document")),
                "create_date": datetime.fromisoformat(data["CreateDate"]),
                "update_date": datetime.fromisoformat(data["UpdateDate"]),
            },
        )
        for name, data in json.loads(aws_managed_policies_data).items()
    )


def add_aws_managed_policies(partition: str) -> None:
    """AWS's managed policies (AmazonEKSWorkerNodePolicy...), as in every real account, in
    the IAM backend of moto's default account in ``partition``: new objects per backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[DEFAULT_ACCOUNT_ID][partition]
    for name, inputs in aws_managed_policy_inputs():
        # abstract only for CloudFormation, which the sandbox does not use (moto's from_data too)
        policy = AWSManagedPolicy(  # type: ignore[abstract]
            name, account_id=DEFAULT_ACCOUNT_ID, region=partition, **inputs
        )
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy


@functools.cache
def _dispatcher() -> Any:
    """The process's one moto WSGI application: it builds each service's Flask app (a few
    hundred URL rules compiled) on that service's first request in the process and serves it
    to every later sandbox's server. moto keeps its state in its backends, not in these apps."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


class EmulatedAws:
    """Context manager: a fresh moto server on 127.0.0.1 and its clients."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.clients: AwsClients | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._env: Any = None

    def __enter__(self) -> EmulatedAws:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from moto.utilities.utils import get_partition
        from werkzeug.serving import make_server

        self._env = fake_aws_environment()
        self._env.__enter__()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        reset_backends()  # an earlier sandbox in this process must not leak in
        add_aws_managed_policies(get_partition(self.region))
        # as moto's ThreadedMotoServer, with the process's one application
        self._server = make_server(
            "127.0.0.1", 0, _dispatcher(), threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.clients = AwsClients(f"http://{host}:{port}", self.region)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        reset_backends()
        self._env.__exit__(*exc)

    @property
    def aws(self) -> AwsClients:
        assert self.clients is not None, "EmulatedAws used outside its with-block"
        return self.clients

    def save(self, path: Path) -> None:
        """Write the moto backends of SERVICES to ``path`` (atomically)."""
        import moto
        from moto.backends import get_backend

        snapshot = {
            service: {
                account: dict(regions.items())
                for account, regions in get_backend(service).items()  # type: ignore[call-overload]
            }
            for service in SERVICES
        }
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer)
        pickler.dispatch_table = _dispatch_table()
        pickler.dump({"moto": moto.__version__, "backends": snapshot})
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)

    def load(self, path: Path) -> None:
        """Put the backends saved at ``path`` into the running server (trusted local file)."""
        import moto
        from moto.backends import get_backend

        data = pickle.loads(path.read_bytes())
        if data.get("moto") != moto.__version__:
            raise SandboxError(
                f"state: {path} was written by moto {data.get('moto')}, this is moto "
                f"{moto.__version__}; run `slipway sandbox destroy` with that version or delete it"
            )
        for service, accounts in data["backends"].items():
            live = get_backend(service)  # type: ignore[call-overload]
            for account, regions in accounts.items():
                for region, backend in regions.items():
                    dict.__setitem__(live[account], region, backend)


def _load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, None)


def _reduce_private_key(key: Any) -> tuple[Any, tuple[bytes]]:
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _load_private_key, (der,)


def _load_spooled(data: bytes, max_size: int) -> tempfile.SpooledTemporaryFile[bytes]:
    buffer: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=max_size
    )
    buffer.write(data)
    buffer.seek(0)
    return buffer


def _reduce_spooled(buffer: Any) -> tuple[Any, tuple[bytes, int]]:
    position = buffer.tell()
    buffer.seek(0)
    data = buffer.read()
    buffer.seek(position)
    return _load_spooled, (data, buffer._max_size)


def _dispatch_table() -> dict[Any, Any]:
    """copyreg table plus reducers for what moto keeps that pickle cannot take."""
    from cryptography.hazmat.bindings._rust import openssl as rust

    table: dict[Any, Any] = dict(copyreg.dispatch_table)
    for module, name in (("rsa", "RSAPrivateKey"), ("ec", "ECPrivateKey")):
        concrete = getattr(getattr(rust, module, None), name, None)
        if concrete is not None:
            table[concrete] = _reduce_private_key
    table[tempfile.SpooledTemporaryFile] = _reduce_spooled
    table[type(threading.RLock())] = lambda _: (threading.RLock, ())
    table[type(threading.Lock())] = lambda _: (threading.Lock, ())
    return table
