"""A local OIDC token issuer for rehearsing the public API offline (docs/public-api.md).

It signs access tokens with an RSA key (RS256, joserfc) and serves, on 127.0.0.1 only,
what a real issuer publishes for the URLs the stack DECLARES: for an issuer
``https://host/path`` the discovery document ``https://host/path/.well-known/openid-configuration``
(``issuer`` and ``jwks_uri``) and, for any other URL, the JSON Web Key Set. ``local(url)`` maps
a declared https URL to its loopback address; that mapping is the rehearsal's only
substitution: issuer strings, audiences and scopes are the declared ones.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

DISCOVERY = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"


class LocalIssuer:
    """Signing keys, token minting and a loopback server for discovery and JWKS."""

    def __init__(self, kid: str = "slipway-rehearsal") -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": kid})
        """A key with the same ``kid`` that the JWKS does not hold (forged tokens)."""
        self.fetched: list[str] = []
        """Declared URLs fetched through this server, in order."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LocalIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def local(self, url: str) -> str:
        """The loopback URL serving the declared https ``url``."""
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise ValueError(f"{url}: the rehearsal serves declared https URLs only")
        return f"{self.base}/{parts.netloc}{parts.path}"

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    def token(
        self,
        issuer: str,
        *,
        lifetime: int = 300,
        forged: bool = False,
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        """A signed access token of ``issuer``; ``lifetime < 0``: already expired."""
        now = int(time.time())
        body = {"iss": issuer, "sub": "rehearsal-client", "iat": now, "exp": now + lifetime}
        if lifetime < 0:
            body["iat"] = now + lifetime - 300
        body.update(claims)
        key = self.stranger if forged else self.key
        header = {"alg": algorithm, "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, body, key, algorithms=[algorithm])

    def _document(self, path: str) -> dict[str, Any]:
        """What the declared URL at ``/<host><path>`` returns."""
        self.fetched.append("https:/" + path)
        if path.endswith(DISCOVERY):
            issuer = "https:/" + path.removesuffix(DISCOVERY)
            return {
                "issuer": issuer,
                "jwks_uri": issuer + JWKS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["token"],
                "subject_types_supported": ["public"],
            }
        return self.jwks()


def _handler(issuer: LocalIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(issuer._document(self.path)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the rehearsal reports what it fetched (``fetched``)."""

    return Handler
