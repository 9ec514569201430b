"""Calls: getting a candidate onto a transport, and running, recording and persisting a session."""
