"""``python -m genro_storage.console``: the same as ``genro-storage console``."""

import sys

from ..cli import main

sys.exit(main(["console", *sys.argv[1:]]))
