"""`dossier serve`: build, serve on 127.0.0.1, rebuild when content or templates change.

A failed build does not stop the server: every page then shows the problems, with file
and line, until the next change builds cleanly. Messages go to a reporter callback.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2

from . import report
from .build import build
from .publish import PublishError
from .render import theme_dirs

Reporter = Callable[[str], None]


def snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file below the folders: a change to either triggers a build."""
    seen: dict[str, tuple[int, int]] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            try:
                st = path.stat()
            except OSError:
                continue
            seen[str(path)] = (st.st_mtime_ns, st.st_size)
    return seen


class DevServer:
    def __init__(
        self, content_dir: Path, out: Path, port: int, reporter: Reporter, interval: float = 0.3
    ) -> None:
        self.content_dir = content_dir
        self.out = out
        self.reporter = reporter
        self.interval = interval
        self.error_page: bytes | None = None
        self.builds = 0
        self._stop = threading.Event()
        handler = partial(_Handler, directory=str(out), server_state=self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]

    @property
    def watched(self) -> list[Path]:
        return [self.content_dir, *theme_dirs(self.content_dir)]

    def rebuild(self) -> None:
        self.builds += 1
        try:
            result = build(self.content_dir, self.out)
        except (PublishError, jinja2.TemplateError, OSError) as exc:
            self._fail([f"error[build] {type(exc).__name__}: {exc}"])
            return
        if result.published is None:
            self._fail(report.text(result.check.problems))
            return
        self.error_page = None
        self.reporter(f"built {result.pages} pages ({result.published.written} changed)")

    def _fail(self, lines: list[str]) -> None:
        body = "\n".join(html.escape(line) for line in lines)
        self.error_page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Build failed</title>"
            "<body style='font:16px/1.5 system-ui;margin:2rem'><h1>The dossier did not build</h1>"
            f"<pre style='white-space:pre-wrap'>{body}</pre>"
            "<p>Fix the files named above; this page reloads when you save.</p>"
            "<script>setTimeout(() => location.reload(), 1500)</script></body></html>\n"
        ).encode()
        self.reporter(f"build failed: {len(lines)} problem line(s); the browser shows them")

    def watch(self) -> None:
        before = snapshot(self.watched)
        while not self._stop.wait(self.interval):
            now = snapshot(self.watched)
            if now != before:
                before = now
                self.rebuild()

    def start(self) -> threading.Thread:
        """Build once, then serve and watch in background threads."""
        self.rebuild()
        threading.Thread(target=self.watch, daemon=True).start()
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        return thread

    def httpd_thread_wait(self, timeout: float = 0.5) -> None:
        """Sleep a little; lets the caller's loop see Ctrl-C promptly."""
        self._stop.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: object, server_state: DevServer, **kwargs: object) -> None:
        self.state = server_state
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        page = self.state.error_page
        if page is not None:
            self.send_response(500)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass
