"""People: the user, departments, roles, sign-in rules and the HR people import."""
