"""Completion sources: what the LMS says a student has completed (Moodle, Canvas).

``source`` defines the interface and the errors; ``moodle`` and ``canvas`` implement it.
"""
