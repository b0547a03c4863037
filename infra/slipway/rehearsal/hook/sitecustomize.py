"""Imported at interpreter start in a rehearsed workload (PYTHONPATH): record its AWS calls
and, for a rehearsed pod, resolve the cluster's Service names (slipway.rehearsal.cluster_dns).

``SLIPWAY_ACCESS_LOG`` / ``SLIPWAY_ACCESS_PRINCIPAL`` / ``SLIPWAY_REHEARSAL_SERVICES`` come
from the rehearsal runner; the workload's own code and entry point are unchanged.
"""

import importlib
import os

# variable set by the rehearsal -> module whose install() it turns on; the names are literals
# (the modules' LOG_ENV / ENV, tests/rehearsal): importing slipway here would cost every start
HOOKS = {
    "SLIPWAY_ACCESS_LOG": "slipway.access.recorder",
    "SLIPWAY_REHEARSAL_SERVICES": "slipway.rehearsal.cluster_dns",
}

for variable, module in HOOKS.items():
    if os.environ.get(variable):
        try:
            hook = importlib.import_module(module)
        except ImportError:  # pragma: no cover - an image without slipway-mlops
            continue
        hook.install()
