"""``python -m chainrule tour`` and ``python -m chainrule train <example>``."""
import sys

from .cli import main

sys.exit(main())
