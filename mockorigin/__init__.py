"""mockorigin: a mock origin server that misbehaves exactly as scripted."""

from mockorigin.control import Control, ControlError
from mockorigin.observe.journal import Journal
from mockorigin.format.loader import LoadError, load_paths, load_text
from mockorigin.format.model import Behaviour
from mockorigin.http1 import OriginFactory, OriginProtocol
from mockorigin.interpreter.state import ServerState

__all__ = ["Behaviour", "Control", "ControlError", "Journal", "LoadError", "OriginFactory", "OriginProtocol", "ServerState", "load_paths", "load_text"]
__version__ = "0.1.0"
