"""The Informat sandbox: a faithful local stand-in of the Informat API's, with fault injection."""

from .app import SandboxState, create_app

__all__ = ["SandboxState", "create_app"]
