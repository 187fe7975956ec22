"""Scalable oversight: protocols in which strong models help a weak judge (debate, consultancy, ...)."""
