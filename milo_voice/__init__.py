"""milo-voice: a self-hostable AI interviewer."""

__version__ = "0.1.0"
