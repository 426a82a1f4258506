"""Quorum: a self-hosted annotation workflow server."""

__version__ = "0.1.0"
