"""An in-process moto server on loopback, boto3 clients bound to it, state snapshots.

``EmulatedAws`` starts ``ThreadedMotoServer`` on 127.0.0.1 (free port), points every
client at it with fake credentials, and refuses any endpoint that is not loopback.
While it runs, the process's ``AWS_*`` variables hold fake values too, so nothing in
the process can reach a real account by accident. ``save``/``load`` pickle moto's
in-process backends of the services the sandbox uses (the only way moto offers to
carry state across processes); the snapshot records the moto version and is refused
by another one.
"""

from __future__ import annotations

import copyreg
import io
import ipaddress
import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
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
    # AWS managed policies (AmazonEKSWorkerNodePolicy...) exist in every real account.
    MANAGED_POLICIES: "true",
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


class AwsClients:
    """boto3 clients of one region against one loopback endpoint, fake credentials."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        ensure_loopback(endpoint_url)
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id=FAKE_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )
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
    its global bucket names) and then forgotten; the next request creates fresh ones.

    Without AWS's managed policies for the reset: the reset re-creates each IAM backend in
    place before forgetting it, which would load AWS's ~1,300 managed policies once per
    partition (seconds per sandbox) into backends nothing reads again.
    """
    from moto.core.base_backend import BackendDict

    saved = os.environ.get(MANAGED_POLICIES)
    os.environ[MANAGED_POLICIES] = "false"
    try:
        BackendDict.reset()
    finally:
        if saved is None:
            os.environ.pop(MANAGED_POLICIES, None)
        else:
            os.environ[MANAGED_POLICIES] = saved


class EmulatedAws:
    """Context manager: a fresh moto server on 127.0.0.1 and its clients."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.clients: AwsClients | None = None
        self._server: Any = None
        self._env: Any = None

    def __enter__(self) -> EmulatedAws:
        from moto.server import ThreadedMotoServer

        self._env = fake_aws_environment()
        self._env.__enter__()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        reset_backends()  # an earlier sandbox in this process must not leak in
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.clients = AwsClients(f"http://{host}:{port}", self.region)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
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
