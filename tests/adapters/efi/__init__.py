"""Tests of the Efí adapter: wire format, errors, retries, tokens, and the adapter against the emulator."""
