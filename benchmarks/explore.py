"""`python -m benchmarks.explore [--runs N]`: seconds from pressing Run in the explorer to the KPIs on screen,
for the default scenario, against the replications themselves (`run_experiment`, as the page reports it).

The page is served by `python -m sim.explore` and driven in Debian's headless Chromium (tests/browser.py);
after one warm-up run (the server's first imports), each timed run is a click on Run and a poll (every 10 ms)
until the status of that run is on screen, which the server sends with the KPI table, after the map, waits,
sites and agent's week are drawn. Goal: under 3 s beyond the replications.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from tests.browser import Page, Server, available, driver

DONE = re.compile(r"Run (\d+) done: \d+ replication\(s\) in ([\d.]+) s \(simulation ([\d.]+) s\), shown ([\d.]+) s")


def measure(runs: int = 5) -> dict:
    """Time `runs` clicks on Run (after a warm-up); per run: on screen, replications, simulation, server side."""
    if not available():
        raise SystemExit("error: the explorer benchmark needs Debian's chromium and chromium-driver, and selenium")
    with tempfile.TemporaryDirectory() as folder:
        server = Server(log=Path(folder) / "server.log")
        browser = driver()
        try:
            page = Page(browser, server.url)
            rows = []
            for number in range(1, runs + 2):
                button = page.find("run", "button")
                started = time.perf_counter()
                button.click()
                while not (found := DONE.search(page.text("status"))) or int(found.group(1)) != number:
                    time.sleep(0.01)
                screen = time.perf_counter() - started
                assert "seen within 20 min" in page.text("kpis")
                if number > 1:
                    rows.append({"screen_s": screen, "replications_s": float(found.group(2)),
                                 "simulation_s": float(found.group(3)), "server_s": float(found.group(4))})
                page.wait(lambda: page.find("run", "button").is_enabled(), 30, "the Run button")
        finally:
            browser.quit()
            server.stop()
    beyond = [r["screen_s"] - r["replications_s"] for r in rows]
    return {"runs": rows, "median_screen_s": statistics.median(r["screen_s"] for r in rows),
            "median_replications_s": statistics.median(r["replications_s"] for r in rows),
            "median_beyond_s": statistics.median(beyond), "max_beyond_s": max(beyond)}


def report(r: dict) -> list[str]:
    """The benchmark's lines."""
    goal = "met" if r["median_beyond_s"] < 3.0 else "NOT met"
    return [f"(e) explorer, default scenario, Run to KPIs on screen (median of {len(r['runs'])}): "
            f"{r['median_screen_s']:.2f} s, of which replications {r['median_replications_s']:.2f} s; "
            f"beyond them {r['median_beyond_s']:.2f} s (max {r['max_beyond_s']:.2f} s; goal under 3 s: {goal})"]


def main(argv: list[str] | None = None) -> None:
    """Run and print the benchmark (--json for the raw numbers)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explore", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(json.dumps(result, indent=2) if args.json else "\n".join(report(result)))


if __name__ == "__main__":
    main()
