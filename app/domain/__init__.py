"""Pure rules of Quorum: no I/O, no database, no web framework."""
