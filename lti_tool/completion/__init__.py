"""Completion services: the LMS completion copy, refreshed on launch or per class; set-up."""
