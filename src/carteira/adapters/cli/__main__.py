"""``python -m carteira.adapters.cli``: the ``carteira`` command without its console script."""

from carteira.adapters.cli import main

main()
