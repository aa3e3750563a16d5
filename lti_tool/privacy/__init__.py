"""Personal data the tool holds: the Data Privacy Launch view, JSON export, erasure requests
and the retention purge."""
