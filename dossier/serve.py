"""`dossier serve`: build, serve on 127.0.0.1, rebuild when content or templates change.

A failed build does not stop the server: every page then shows the problems, with file
and line, until the next change builds cleanly. Messages go to a reporter callback.

Every HTML page it serves (the built files stay as built) carries a small script that,
while the page is shown, asks ``/__dossier__/state`` twice a second whether a build has
changed the site since the page was served, and reloads it when one has. So a page open
in a browser shows each edit once it is built, and the error page goes as soon as the
content builds again. (Each question is answered at once: a question held until a build
ends would hold one of the few connections a browser gives a host, and a few tabs open
would stall the next page.)

The server keeps a cache in memory, so that a rebuild after an edit is an update (the
pages the edit touches; see ``build``): at 10,000 cards about a third of a second,
where a build from nothing takes ten. The cache starts from what the caller gives (the command
gives the one ``dossier build`` keeps, so the first build need not read every card
afresh) and is never saved: the server's folder is its own. A build that fails with an
exception drops it: the next starts from nothing.
"""

from __future__ import annotations

import gc
import html
import io
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import jinja2

from . import publish, report
from .build import build
from .cache import Cache, settle
from .check import survey
from .problems import Verdict
from .publish import PublishError
from .render import theme_dirs
from .survey import Survey

Reporter = Callable[[str], None]

#: Where a served page asks whether a build has changed the site (no site file can stand
#: there: the server answers it before looking at files). The answer: ``TOKEN:COUNT``.
STATE_PATH = "/__dossier__/state"


def reload_script(token: str, builds: int) -> bytes:
    """The script a served page carries: while the page is shown, it asks twice a second
    whether the site changed since the ``builds``-th change of the server ``token`` names
    (a server started again has another token), and reloads it when it did."""
    return (
        f"<script>(()=>{{const seen='{token}:{builds:d}';let timer=null;"
        "const later=ms=>{if(!timer)timer=setTimeout(ask,ms)};"
        "const ask=()=>{timer=null;if(document.hidden)return;"
        f"fetch('{STATE_PATH}',{{cache:'no-store'}}).then(r=>{{if(!r.ok)throw 0;return r.text()}})"
        ".then(t=>{if(/^[0-9a-f]+:[0-9]+$/.test(t)&&t!==seen){location.reload()}else{later(500)}})"
        ".catch(()=>later(2000))};"
        "document.addEventListener('visibilitychange',()=>{if(!document.hidden)later(0)});"
        "ask()})()</script>\n"
    ).encode()


def with_reload(page: bytes, token: str, builds: int) -> bytes:
    """``page`` with the reload script, before its ``</body>`` (at its end if it has none)."""
    at = page.rfind(b"</body>")
    script = reload_script(token, builds)
    return page + script if at < 0 else page[:at] + script + page[at:]


def snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """Mtime and size of every file below the folders, a link's as of what it names (a
    linked folder is entered as the theme's loader enters it, but a folder met again, a
    link that loops, only once): a change to either triggers a build."""
    seen: dict[str, tuple[int, int]] = {}
    entered: set[tuple[int, int]] = set()
    todo = [str(folder) for folder in folders]
    while todo:
        folder = todo.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in entered:
                continue
            entered.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as entries:
                for e in entries:
                    try:
                        if e.is_dir():
                            todo.append(e.path)
                            if not e.is_symlink():
                                continue  # (a link to one is an entry too: where it leads)
                        st = e.stat()
                    except OSError:
                        continue
                    seen[e.path] = (st.st_mtime_ns, st.st_size)
        except OSError:  # not a folder (or gone): nothing below it to watch
            continue
    return seen


class DevServer:
    def __init__(
        self,
        content_dir: Path,
        out: Path,
        port: int,
        reporter: Reporter,
        interval: float = 0.3,
        cache: Cache | None = None,
    ) -> None:
        self.content_dir = content_dir
        self.out = out
        self.reporter = reporter
        self.interval = interval
        self.error_page: bytes | None = None
        self.builds = 0
        #: how many builds have changed what is served (a page reloads when it grows), and
        #: this server's token (a page of another reloads)
        self.done = 0
        self.token = secrets.token_hex(4)
        self.cache = cache if cache is not None else Cache()
        self.known: Verdict | None = None  # the last build's verdict, for the next
        self.updated: bool | None = None  # was the last build an update (None: none ran)
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        handler = partial(_Handler, directory=str(out), server_state=self)
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.reporter = reporter
        self.port = self.httpd.server_address[1]

    @property
    def watched(self) -> list[Path]:
        return [self.content_dir, *theme_dirs(self.content_dir)]

    def look(self) -> tuple[object, Survey | None]:
        """What the watcher compares, and the content folder's survey when there is one:
        the build is handed it (taken before anything is read, as a build's own is), so
        that a rebuild does not look at every card again (at 10,000 cards a tenth of a
        second of each). Without one (a file other than a card written in the last two
        seconds), every file's mtime and size. Once the survey is back the next look
        differs in form, and builds again: the build without a survey could vouch for
        nothing (a full build keeping no ledger), this one can (a full build too, after
        which an edit is an update again)."""
        found = survey(self.content_dir, strict=False, freeze=False)
        if found is None:
            return snapshot(self.watched), None
        return (found.looks(), snapshot(theme_dirs(self.content_dir))), found

    def rebuild(self, surveyed: Survey | None = None) -> None:
        if self._stop.is_set():  # (stopping: a build now would write into what goes)
            return
        shown = self.error_page
        wrote = self._rebuild(surveyed)
        if wrote or self.error_page != shown:  # the pages open in a browser reload
            self.done += 1

    def _rebuild(self, surveyed: Survey | None) -> bool:
        """Build; did it write anything?"""
        self.builds += 1
        start = time.perf_counter()
        try:
            result = build(self.content_dir, self.out, cache=self.cache, known=self.known, surveyed=surveyed)
        except (PublishError, jinja2.TemplateError, OSError) as exc:
            self._dropped([f"error[build] {type(exc).__name__}: {exc}"])
            return False
        except Exception as exc:  # a bug: shown, and the server goes on (the next edit may pass)
            self._dropped([f"error[internal] {type(exc).__name__}: {exc}; please report this"])
            return False
        finally:
            gc.unfreeze()  # what a build froze (see ``pause``) is collectable again
        settle(self.cache)  # what it did not use goes (a long session keeps no old versions)
        self.updated = result.recalled is not None
        self.known = result.unchanged or result.recalled or result.check.verdict(result.survey)
        if result.published is None:
            self._fail(report.text(result.check.problems))
            return False
        self.error_page = None
        spent = time.perf_counter() - start
        self.reporter(f"built {result.pages} pages ({result.published.written} changed) in {spent:.2f} s")
        return result.published.written > 0

    def _dropped(self, lines: list[str]) -> None:
        """A build that raised: its cache may hold half of what failed, so it goes."""
        self.cache, self.known, self.updated = Cache(), None, None
        self._fail(lines)

    def _fail(self, lines: list[str]) -> None:
        body = "\n".join(html.escape(line) for line in lines)
        self.error_page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Build failed</title>"
            "<body style='font:16px/1.5 system-ui;margin:2rem'><h1>The dossier did not build</h1>"
            f"<pre style='white-space:pre-wrap'>{body}</pre>"
            "<p>Fix the files named above; this page reloads when they build.</p></body></html>\n"
        ).encode("utf-8", "backslashreplace")  # (a file name not in UTF-8, as its bytes' escapes)
        self.reporter(f"build failed: {len(lines)} problem line(s); the browser shows them")

    def watch(self, before: object) -> None:
        """Build again whenever what ``look`` sees differs from ``before``."""
        pause = self.interval
        while not self._stop.wait(pause):
            start = time.perf_counter()
            now, found = self.look()
            # Looking takes a tenth of a second at 10,000 cards: at most a third of the time.
            pause = max(self.interval, 2 * (time.perf_counter() - start))
            if now != before:
                before = now
                self.rebuild(found)

    def start(self) -> threading.Thread:
        """Build once, then serve and watch in background threads (an edit made during
        the first build is seen: what is watched is looked at first)."""
        before, found = self.look()
        self.rebuild(found)
        if self.error_page is None:  # built: the first edit then writes into a spare tree
            publish.make_spare(self.out)
        self._watcher = threading.Thread(target=self.watch, args=(before,), daemon=True)
        self._watcher.start()
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        return thread

    def httpd_thread_wait(self, timeout: float = 0.5) -> None:
        """Sleep a little; lets the caller's loop see Ctrl-C promptly."""
        self._stop.wait(timeout)

    def stop(self) -> None:
        """Stop watching, waiting for a build under way to end (the folder it writes to
        may be removed next), then stop serving."""
        self._stop.set()
        if self._watcher is not None:  # started, so serving too (shutdown would wait forever
            self._watcher.join()
            self.httpd.shutdown()  # for a loop never started)
        self.httpd.server_close()


class _Server(ThreadingHTTPServer):
    reporter: Reporter = staticmethod(lambda _: None)  # (the server's, set by it)

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that went away before its answer (a tab closed while its page was
        sent) is no error; anything else is said in one line, not a trace."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):  # (broken pipe, reset, aborted)
            return
        self.reporter(f"error[internal] answering a request: {type(exc).__name__}: {exc}")


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: object, server_state: DevServer, **kwargs: object) -> None:
        self.state = server_state
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        if self.path.partition("?")[0] == STATE_PATH:
            self._send(200, f"{self.state.token}:{self.state.done}".encode(), "text/plain; charset=utf-8")
            return
        if not self._failed():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._failed():
            super().do_HEAD()

    def _failed(self) -> bool:
        """While the last build failed, every page is its problems (answered here)."""
        done = self.state.done  # (read first: a build ending meanwhile reloads the page)
        page = self.state.error_page
        if page is None:
            return False
        self._send(500, with_reload(page, self.state.token, done))
        return True

    def send_head(self) -> io.BytesIO | BinaryIO | None:
        """A page of the site with the reload script put in; any other file as it is."""
        done = self.state.done  # (read before the page: at worst it reloads once more)
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.partition("?")[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if path.endswith(".html") and os.path.isfile(path):
            try:
                page = Path(path).read_bytes()
            except OSError:
                return super().send_head()
            body = with_reload(page, self.state.token, done)
            self._headers(200, len(body), "text/html; charset=utf-8")
            return io.BytesIO(body)
        return super().send_head()

    def _send(self, status: int, page: bytes, kind: str = "text/html; charset=utf-8") -> None:
        """A page of ours, with ``status``."""
        self._headers(status, len(page), kind)
        if self.command != "HEAD":
            self.wfile.write(page)

    def _headers(self, status: int, size: int, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(size))
        self.end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A page not found is answered with the site's own 404 page, as a host serves it."""
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        done = self.state.done
        self._send(404, with_reload(page.read_bytes(), self.state.token, done))

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass
