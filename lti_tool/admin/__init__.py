"""Tool administration: accounts, registrations, keys, completion sources, audit and health.

Every function here takes the acting :class:`~lti_tool.admin.identity.AdminIdentity` and
enforces its scope itself (an LMS admin sees only their own registration), so a view cannot
forget to.
"""
