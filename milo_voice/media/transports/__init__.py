"""Transports: 20 ms frames in and out over WebRTC, Twilio Media Streams, or files."""
