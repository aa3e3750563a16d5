"""Outbound HTTP: the URL policy, the session with a total deadline, retry caps, excerpts."""
