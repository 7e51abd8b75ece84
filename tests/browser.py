"""Driving the explorer in Debian's headless Chromium through Selenium (no download at test time).

Panel draws each widget inside a shadow root; `Page.find(host, inner)` finds the widget by the CSS class the
explorer gives it (`css_classes`), then an element inside its shadow roots.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "tests" / "screenshots"

DEEP = r"""
const deep = (sel, root) => {
  const hit = root.querySelector(sel);
  if (hit) return hit;
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) { const f = deep(sel, el.shadowRoot); if (f) return f; }
  }
  return null;
};
const txt = (root) => Array.from(root.children).filter(e => !['STYLE', 'LINK', 'SCRIPT'].includes(e.tagName))
  .map(e => (e.shadowRoot ? txt(e.shadowRoot) + '\n' : '') + (e.innerText || '')).join('\n');
const all = (sel, root, out) => {
  root.querySelectorAll(sel).forEach(e => out.push(e));
  for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) all(sel, el.shadowRoot, out); }
  return out;
};
"""


def available() -> bool:
    """Whether Chromium, its driver and Selenium are installed."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def driver(downloads: Path | None = None) -> Any:
    """Headless Chromium with the flags this closed network needs, downloads into `downloads`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1500,1100"):
        options.add_argument(flag)
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    if downloads is not None:
        browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return browser


class Server:
    """A command serving the explorer on a free port (default `python -m sim.explore --port P`), stopped by `stop`;
    its output goes to `log`, quoted if it fails to start."""

    def __init__(self, *args: str, log: Path, command: list[str] | None = None) -> None:
        self.port = free_port()
        self.log = log
        argv = (command or [sys.executable, "-m", "sim.explore"]) + ["--port", str(self.port), *args]
        with open(log, "w") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                                            stdout=out, stderr=subprocess.STDOUT, text=True)
        self.url = f"http://localhost:{self.port}/"
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the explorer stopped: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the explorer's port never opened: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server (and wait for it)."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Page:
    """The explorer's page in a browser: find widgets by class, type, click, wait."""

    def __init__(self, browser: Any, url: str, ready: str = "run") -> None:
        self.browser = browser
        browser.get(url)
        self.wait(lambda: self.find(ready) is not None, 60, f"the page's .{ready}")
        if ready == "run":  # the explorer: wait until its knobs hold their values
            self.wait(lambda: self.find("knob-seed", "input") is not None
                      and self.find("knob-seed", "input").get_attribute("value") == "0", 60, "the knobs' values")

    def script(self, code: str, *args: Any) -> Any:
        """Run JavaScript with `deep(selector, root)` (through shadow roots) and `txt(root)` at hand."""
        return self.browser.execute_script(DEEP + code, *args)

    def find(self, host: str, inner: str | None = None) -> Any:
        """The element `inner` inside the widget of class `host` (or the widget itself)."""
        return self.browser.execute_script(
            DEEP + "const h = deep('.' + arguments[0], document); if (!h || !arguments[1]) return h;"
            "return h.shadowRoot ? deep(arguments[1], h.shadowRoot) : deep(arguments[1], h);", host, inner)

    def text(self, host: str) -> str:
        """The visible text of a widget (its shadow roots included)."""
        return self.browser.execute_script(
            DEEP + "const h = deep('.' + arguments[0], document); if (!h) return '';"
            "return h.shadowRoot ? txt(h.shadowRoot) : h.innerText;", host) or ""

    def rows(self, host: str) -> dict[str, list[str]]:
        """A table inside a widget as {first cell: other cells}, each cell's text."""
        rows = self.browser.execute_script(
            DEEP + "const h = deep('.' + arguments[0], document); if (!h) return [];"
            "return all('tbody tr', h.shadowRoot || h, []).map(r => Array.from(r.cells).map(c => c.innerText));", host)
        return {r[0]: r[1:] for r in rows}

    def set(self, host: str, value: str, tries: int = 3) -> None:
        """Put a value into a widget's input as a paste does (the whole text at once, then Enter), and check that
        the input holds it. Typing it key by key after clearing the field sends the server an empty value on the
        way, and under load its answer can land in the middle of the typing."""
        from selenium.webdriver.common.keys import Keys

        paste = ("const f = arguments[0]; f.focus(); f.value = arguments[1];"
                 "f.dispatchEvent(new Event('input', {bubbles: true})); f.dispatchEvent(new Event('change', {bubbles: true}));")
        for _ in range(tries):
            field = self.wait(lambda: (f := self.find(host, "input")) is not None and f.is_displayed() and f, 20,
                              f"the input of .{host}")
            self.browser.execute_script(paste, field, value)
            field.send_keys(Keys.ENTER)
            time.sleep(0.3)
            if (self.find(host, "input").get_attribute("value") or "") == value:
                return
            time.sleep(1.0)
        raise AssertionError(f".{host} holds {self.find(host, 'input').get_attribute('value')!r}, not {value!r}")

    def select(self, host: str, label: str) -> None:
        """Pick an option of a select widget by its text."""
        from selenium.webdriver.support.ui import Select

        Select(self.find(host, "select")).select_by_visible_text(label)
        time.sleep(0.3)

    def click(self, host: str, inner: str = "button", timeout: float = 10) -> None:
        """Click a button once it is enabled (Panel redraws a button whose state changed: find it again)."""
        from selenium.common.exceptions import StaleElementReferenceException

        deadline = time.time() + timeout
        while True:
            element = self.find(host, inner)
            try:
                if element is not None and element.is_enabled():
                    element.click()
                    return
            except StaleElementReferenceException:
                pass
            if time.time() > deadline:
                raise AssertionError(f"no enabled {inner} in .{host}")
            time.sleep(0.1)

    def tab(self, title: str) -> None:
        """Open a tab of the results by its title."""
        self.browser.execute_script(
            DEEP + "const t = all('.bk-tab', document, []).find(e => e.innerText.trim() === arguments[0]);"
            "if (t) t.click();", title)
        time.sleep(0.5)

    def wait(self, ready: Callable[[], Any], timeout: float = 60, what: str = "the page") -> Any:
        """Poll until `ready()` is truthy; fail with what was awaited."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = ready()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def screenshot(self, name: str) -> Path:
        """Save a PNG of the page under tests/screenshots/."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.browser.execute_script("window.scrollTo(0, 0);")
        self.browser.save_screenshot(str(path))
        return path
