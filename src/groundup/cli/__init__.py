"""The ``groundup`` command line."""

from groundup.cli.main import main

__all__ = ["main"]
