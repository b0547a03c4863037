"""``python -m slipway.serving [serve] [--model-uri URI] [--host H] [--port P] [--workers N]``."""

import sys

from slipway.serving.entry import main

sys.exit(main())
