"""Assessment-module results and their delivery to the LMS gradebook through LTI AGS."""
