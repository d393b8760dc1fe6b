"""The organisation: departments, positions, roles, groups, users, sign-in and API tokens."""
