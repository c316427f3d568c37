"""Use cases that wire the domain to the ports, one at a time (later issues)."""

# The use-case modules, listed here as later issues add them.
__all__: list[str] = []
