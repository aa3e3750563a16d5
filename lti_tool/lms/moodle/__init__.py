"""Moodle web-service completion source: the REST client, its parsers and errors."""
