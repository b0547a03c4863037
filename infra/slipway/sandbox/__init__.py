"""``slipway sandbox``: apply a Pulumi program to emulated AWS (moto on 127.0.0.1).

The program runs in-process under Pulumi mocks (``SandboxMocks``) that create every
supported resource in moto through boto3 and hand moto's ids and ARNs back, so
references between resources are real. See docs/sandbox.md.
"""

from slipway.sandbox.engine import ApplyReport, DestroyReport, apply, destroy
from slipway.sandbox.errors import SandboxError

__all__ = ["ApplyReport", "DestroyReport", "SandboxError", "apply", "destroy"]
