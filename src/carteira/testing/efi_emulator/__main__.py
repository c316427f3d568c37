"""``python -m carteira.testing.efi_emulator --port N --client-id ID --client-secret SECRET``: Efí on loopback."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import date
from typing import Any

from carteira.testing.efi_emulator.emulator import EfiEmulator
from carteira.testing.efi_emulator.server import serve

SECRET_ENV = "EFI_EMULATOR_CLIENT_SECRET"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m carteira.testing.efi_emulator",
        description="Serve an emulator of Efí's charges API over loopback HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0 = any free port)")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", help=f"the secret (or set {SECRET_ENV}, which keeps it out of `ps`)")
    parser.add_argument("--today", type=date.fromisoformat, help="freeze the clock on this date (YYYY-MM-DD)")
    parser.add_argument("--token-ttl", type=int, default=600, help="expires_in of issued tokens, seconds")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds slept before each answer")
    parser.add_argument(
        "--callbacks",
        choices=("background", "inline", "manual"),
        default="background",
        help="when callbacks are sent (default: from a worker thread, as Efí does)",
    )
    parser.add_argument(
        "--callback-any-host",
        action="store_true",
        help="also POST callbacks to non-loopback URLs (an ERP in another container)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted; print one line once the server is listening."""
    args = _parser().parse_args(argv)
    secret = args.client_secret or os.environ.get(SECRET_ENV)
    if not secret:
        print(f"efi-emulator: give --client-secret or set {SECRET_ENV}", file=sys.stderr)
        return 2
    emulator = EfiEmulator(
        args.client_id,
        secret,
        today=args.today,
        token_ttl_s=args.token_ttl,
        latency_s=args.latency,
        callback_mode=args.callbacks,
    )
    emulator.allow_callbacks_to_any_host(args.callback_any_host)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with emulator, serve(emulator, args.host, args.port) as url:
        print(f"efi-emulator listening on {url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
