"""``python -m genro_storage``: the same command line as ``genro-storage``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
