"""Ports: the typing.Protocol interfaces the services drive (storage, gateway, return files, clock)."""
