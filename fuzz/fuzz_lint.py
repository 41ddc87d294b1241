"""Fuzz ekslint end to end: bytes -> sniffing -> parse -> model -> every rule.

With atheris (coverage-guided, libFuzzer)::

    pip install atheris
    python fuzz/fuzz_lint.py fuzz/corpus -max_total_time=600

Without atheris, or to replay: ``python fuzz/fuzz_lint.py --mutate N [--seed S]`` runs N
inputs made by the mutators of fuzz/mutate.py; ``--seed-corpus DIR`` writes the fixtures
and examples into DIR as a starting corpus. A failing input is an exception out of the
run, an EKS004 (a rule crashed) or a finding outside its file (fuzz/harness.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz import harness, hostile, mutate


def test_one_input(data: bytes) -> None:
    harness.check_bytes("input", data)


def seed_corpus(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for case, files in mutate.seeds().items():
        for relative, data in files.items():
            name = f"{case}/{relative}".replace("/", "__")
            (directory / name).write_bytes(data)
            count += 1
    return count


SLOW = 10.0  # seconds: an input that takes longer is a failure (a hang, a super-linear path)


def mutation_loop(count: int, seed: int, crashes: Path) -> int:
    """A plain random-mutation loop over the same harness, for machines without atheris."""
    rnd = random.Random(seed)
    seeds = mutate.seeds()
    flat = [data for files in seeds.values() for data in files.values()]
    failures = 0
    slowest = 0.0
    start = time.perf_counter()
    for index in range(count):
        data = mutate.random_input(rnd, flat)
        name = hostile.random_name(rnd)
        began = time.perf_counter()
        try:
            harness.check_bytes(name, data, reports=True)
        except Exception as err:  # report and keep going: one run finds many bugs
            failures += 1
            crashes.mkdir(parents=True, exist_ok=True)
            path = crashes / f"crash-{seed}-{index}"
            path.write_bytes(data)
            print(f"input {index}: {type(err).__name__}: {str(err)[:300]} (saved as {path})", file=sys.stderr)
        took = time.perf_counter() - began
        slowest = max(slowest, took)
        if took > SLOW:
            failures += 1
            print(f"input {index}: took {took:.1f} s (more than {SLOW} s)", file=sys.stderr)
    elapsed = time.perf_counter() - start
    print(f"{count} inputs in {elapsed:.1f} s, slowest {slowest:.2f} s, {failures} failing")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutate", type=int, metavar="N", help="run N mutated inputs without atheris")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --mutate")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz/crashes"), help="where --mutate saves failures")
    parser.add_argument("--seed-corpus", type=Path, metavar="DIR", help="write the fixtures into DIR and exit")
    args, rest = parser.parse_known_args()
    if args.seed_corpus:
        print(f"wrote {seed_corpus(args.seed_corpus)} seed files to {args.seed_corpus}")
        return 0
    if args.mutate:
        return mutation_loop(args.mutate, args.seed, args.crashes)
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris); use --mutate N instead", file=sys.stderr)
        return 2
    harness.registry()  # load every rule and the parsers before instrumenting them
    import ruamel.yaml  # noqa: F401 - instrumented too: its Python half builds the nodes

    atheris.instrument_all()  # coverage feedback for ekslint and its dependencies
    atheris.Setup([sys.argv[0], *rest], test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
