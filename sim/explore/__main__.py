"""`python -m sim.explore [--port P] [--show] [--scenarios-dir DIR]`: serve the explorer on localhost;
`python -m sim.explore export SWEEP_DIR [-o FILE]`: write a sweep as one standalone HTML page."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from sim.core.errors import InputError

DEFAULT_PORT = 5006


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.explore", description=(
        "Serve the explorer: pick a territory, move the knobs, Run, compare, download. "
        "`python -m sim.explore export SWEEP_DIR` writes a sweep as a standalone page."))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on localhost (default {DEFAULT_PORT})")
    parser.add_argument("--show", action="store_true", help="open the page in the default browser")
    parser.add_argument("--scenarios-dir", default=None,
                        help="where territories built from the open data are written (default: scenarios/)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        print(f"error: --port: must be between 1 and 65535, got {args.port}", file=sys.stderr)
        return 2
    import panel as pn

    from sim.explore.app import TITLE, app

    print(f"explorer: http://localhost:{args.port}/  (Ctrl-C to stop)", flush=True)
    pn.serve({"/": lambda: app(args.scenarios_dir)}, port=args.port, address="127.0.0.1", show=args.show,
             title=TITLE, websocket_origin=[f"localhost:{args.port}", f"127.0.0.1:{args.port}"], threaded=False)
    return 0


def _export(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.explore export", description=(
        "Write a sweep folder (multirun/<...>) as one HTML page with sliders over the swept settings, that "
        "opens with no server and no network."))
    parser.add_argument("sweep_dir", help="the sweep's folder, as written by python -m sim -m ...")
    parser.add_argument("-o", "--output", default=None, help="the HTML file (default: SWEEP_DIR/explorer.html)")
    args = parser.parse_args(argv)
    from sim.explore.export import export_sweep

    try:
        path = export_sweep(args.sweep_dir, args.output)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the page, or export a sweep; 2 after one line for bad input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        return _export(argv[1:])
    return _serve(argv)


if __name__ == "__main__":
    raise SystemExit(main())
