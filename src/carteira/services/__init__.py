"""Use cases that wire the domain to the ports, one module each; ``carteira.Portfolio`` wires them together."""

# The use-case modules: return batches (``returns``) and the two steps it is built from; the gateway integration
# (``gateway``) over its outbox (``outbox``) and the requests it builds (``charge_requests``); payments by
# notification (``payments``).
__all__ = ["charge_requests", "confirmation", "gateway", "outbox", "payments", "reactivation", "returns"]
