"""`python -m dossier` runs the command line."""

from .cli import run

run()
