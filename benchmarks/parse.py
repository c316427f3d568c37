"""Benchmark: parsing CNAB return files (issue #4). Prints figures; not a timed test.

Writes synthetic, layout-correct files (CNAB 240 Banco do Brasil and CNAB 400 Bradesco, 100,000 titles
each by default), then, in the same run:

* the floor: read the file and split it into lines (median of several rounds);
* ``parse_return`` (full validation, typed records: Money, date): titles per second and the ratio to the floor;
* ``iter_records`` over the same files;
* peer parsers from PyPI, when a Python with them installed is given (``--peers-python``), timed on the same
  file in a subprocess against the floor measured again in that process, with their totals checked against
  the generated ones: pycobranca (CNAB 240 and 400) and python3-cnab (CNAB 240 only; the ``python-cnab``
  name on PyPI does not build);
* the peak memory of ``iter_records`` over a 999,997-title CNAB 400 file, streamed from a temporary file in a
  subprocess (peak RSS of the whole process, and the tracemalloc peak of Python allocations).

The library leaves the garbage collector alone (decision 0500). With ``--caller-pause`` each call of
``parse_return`` and ``iter_records`` (including freeing its records) runs inside
``carteira.garbage_collection.paused_collection()``, as a script that owns its process would hold it; the
floor runs as it always does, so the two modes share one reference.

Times are CPU seconds of the measuring process (``time.process_time``), so other work on a shared machine
does not inflate them; the memory subprocess prints its wall-clock time. Run from the project root:

    .venv/bin/python benchmarks/parse.py [--titles N] [--rounds R] [--caller-pause]
        [--peers-python /tmp/peers-venv/bin/python] [--peer-rounds R] [--slow-peer-rounds R] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from pathlib import Path

from carteira.adapters.cnab import LAYOUTS, DateFormat, Field, FieldType, Layout, iter_records, parse_return
from carteira.garbage_collection import paused_collection

MEMORY_TITLES = 999_997  # the most a 6-digit record counter allows with a header and a trailer
MEMORY_LIMIT_MB = 50.0


# --- synthetic files -------------------------------------------------------------------------------


def _encode(item: Field, value: object) -> str:
    if item.type is FieldType.DATE:
        assert isinstance(value, date)
        pattern = {DateFormat.DDMMYYYY: "%d%m%Y", DateFormat.DDMMYY: "%d%m%y", DateFormat.YYYYMMDD: "%Y%m%d"}
        return value.strftime(pattern[item.date_format])
    if item.type in (FieldType.MONEY, FieldType.INTEGER):
        return str(value).zfill(item.length)
    return str(value).ljust(item.length)[: item.length]


def _renderer(
    layout: Layout, record: str, prefix: str, names: list[str], fill: str = " "
) -> Callable[[dict[str, object]], str]:
    """A fast line writer: a template of ``fill`` with the prefix, cut around the variable fields."""
    length = layout.record_length
    items = sorted((f for f in layout.fields if f.record == record and f.name in names), key=lambda f: f.start)
    template = (prefix + fill * length)[:length]

    def render(values: dict[str, object]) -> str:
        parts, at = [], 0
        for item in items:
            parts.append(template[at : item.start - 1])
            parts.append(_encode(item, values[item.name]))
            at = item.end
        parts.append(template[at:])
        return "".join(parts)

    return render


def _titles(count: int, seed: int = 4) -> Iterator[dict[str, object]]:
    rnd = random.Random(seed)
    days = [date(2024, 1, 2) + timedelta(days=d) for d in range(60)]
    for n in range(1, count + 1):
        face = rnd.randrange(1_000, 500_000)
        late = rnd.random() < 0.1
        interest = rnd.randrange(1, 5_000) if late else 0
        paid = face + interest
        on = rnd.choice(days)
        yield {
            "movement_code": "06" if rnd.random() < 0.9 else "02",
            "bank_title_number": f"{n:011d}",
            "document_number": f"D{n}",
            "due_date": on - timedelta(days=3 if late else 0),
            "face_value": face,
            "interest_and_fine": interest,
            "discount": 0,
            "abatement": 0,
            "iof": 0,
            "tariff": 250,
            "paid": paid,
            "net_credited": paid - 250,
            "other_expenses": 0,
            "other_credits": 0,
            "occurrence_date": on,
            "credit_date": on + timedelta(days=1),
        }


def write_cnab400(path: Path, count: int) -> int:
    """A Bradesco CNAB 400 file of ``count`` titles; returns the total paid in cents."""
    layout = LAYOUTS["bradesco-400"]
    render = _renderer(layout, "", "1", list(next(_titles(1))))
    total = 0
    with path.open("w", encoding="latin-1", newline="\r\n") as out:
        out.write(
            ("02RETORNO01COBRANCA" + " " * 400)[:76] + "237BRADESCO".ljust(18) + "080324" + " " * 294 + "000001\n"
        )
        for index, values in enumerate(_titles(count), 2):
            total += int(values["paid"])  # type: ignore[call-overload]
            out.write(render(values)[:394] + f"{index:06d}\n")
        out.write("9201237".ljust(394) + f"{count + 2:06d}\n")
    return total


def write_cnab240(path: Path, count: int) -> int:
    """A Banco do Brasil CNAB 240 file of ``count`` titles in one lot; returns the total paid in cents.

    Positions no layout field uses are zeros (FEBRABAN's numeric fields), so a peer parser that converts
    every numeric field of the segments can read the file too.
    """
    layout = LAYOUTS["bb-240"]
    names = list(next(_titles(1)))
    render_t = _renderer(layout, "T", "", names, fill="0")
    render_u = _renderer(layout, "U", "", names, fill="0")
    zeros = "0" * 240
    header = "00100000" + " " * 9 + zeros[17:142] + "2" + "08032024" + "120000" + "000001" + "040" + zeros[166:]
    lot_header = "00100011T0100030 " + zeros[17:]
    total = 0
    with path.open("w", encoding="latin-1", newline="\r\n") as out:
        out.write(header + "\n")
        out.write(lot_header + "\n")
        for index, values in enumerate(_titles(count)):
            total += int(values["paid"])  # type: ignore[call-overload]
            seq = 2 * index + 1
            out.write(f"00100013{seq % 100_000:05d}T " + render_t(values)[15:] + "\n")
            out.write(f"00100013{(seq + 1) % 100_000:05d}U " + render_u(values)[15:] + "\n")
        out.write(f"00100015         {2 * count + 2:06d}" + zeros[23:] + "\n")
        out.write(f"00199999         000001{(2 * count + 4) % 1_000_000:06d}" + zeros[29:] + "\n")
    return total


# --- measurements ----------------------------------------------------------------------------------


def interleaved(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, tuple[float, float]]:
    """Run every action once per round, in turn, and give each one's (median, best) CPU seconds.

    Interleaving means a burst of load on a shared machine hits the floor and the parser alike, and the
    ratio (the figure to compare across runs) moves less than the times do.
    """
    timings: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.process_time()
            action()
            timings[name].append(time.process_time() - start)
    return {name: (statistics.median(values), min(values)) for name, values in timings.items()}


def floor(path: Path) -> object:
    with path.open("rb") as stream:
        return stream.read().splitlines()


def pause(caller_pause: bool) -> AbstractContextManager[object]:
    """The caller's pause of the collector, or nothing."""
    return paused_collection() if caller_pause else nullcontext()


def ours(path: Path, caller_pause: bool = False) -> tuple[int, int]:
    with pause(caller_pause):
        result = parse_return(path.read_bytes(), source=path.name)
        figures = len(result.records), sum(r.paid.cents for r in result.records if r.paid is not None)
        del result  # the records are freed inside the pause, as a caller's job that ends would
    return figures


def ours_streaming(path: Path, caller_pause: bool = False) -> tuple[int, int]:
    count = total = 0
    with pause(caller_pause), path.open("rb") as stream:
        for record in iter_records(stream, source=path.name):
            count += 1
            total += record.paid.cents if record.paid is not None else 0
    return count, total


PEER_SCRIPT = r"""
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
peer, path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
if peer == "pycobranca":
    from pycobranca.cnab.retorno import Retorno

    def run():
        result = Retorno.ler(open(path, "rb").read())
        return len(result.registros), sum(int(r.valor_recebido or 0) for r in result.registros)
else:  # python3-cnab (Trust-Code's python-cnab, CNAB 240 only)
    from cnab240.bancos import banco_brasil
    from cnab240.tipos import Arquivo

    def run():
        with open(path, encoding="latin-1") as stream:
            lots = Arquivo(banco_brasil, arquivo=stream).lotes
        segments = [s for lot in lots for e in lot.eventos for s in e.segmentos]
        paid = [s.titulo_pago for s in segments if type(s).__name__ == "SegmentoU"]
        return len(paid), int(sum(paid) * 100)

timings = {"floor": [], "peer": []}
count = total = 0
for _ in range(rounds):  # the floor again, in this process, interleaved: the peer's ratio is its own
    start = time.process_time()
    open(path, "rb").read().splitlines()
    timings["floor"].append(time.process_time() - start)
    start = time.process_time()
    count, total = run()
    timings["peer"].append(time.process_time() - start)
figures = {name: [statistics.median(values), min(values)] for name, values in timings.items()}
print(json.dumps({"figures": figures, "count": count, "total": total}))
"""

PEERS = {
    "pycobranca": ("pycobranca 1.1.2", ("cnab240", "cnab400")),
    "python3-cnab": ("python3-cnab 1.0.11", ("cnab240",)),
}

MEMORY_SCRIPT = r"""
import json, resource, sys, time, tracemalloc
from carteira.adapters.cnab import iter_records

def peak_kb():
    # VmHWM is this process's own peak RSS; ru_maxrss survives exec on Linux and would report the parent's.
    try:
        with open("/proc/self/status") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

path, traced = sys.argv[1], sys.argv[2] == "trace"
before_kb = peak_kb()
if traced:
    tracemalloc.start()
start = time.perf_counter()
count = total = 0
with open(path, "rb") as stream:
    for record in iter_records(stream):
        count += 1
        total += record.paid.cents
elapsed = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if traced else 0
print(json.dumps({"count": count, "total": total, "seconds": elapsed, "maxrss_kb": peak_kb(),
                  "before_kb": before_kb, "traced_peak": peak}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--peers-python", default="", help="a Python (3.12+) with pycobranca and python3-cnab installed"
    )
    parser.add_argument("--peer-rounds", type=int, default=5)
    parser.add_argument(
        "--slow-peer-rounds", type=int, default=3, help="rounds of python3-cnab (about 30 s a round per file)"
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--caller-pause", action="store_true", help="run each library call inside paused_collection()")
    args = parser.parse_args()
    mode = "inside the caller's paused_collection()" if args.caller_pause else "collector as Python left it"

    with tempfile.TemporaryDirectory(prefix="carteira-parse-") as folder:
        files = {
            "CNAB 240 (bb-240)": (Path(folder) / "bb240.ret", write_cnab240),
            "CNAB 400 (bradesco-400)": (Path(folder) / "bradesco400.ret", write_cnab400),
        }
        print(f"{args.titles:,} titles per file; CPU time, medians of {args.rounds} interleaved rounds; {mode}")
        for label, (path, writer) in files.items():
            expected_total = writer(path, args.titles)
            size_mb = path.stat().st_size / 1e6
            count, total = ours(path)
            assert (count, total) == (args.titles, expected_total), (count, total, expected_total)
            assert ours_streaming(path) == (args.titles, expected_total)
            figures = interleaved(
                {
                    "floor": lambda p=path: floor(p),  # type: ignore[misc]
                    "parse_return": lambda p=path: ours(p, args.caller_pause),  # type: ignore[misc]
                    "iter_records": lambda p=path: ours_streaming(p, args.caller_pause),  # type: ignore[misc]
                },
                args.rounds,
            )
            floor_median, floor_best = figures["floor"]
            print(f"\n{label}: {size_mb:.1f} MB, total paid {expected_total / 100:,.2f}")
            print(f"  {'floor (read + split lines)':28} {floor_median * 1000:8.1f} ms (best {floor_best * 1000:.1f})")
            for name in ("parse_return", "iter_records"):
                median, best = figures[name]
                print(
                    f"  {name:28} {median * 1000:8.1f} ms (best {best * 1000:.1f})"
                    f"  {args.titles / median:>9,.0f} titles/s  {median / floor_median:5.1f}x floor"
                    f" (best/best {best / floor_best:.1f}x)"
                )
            ours_ratio = figures["parse_return"][0] / floor_median
            if args.peers_python:
                rounds_of = {"pycobranca": args.peer_rounds, "python3-cnab": args.slow_peer_rounds}
                fmt = "cnab240" if "240" in label else "cnab400"
                for peer_name, (peer_label, formats) in PEERS.items():
                    if fmt not in formats:
                        continue
                    done = subprocess.run(
                        [args.peers_python, "-c", PEER_SCRIPT, peer_name, str(path), str(rounds_of[peer_name])],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if done.returncode != 0:
                        print(f"  {peer_label}: not run: {done.stderr.strip().splitlines()[-1:]}")
                        continue
                    peer = json.loads(done.stdout)
                    (peer_floor, peer_floor_best) = peer["figures"]["floor"]
                    (peer_median, peer_best) = peer["figures"]["peer"]
                    peer_ratio = peer_median / peer_floor
                    correct = peer["count"] == args.titles and peer["total"] == expected_total
                    print(
                        f"  {peer_label:28} {peer_median * 1000:8.1f} ms (best {peer_best * 1000:.1f})"
                        f"  {args.titles / peer_median:>9,.0f} titles/s  {peer_ratio:5.1f}x its floor"
                        f" (best/best {peer_best / peer_floor_best:.1f}x); totals {'correct' if correct else 'WRONG'}"
                        f" ({peer['count']:,} titles, {peer['total'] / 100:,.2f})"
                    )
                    print(f"  {'':28} parse_return is {peer_ratio / ours_ratio:.1f}x as fast (ratio of floor ratios)")
            else:
                print("  peers: not run (pass --peers-python with pycobranca installed)")

        if args.skip_memory:
            return
        big = Path(folder) / "big400.ret"
        start = time.perf_counter()
        expected_total = write_cnab400(big, MEMORY_TITLES)
        written_s = time.perf_counter() - start
        print(
            f"\nMemory: iter_records over {MEMORY_TITLES:,} CNAB 400 titles "
            f"({big.stat().st_size / 1e6:.0f} MB, written in {written_s:.0f} s), in a subprocess"
        )
        for mode in ("plain", "trace"):
            done = subprocess.run(
                [sys.executable, "-c", MEMORY_SCRIPT, str(big), mode], capture_output=True, text=True, check=True
            )
            figures = json.loads(done.stdout)
            assert (figures["count"], figures["total"]) == (MEMORY_TITLES, expected_total), figures
            if mode == "plain":
                peak_mb = figures["maxrss_kb"] / 1024
                print(
                    f"  peak RSS of the whole process  {peak_mb:6.1f} MB"
                    f" (after imports {figures['before_kb'] / 1024:.1f} MB); {figures['seconds']:.1f} s,"
                    f" {MEMORY_TITLES / figures['seconds']:,.0f} titles/s;"
                    f" {'under' if peak_mb < MEMORY_LIMIT_MB else 'OVER'} {MEMORY_LIMIT_MB:.0f} MB"
                )
            else:
                traced_mb = figures["traced_peak"] / 1e6
                print(f"  tracemalloc peak (Python allocations while streaming)  {traced_mb:6.2f} MB")


if __name__ == "__main__":
    main()
