"""Use cases that wire the domain to the ports, one module each; ``carteira.Portfolio`` wires them together."""

# The use-case modules: return batches (``returns``) and the two steps it is built from.
__all__ = ["confirmation", "reactivation", "returns"]
