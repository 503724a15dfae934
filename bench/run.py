"""`make bench`: dossier against Hugo on the same synthetic work, in the same run.

For each N it generates a dossier of N cards (bench/generate.py) and the equivalent Hugo
site, then times, each in a fresh process: `dossier check` cold (--no-cache), filling the
cache, with nothing changed and after one card changed; `dossier build` into an empty
folder (every page rendered), with nothing changed and after one card changed; and
`hugo`. It prints wall time, peak memory (max RSS of the process and its children),
pages per second and CPU time (user and system, with the processes it forked: on a
shared machine the wall time of the same run varies far more), with the dossier/Hugo
ratio; then the two live servers side by side
(`dossier serve` and `hugo server`, each rebuilding after one card changed, as each
reports its rebuild); then the share of each stage of an in-process dossier build. Last,
quotes that are not in their source, against one source of about 100 KB (``misses.py``):
the verifier's time for each, nearest passage and all, and ``dossier check`` of them. Above
each table, what two cores gave just before it (a shared machine may give well under
twice one core's work). The runs after an edit, and with nothing changed, are made
REPEAT times each (a new edit before each), and the runs from cold (a check with no cache,
the check filling it, a build into an empty folder, Hugo's build) COLD times each, from
the same state each time, dossier's full builds taking turns with Hugo's: the table gives
the median, and a line below it every run, since one run on a shared machine can be off
by half.

dossier's modules are compiled to bytecode first, as an installed package's are (an
editable install under PYTHONDONTWRITEBYTECODE would otherwise compile them every run).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402
from misses import KINDS, PER_KIND, generate_misses, measure  # noqa: E402

DOSSIER = Path(sys.executable).parent / "dossier"
#: How many times the quick runs (nothing changed, one card changed) are made.
REPEAT = 5
#: How many times the runs from cold are made (a build of every page takes seconds).
COLD = 3

#: Where the last run's trees are moved, to be removed only after this run's timings. On
#: an ext4 without a journal (this project's 2-core machine) the kernel avoids reusing an
#: inode freed in the last minute or more, and each file created scans past all of them
#: (``recently_deleted`` in a profile): creating 11,000 files took 0.4 s here, and 3.5 to
#: 6.5 s right after removing as many. Removing the last run's trees first put dossier's
#: build of an empty folder in that window, and Hugo's, run later, mostly not.
TRASH = ".trash"


def set_aside(tree: Path, work: Path) -> None:
    """Move ``tree``, where it is there, into the trash (see ``TRASH``)."""
    if tree.exists():
        (work / TRASH).mkdir(parents=True, exist_ok=True)
        tree.rename(work / TRASH / f"{tree.name}-{time.time_ns()}")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS in MB, exit status and CPU seconds (user and system, with
    the processes it forked and waited for) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def live(
    cmd: list[str], env: dict[str, str], ready: str, done: str, card: Path, work: Path
) -> tuple[list[float], int]:
    """A live server's rebuilds after an edit: start ``cmd``, wait for a line matching
    ``ready``, then REPEAT times edit ``card`` (the claim's first line gets a mark, or
    loses it; written in ``work`` and renamed onto it) and read the rebuild's seconds
    from the next line matching ``done`` (its one group: seconds, or milliseconds when
    the line says ms). Returns them and the server's peak RSS in MB."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()

    def wait_for(pattern: str, limit: float) -> re.Match[str]:
        end = time.monotonic() + limit
        while True:
            try:
                line = lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                proc.kill()
                raise SystemExit(f"{cmd[0]} said nothing matching {pattern!r} in {limit:.0f} s") from None
            if found := re.search(pattern, line):
                return found

    spent = []
    try:
        wait_for(ready, 600)
        time.sleep(1.0)  # (its watcher starts looking)
        for _ in range(REPEAT):
            text = card.read_text()
            marked = text.replace("Claim number", "Claim (edited) number", 1)
            edited = marked if marked != text else text.replace("Claim (edited) number", "Claim number", 1)
            spare = work / f"{card.name}.edited"  # written whole, then renamed onto the card:
            spare.write_text(edited)  # never seen half-written
            os.replace(spare, card)
            found = wait_for(done, 120)
            spent.append(float(found[1]) / (1000 if "ms" in found[0] else 1))
            time.sleep(1.0)  # a second event for the same edit is taken here, not counted
            while not lines.empty():
                lines.get()
    finally:
        proc.terminate()  # (Ctrl-C's signal: ignored where make runs in the background)
        end = time.monotonic() + 30
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        while pid == 0 and time.monotonic() < end:
            time.sleep(0.1)
            pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
    return spent, (usage.ru_maxrss // 1024 if usage else 0)


def pages_in(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.html"))


#: A line of the table: what, wall seconds, peak MB, pages per second and CPU seconds
#: (None: not measured).
Row = tuple[str, float, int, float | None, float | None]


def bench(n: int, work: Path, hugo: str | None) -> tuple[list[Row], list[str]]:
    root = work / f"n{n}"
    generate(n, root, trash=work / TRASH)
    content, site = root / "content", root / "site"
    env = dict(os.environ, DOSSIER_CACHE_DIR=str(root / "cache"))
    rows: list[Row] = []
    spread: list[str] = []

    def once(label: str, cmd: list[str]) -> tuple[float, int, float]:
        wall, rss, status, cpu = timed(cmd, env)
        if status != 0:
            raise SystemExit(f"{label} failed with exit status {status}: {' '.join(cmd)}")
        return wall, rss, cpu

    def median_of(
        label: str, walls: list[float], peak: int, cpus: list[float] | None = None, pages: int | None = None
    ) -> float:
        """The median in the table (of the CPU seconds too, where measured; pages per
        second at the median), and every run below it."""
        median = statistics.median(walls)
        rate = pages / median if pages else None
        rows.append((f"{label}, median", median, peak, rate, statistics.median(cpus) if cpus else None))
        spread.append(f"{label}: " + ", ".join(f"{w:.2f}" for w in sorted(walls)) + " s")
        return median

    def repeated(label: str, cmd: list[str], before: Callable[[int], None], times: int = REPEAT) -> None:
        """``times`` runs, ``before(i)`` ahead of each; the median in the table."""
        walls, peaks, cpus = [], [], []
        for i in range(times):
            before(i)
            wall, rss, cpu = once(label, cmd)
            walls.append(wall)
            peaks.append(rss)
            cpus.append(cpu)
        median_of(label, walls, max(peaks), cpus)

    check = [str(DOSSIER), "check", str(content)]
    build_cmd = [str(DOSSIER), "build", str(content), "--out", str(site)]
    card = content / "facts" / "fact-00000.yaml"

    def edit(n: int) -> None:
        text = card.read_text()
        card.write_text(text.replace("Claim number 0", f"Claim number 0 (edit {n})", 1))

    def nothing(i: int) -> None:
        pass

    def edited(base: int) -> Callable[[int], None]:
        return lambda i: edit(base + i)

    time.sleep(2.1)  # past the two seconds in which a file counts as still being written
    repeated("dossier check (cold, --no-cache)", [*check, "--no-cache"], nothing, COLD)
    cache_dir = root / "cache"
    repeated("dossier check (first, filling the cache)", check, lambda i: set_aside(cache_dir, work), COLD)
    repeated("dossier check (nothing changed)", check, nothing)
    repeated("dossier check (one card changed)", check, edited(100))
    time.sleep(2.1)  # the edit settled: a build within two seconds of it cannot vouch for it
    # Every page built from the same state each time (the output folder and its spare
    # empty, the cache as the checks left it, nothing left to write out), in turns with
    # Hugo's build of the same, each going first in turn.
    checked = root / "cache-checked"
    shutil.copytree(cache_dir, checked)
    hugo_out = root / "hugo-public"
    turns = {"dossier": build_cmd}
    if hugo:
        turns["hugo"] = [hugo, "--quiet", "-s", str(root / "hugo"), "-d", str(hugo_out)]
    full: dict[str, tuple[list[float], list[int], list[float]]] = {who: ([], [], []) for who in turns}
    for turn in range(COLD):
        for who, cmd in sorted(turns.items(), reverse=turn % 2 == 1):  # (each first in turn)
            if who == "dossier":
                for tree in (site, site.parent / f".{site.name}.spare", cache_dir):
                    set_aside(tree, work)
                shutil.copytree(checked, cache_dir)
            else:
                set_aside(hugo_out, work)
            os.sync()  # (the last build's files, and the cache copied, on disk before it starts)
            wall, rss, cpu = once(f"{who} build", cmd)
            full[who][0].append(wall)
            full[who][1].append(rss)
            full[who][2].append(cpu)

    def median_full(who: str, label: str, pages_dir: Path) -> float:
        walls, peaks, cpus = full[who]
        return median_of(label, walls, max(peaks), cpus, pages_in(pages_dir))

    build = median_full("dossier", "dossier build (every page, empty output)", site)
    repeated("dossier build (nothing changed)", build_cmd, nothing)  # pages/s only where all are made
    repeated("dossier build (one card changed)", build_cmd, edited(200))
    # A card added, then removed again: each build timed.
    added = content / "facts" / "zz-added.yaml"
    walls: dict[str, list[float]] = {"added": [], "removed": []}
    cpus: dict[str, list[float]] = {"added": [], "removed": []}
    peaks: dict[str, int] = {"added": 0, "removed": 0}
    for i in range(REPEAT):
        for how in ("added", "removed"):
            if how == "added":
                added.write_text(card.read_text().replace("Claim number 0", f"An added claim ({i})", 1))
            else:
                added.unlink()
            wall, rss, cpu = once(f"dossier build (one card {how})", build_cmd)
            walls[how].append(wall)
            cpus[how].append(cpu)
            peaks[how] = max(peaks[how], rss)
    for how in ("added", "removed"):
        median_of(f"dossier build (one card {how})", walls[how], peaks[how], cpus[how])
    if hugo:
        h = median_full("hugo", "hugo (same pages, minimal layout)", hugo_out)
        rows.append(("ratio dossier build / hugo", build / h, 0, None, None))
    # The live servers, each rebuilding after an edit: its own figure for the rebuild.
    serve, peak = live(
        [str(DOSSIER), "serve", str(content), "--port", "0"],
        env,
        r"^serving ",
        r"^built .* in ([0-9.]+) s$",
        content / "facts" / "fact-00003.yaml",
        root,
    )
    ours = median_of("dossier serve (one card changed)", serve, peak)
    if hugo:
        served, peak = live(
            [hugo, "server", "-s", str(root / "hugo"), "--port", "0", "--bind", "127.0.0.1",
             "--disableLiveReload"],
            env,
            r"Web Server is available",
            r"Total in ([0-9.]+) ms",
            root / "hugo" / "content" / "cards" / "fact-00003.md",
            root,
        )  # fmt: skip
        theirs = median_of("hugo server (one card changed)", served, peak)
        rows.append(("ratio dossier serve / hugo server", ours / theirs, 0, None, None))
    return rows, spread


def stages(n: int, work: Path) -> list[tuple[str, dict[str, float]]]:
    """Where an in-process build spends its time: every page with no cache at all, then
    after one card changed with the cache the runs above filled (and the last verdict, as
    the command passes it: the build is then an update)."""
    sys.path.insert(0, str(HERE.parent))
    from dossier import cache
    from dossier.build import build

    root = work / f"n{n}"
    content, site = root / "content", root / "stage-site"
    shutil.rmtree(site, ignore_errors=True)
    cold = build(content, site).timings
    folder = root / "cache"
    store = cache.load(cache.path_for(content, folder), cache.build_path_for(content, folder))
    first = build(content, site, cache=store)
    known = first.check.verdict(first.survey)
    card = content / "facts" / "fact-00001.yaml"
    card.write_text(card.read_text().replace("Claim number 1", "Claim number 1 (edited)", 1))
    warm = build(content, site, cache=store, known=known)
    what = "an update" if warm.recalled is not None else "a full build"
    return [("every page, no cache", cold), (f"one card changed, cache warm ({what})", warm.timings)]


#: Run as a command of its own (so that its start-up counts): `dossier build` after one
#: card changed, timed in its parts as cli.build_command makes them.
_PARTS = """
import time
t0 = time.perf_counter()
import sys
from pathlib import Path
import jinja2
from dossier import cache, cli, publish
from dossier.build import build
content, out = Path(sys.argv[1]), Path(sys.argv[2])
t1 = time.perf_counter()
path = cache.verdict_path(content)
known = cache.load_verdict(path)
with cli.cached(content, False, build=True) as store:
    t2 = time.perf_counter()
    result = build(content, out, cache=store, known=known)
    verdict = result.unchanged or result.recalled or result.check.verdict(result.survey)
    update = result.recalled is not None
    del result
    t3 = time.perf_counter()
publish.replace({path: cache.dump_verdict(verdict)})
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, int(update))
"""


def command_parts(n: int, work: Path) -> tuple[dict[str, float], bool]:
    """Where a `dossier build` after one card changed spends its time, start-up included:
    the fastest of REPEAT runs of each part (each run a process of its own)."""
    root = work / f"n{n}"
    content, site = root / "content", root / "site"
    card = content / "facts" / "fact-00002.yaml"
    env = dict(os.environ, DOSSIER_CACHE_DIR=str(root / "cache"), PYTHONPATH=str(HERE.parent))
    best = [float("inf")] * 4
    updates = True
    for i in range(REPEAT + 1):  # (the first brings the cache up to this card's edits)
        claim = f'claim: "Claim number 2, edit {i}."'
        card.write_text(re.sub(r"^claim: .*$", claim, card.read_text(), count=1, flags=re.M))
        time.sleep(2.1)  # past the two seconds in which a file counts as still being written
        done = subprocess.run(
            [sys.executable, "-c", _PARTS, str(content), str(site)],
            env=env, capture_output=True, text=True, check=True, cwd=HERE.parent,
        )  # fmt: skip
        *spent, was_update = done.stdout.split()
        if i:
            best = [min(b, float(x)) for b, x in zip(best, spent, strict=True)]
            updates = updates and was_update == "1"
    parts = ("start-up", "cache read", "build", "cache written")
    return dict(zip(parts, best, strict=True)), updates


def _spin() -> None:
    total = 0
    for i in range(6_000_000):
        total += i


def two_cores() -> float | None:
    """What two cores give here: one CPU-bound loop alone, against two copies of it at once
    in forked processes (best of three each), as a throughput factor (2.0: two whole
    cores). A shared or virtual machine may give less, which bounds what dossier's work in
    two processes can gain. None where there is no fork or a single core."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return None
    alone, both = [], []
    for _ in range(3):
        t = time.perf_counter()
        _spin()
        alone.append(time.perf_counter() - t)
        t = time.perf_counter()
        pids = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                _spin()
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        both.append(time.perf_counter() - t)
    return 2 * min(alone) / min(both)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dossier-bench")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "dossier")], check=True)
    hugo = shutil.which("hugo")
    if hugo is None:
        print("hugo is not installed (Debian: apt-get install hugo): dossier is measured alone\n")
    try:
        run_sizes(args, hugo)
        run_misses(args.work)
    finally:
        shutil.rmtree(args.work / TRASH, ignore_errors=True)


def run_sizes(args: argparse.Namespace, hugo: str | None) -> None:
    for n in (int(x) for x in args.sizes.split(",")):
        factor = two_cores()
        rows, spread = bench(n, args.work, hugo)
        print(f"N = {n:,} cards, {3 * n:,} quotes, {n // 10:,} sources")
        if factor is not None:
            print(f"  two cores did {factor:.2f} times the work of one just before (a CPU-bound loop)")
        print(f"  {'what':<52} {'wall s':>8} {'peak MB':>8} {'pages/s':>9} {'CPU s':>7}")
        for label, wall, rss, rate, cpu in rows:
            if label.startswith("ratio"):
                print(f"  {label:<52} {wall:>8.2f}")
                continue
            shown = "" if rate is None else f"{rate:,.0f}"
            used = "" if cpu is None else f"{cpu:.2f}"
            print(f"  {label:<52} {wall:>8.2f} {rss:>8} {shown:>9} {used:>7}")
        print("  every run, fastest first:")
        for line in spread:
            print(f"    {line}")
        for what, timings in stages(n, args.work):
            total = sum(timings.values()) or 1.0
            slowest = max(timings, key=timings.__getitem__)
            shares = ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
            print(f"  in-process build, {what}: {total:.2f} s: {shares}")
            print(f"    slowest stage: {slowest}, {timings[slowest] / total:.0%} of the time")
        parts, updates = command_parts(n, args.work)
        shown = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
        what = "an update" if updates else "not always an update"
        print(f"  dossier build, one card changed ({what}), fastest of {REPEAT} a part: {shown} s")
        print()


def run_misses(work: Path) -> None:
    """Quotes not in their source, against one source of about 100 KB: the verifier's time
    for each, with the nearest passage found, then ``dossier check`` of them all."""
    root = work / "misses"
    set_aside(root, work)
    text, hits, misses = generate_misses(root)
    n = len(KINDS) * PER_KIND
    print(f"Quotes not in their source: {n} against one source of {len(text.encode()):,} bytes")
    for line in measure(text, hits, misses):
        print(f"  {line}")
    cmd = [str(DOSSIER), "check", str(root), "--no-cache"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    errors = len(re.findall(r"error\[quote-not-found\]", out))
    nearest = out.count("nearest passage (")
    if proc.returncode != 1 or errors != n:
        raise SystemExit(f"dossier check of the misses: exit {proc.returncode}, {errors} errors, not {n}")
    print(f"  dossier check, no cache: {wall:.2f} s for the {n} errors ({nearest} with a nearest passage)")
    print()


if __name__ == "__main__":
    main()
