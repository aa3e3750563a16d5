"""LTI Dynamic Registration 1.0: the platform configuration, request, answer and steps."""
