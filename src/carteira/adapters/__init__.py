"""Adapters: the outside world (calendar, CNAB files, the Efí gateway, storage) behind the ports."""
