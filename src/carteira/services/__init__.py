"""Use cases that wire the domain to the ports, one at a time (later issues)."""
