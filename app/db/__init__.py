"""Tables, the async engine and sessions: the only layer that knows the database."""
