"""Use cases: async functions that take a session and enforce the rules against the database."""
