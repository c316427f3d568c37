"""Public test kit: strategies, fakes, contract suites and the Efí emulator."""
