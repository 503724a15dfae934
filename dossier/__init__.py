"""dossier: a static-site generator for research dossiers with verified quotes."""

__version__ = "0.1.0"
