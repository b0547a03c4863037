"""Imported at interpreter start in a rehearsed workload (PYTHONPATH): record its AWS calls
and, for a rehearsed pod, resolve the cluster's Service names (slipway.rehearsal.cluster_dns).

``SLIPWAY_ACCESS_LOG`` / ``SLIPWAY_ACCESS_PRINCIPAL`` / ``SLIPWAY_REHEARSAL_SERVICES`` come
from the rehearsal runner; the workload's own code and entry point are unchanged.
"""

import os

if os.environ.get("SLIPWAY_ACCESS_LOG"):
    try:
        from slipway.access import recorder
    except ImportError:  # pragma: no cover - an image without slipway-mlops
        pass
    else:
        recorder.install()

if os.environ.get("SLIPWAY_REHEARSAL_SERVICES"):
    try:
        from slipway.rehearsal import cluster_dns
    except ImportError:  # pragma: no cover - an image without slipway-mlops
        pass
    else:
        cluster_dns.install()
