"""Canvas REST completion source: the REST client and its parsers."""
