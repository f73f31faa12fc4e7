"""``python -m chainrule tour``."""
import sys

from .tour import main

sys.exit(main())
