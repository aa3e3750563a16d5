"""The pathway services: which qualification a course tracks, its module start dates, each
student's completion copy, and the checklist built from them by the pure rules engine."""
