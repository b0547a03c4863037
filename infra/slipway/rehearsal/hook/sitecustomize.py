"""Imported at interpreter start in a rehearsed workload (PYTHONPATH): record its AWS calls.

``SLIPWAY_ACCESS_LOG`` / ``SLIPWAY_ACCESS_PRINCIPAL`` come from the rehearsal runner; the
workload's own code and entry point are unchanged.
"""

import os

if os.environ.get("SLIPWAY_ACCESS_LOG"):
    try:
        from slipway.access import recorder
    except ImportError:  # pragma: no cover - an image without slipway-mlops
        pass
    else:
        recorder.install()
