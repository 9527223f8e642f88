"""``python -m portal.cli …``, the same as ``credit-portal …``."""
from portal.cli import main

main(prog_name="credit-portal")
