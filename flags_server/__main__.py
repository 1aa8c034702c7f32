"""`python -m flags_server`: the same as the `flags-server` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
