"""mockorigin: a mock origin server that misbehaves exactly as scripted."""

from mockorigin.observe.control import Control, ControlError
from mockorigin.observe.journal import Journal
from mockorigin.format.loader import LoadError, load_paths, load_text
from mockorigin.format.model import Behaviour
from mockorigin.http1 import OriginFactory, OriginProtocol
from mockorigin.interpreter.state import ServerState
from mockorigin.version import __version__

__all__ = ["__version__", "Behaviour", "Control", "ControlError", "Journal", "LoadError", "OriginFactory", "OriginProtocol", "ServerState", "load_paths", "load_text"]
