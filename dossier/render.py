"""Rendering: Jinja2 templates and Markdown into page bytes, in memory.

Templates come from the theme shipped with dossier, overridden by name by a
``templates/`` folder beside CONTENT_DIR. Card text is only ever data to a template,
never a template itself, and Markdown is rendered with raw HTML off.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import jinja2
import markupsafe
from markupsafe import Markup, escape

from . import parallel
from .generators import Lists
from .pieces import Assembly, Old
from .splice import Kind, Recorder, Skeleton, Watch, unwatched

if TYPE_CHECKING:  # (imported when first used: see ``Markdown``)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

PACKAGE_DIR = Path(__file__).resolve().parent


def default_theme() -> Path:
    """The shipped theme: inside the package when installed, the repo's templates/ otherwise."""
    installed = PACKAGE_DIR / "templates"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "templates"


def theme_dirs(content_dir: Path) -> list[Path]:
    override = content_dir.resolve().parent / "templates"
    dirs = [default_theme().resolve()]
    if override.is_dir() and override.resolve() != dirs[0]:
        dirs.insert(0, override)
    return dirs


_SAFE_LINK = re.compile(r"(?:https?:|mailto:|#|(?!/)[^:/?#]*(?:[/?#]|$))", re.IGNORECASE)
_WORDS = re.compile(r"[^\W_]+")


def safe_link(url: str) -> bool:
    """Links in card text: web and mail addresses and relative links only (no data:,
    javascript: or other schemes, in any case or encoding markdown-it decodes; no path
    from the root, ``/x``, nor another host without a scheme, ``//host``: from ``file://``
    they lead out of the site)."""
    cleaned = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    return bool(_SAFE_LINK.match(cleaned))


class Markdown:
    """markdown-it-py with raw HTML off; headings in card text sit below the page's own.

    Images are off (the site makes no request elsewhere: ``![x](url)`` stays text and a
    link), and so is every link scheme but http(s) and mailto.
    """

    def __init__(self) -> None:
        self._md: MarkdownIt | None = None
        self._inline: dict[str, Markup] = {}

    @property
    def md(self) -> MarkdownIt:
        """The parser, made (and markdown-it-py imported: 0.06 s of a command) when first
        asked for: a build after one edit to a claim in plain words renders no Markdown
        (see ``plain_claim``)."""
        if self._md is None:
            md = _parser()
            md.validateLink = safe_link  # type: ignore[method-assign]
            self._md = md
        return self._md

    def block(self, text: str | None, shift: int = 2) -> Markup:
        if not text:
            return Markup("")
        tokens = self.md.parse(text)
        for tok in tokens:
            if tok.type in ("heading_open", "heading_close"):
                tok.tag = f"h{min(int(tok.tag[1]) + shift, 6)}"
            _harden_links(tok)
        html = self.md.renderer.render(tokens, self.md.options, {})
        if not _keeps_every_word(text, html):
            # Past markdown-it's nesting limit text is dropped: show the text as written.
            paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
            html = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
        return Markup(html)

    def inline(self, text: str | None) -> Markup:
        """Inline Markdown (claims): memoised, since one claim shows on several pages."""
        if not text:
            return Markup("")
        done = self._inline.get(text)
        if done is None:
            done = self._inline[text] = self._inline_uncached(text)
        return done

    def _inline_uncached(self, text: str) -> Markup:
        tokens = self.md.parseInline(text)
        for tok in tokens:
            _harden_links(tok)
        html = self.md.renderer.render(tokens, self.md.options, {})
        return Markup(html) if _keeps_every_word(text, html) else escape(text)


#: What Markdown writes that a rendering does not show: a link reference's definition
#: (``[r]: https://...``, a line of its own) and the label a link refers by (``[text][r]``).
_REFERENCES = re.compile(r"^ {0,3}\[[^\]\n]+\]:[^\n]*$|(?<=\])\[[^\]\n]*\]", re.MULTILINE)


def _keeps_every_word(source: str, html: str) -> bool:
    """Does the rendering still hold every word of the source (in text or attributes,
    links' percent-escapes read)? Link references are not looked for."""
    rendered = Counter(_WORDS.findall(unquote(unescape(html))))
    wanted = Counter(_WORDS.findall(unescape(_REFERENCES.sub("", source))))
    return not (wanted - rendered)


def _harden_links(tok: Token) -> None:
    for child in [tok, *(tok.children or [])]:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            if href.lower().startswith(("http://", "https://")):
                child.attrSet("rel", "noopener noreferrer")


def _parser() -> MarkdownIt:
    """A parser as card text is read: raw HTML, images, linkify and the typographer off."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    return md


@functools.cache
def _inline_parser() -> MarkdownIt:
    """The parser for ``plain`` (without the link check: it makes no link)."""
    return _parser()


#: What markdown-it reads in inline text (with raw HTML, images, linkify and the
#: typographer off): line breaks, escapes, code, strikethrough, emphasis, links, images,
#: autolinks and entities; and what its normaliser changes.
_INLINE_SYNTAX = re.compile(r"[\n\r\0\\`~*_\[!<&]")


def plain_claim(text: str) -> tuple[str, str] | None:
    """A claim holding none of the characters inline Markdown reads, as markdown-it-py
    renders it (HTML, plain text) without running it: the text, ``>`` and ``"`` escaped
    as its renderer escapes them. None for any other claim. (Most claims are plain words:
    rendering 10,000 took 0.5 s of a build; a property test holds this to markdown-it.)"""
    if _INLINE_SYNTAX.search(text):
        return None
    return text.replace(">", "&gt;").replace('"', "&quot;"), text


def plain(text: str) -> str:
    """Inline Markdown as plain text, for titles and metadata: what a reader sees of it
    (emphasis, code and links read as their words, entities as what they stand for)."""
    tokens = _inline_parser().parseInline(text)
    out: list[str] = []
    for tok in tokens:
        for child in tok.children or []:
            if child.type in ("text", "code_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append(" ")
    return "".join(out)


#: The tags of a link in rendered card text (markdown-it escapes every attribute's ``>``).
_LINK_TAGS = re.compile(r"</?a(?:\s[^>]*)?>")


#: A claim's inline Markdown rendered: its text -> (HTML, plain text). What a build used is
#: kept (by the cache) for the next, since the same claims show on every list page.
Claims = dict[str, tuple[str, str]]


#: From this many claims never rendered before, they are rendered in two processes.
PARALLEL_CLAIMS = 2000


class ClaimText:
    """Claims as HTML and as plain text, each rendered once per text."""

    def __init__(self, markdown: Markdown, known: Claims | None = None) -> None:
        self.markdown, self.known = markdown, known or {}
        self.used: Claims = {}

    def _get(self, text: str) -> tuple[str, str]:
        done = self.used.get(text) or self.known.get(text)
        if done is None:
            done = plain_claim(text) or (str(self.markdown.inline(text)), plain(text))
        self.used[text] = done
        return done

    def prime(self, texts: list[str]) -> None:
        """Render every one of ``texts`` now (before rendering forks, so that every process
        knows them all); with thousands not known, in two processes."""
        new = [t for t in dict.fromkeys(texts) if t not in self.used and t not in self.known]
        plainly = {t: made for t in new if (made := plain_claim(t)) is not None}
        self.used.update(plainly)
        new = [t for t in new if t not in plainly]
        if len(new) >= PARALLEL_CLAIMS and parallel.usable():
            for done in parallel.in_two(self._render_all, [new[::2], new[1::2]]):
                self.used.update(done)
        for t in texts:
            self._get(t)

    def _render_all(self, texts: list[str]) -> Claims:
        return {t: self._get(t) for t in texts}

    def html(self, text: str | None) -> Markup:
        return Markup(self._get(text)[0]) if text else Markup("")

    def html_in_link(self, text: str | None) -> Markup:
        """``html`` without its links (their words stay), for a claim shown inside a link:
        a link in a link is not HTML, and browsers split the outer one."""
        return Markup(_LINK_TAGS.sub("", self._get(text)[0])) if text else Markup("")

    def plain(self, text: str) -> str:
        return self._get(text)[1]


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode  # made once: see data.py


def json_script(value: object) -> Markup:
    """JSON safe to place inside <script>: no '<', '>' or '&' survive unescaped."""
    text = _JSON(value)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


_MARKUP = str.__new__

#: The name under which a list page's render holds its rows (see ``Renderer.render_rows``).
_ROWS = "_dossier_rows"


class _Rows:
    """The rows a list page asked for, each standing in the page as a mark until made."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, tuple[object, ...]]] = []
        self.mark = f"\0{secrets.token_hex(8)}:"  # card text cannot hold it: nothing collides

    def add(self, macro: str, view: Any, args: tuple[object, ...]) -> Markup:
        self.calls.append((macro, view, args))
        # (``str.__new__``: ``Markup()`` is Python, and a list page asks 10,000 times)
        return _MARKUP(Markup, f"{self.mark}{len(self.calls) - 1}\0")


@jinja2.pass_context
def _row(context: jinja2.runtime.Context, view: Any, macro: str, *args: object) -> Markup:
    rows = context.get(_ROWS)
    if not isinstance(rows, _Rows):
        raise jinja2.TemplateRuntimeError("the row filter is for the pages that list facts")
    return rows.add(macro, unwatched(view), args)


#: What a row of a list page sees besides its view and arguments and the links (``page``,
#: ``root``, ``url``): what the key of a fact's page is made of, too.
ROW_CONTEXT = ("dossier", "lang", "built")


class _Compiled(jinja2.BytecodeCache):
    """Compiled templates kept in a dict (the cache keeps it between runs): Jinja checks
    each against its template's source, so an edited template is compiled again."""

    def __init__(self, store: dict[str, bytes]) -> None:
        self.store = store

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


def _autoescape() -> Callable[[object], Markup]:
    """``markupsafe.escape``, made faster for the values templates print most: what a
    template calls for every ``{{ value }}`` (about a hundred times a fact page).
    MarkupSafe 3's ``escape`` is Python that calls ``Markup()``, Python too; for a ``str``
    this makes the Markup from the escaped text directly (0.3 µs a value against 0.6 to
    1.2 here); Markup (a filter's HTML) is given back as it is, where ``escape`` makes a
    copy, and an ``int`` (a count) is its digits, which need no escaping (each 0.5 µs in
    ``escape``: 315,000 of them in a build of 10,000 cards). Anything else goes to
    ``markupsafe.escape``. Under MarkupSafe 2, whose ``escape`` is C, that is used as it
    is."""
    inner: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
    if inner is None:
        return escape
    make = str.__new__
    digits = int.__repr__  # (an int subclass's own __str__ or __repr__ is not asked)

    def autoescape(value: object) -> Markup:
        if type(value) is str:
            return make(Markup, inner(value))
        if type(value) is Markup:
            return value
        if type(value) is int:
            return make(Markup, digits(value))
        return escape(value)

    return autoescape


AUTOESCAPE = _autoescape()


class _Template(jinja2.Template):
    """A template whose output calls ``AUTOESCAPE`` for ``escape``: the name its compiled
    code looks up in its own module's namespace (which its blocks and macros share)."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: Any,
        globals: Any,
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = AUTOESCAPE
        return template


class _Loader(jinja2.FileSystemLoader):
    """Jinja's loader, a template that is not UTF-8 text reported as a template error with
    its file and line (the theme's fault, not dossier's)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            data = exc.object if isinstance(exc.object, bytes) else b""
            line = data[: exc.start].count(b"\n") + 1
            where = self._file_of(template)
            message = f"the template is not UTF-8 text (byte {exc.start + 1})"
            raise jinja2.TemplateSyntaxError(message, line, template, where) from None

    def _file_of(self, template: str) -> str:
        pieces = jinja2.loaders.split_template_path(template)
        for folder in self.searchpath:
            path = os.path.join(folder, *pieces)
            if os.path.isfile(path):
                return os.path.normpath(path)
        return template


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, each output tag's run of text and values (the text between
    two statement tags) given out by one ``yield`` of them joined, not one ``yield`` each:
    a value yielded inside a block of a template that extends another passes through a
    generator for each level (a fact page: 200 values, three levels)."""

    def visit_Output(self, node: jinja2.nodes.Output, frame: jinja2.compiler.Frame) -> None:
        if frame.buffer is not None or frame.require_output_check or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        buffered = frame.copy()
        buffered.buffer = self.temporary_identifier()
        self.writeline(f"{buffered.buffer} = []")
        super().visit_Output(node, buffered)
        self.writeline(f"yield concat({buffered.buffer})")


class _Environment(jinja2.Environment):
    """Jinja's environment, a template Jinja fails on in other ways than a syntax error
    while compiling it (nesting past Python's recursion limit, an integer past Python's
    digits limit) reported as a template error, with its file."""

    code_generator_class = _CodeGenerator

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().compile(*args, **kwargs)
        except (ValueError, RecursionError) as exc:
            name = args[1] if len(args) > 1 else kwargs.get("name")
            filename = args[2] if len(args) > 2 else kwargs.get("filename")
            message = f"the template cannot be compiled: {type(exc).__name__}: {exc}"
            raise jinja2.TemplateSyntaxError(message, 1, name, filename) from None


class TemplateRenderError(jinja2.TemplateSyntaxError):
    """A template failed while it rendered a page, with Python's own error (a division by
    zero, a bad format, a macro calling itself for ever): the theme's error, with its file
    and line where Jinja knows them. (A kind of Jinja's syntax error only so that it
    carries them, across processes too.)"""


@contextlib.contextmanager
def _theme_errors(template: str) -> Iterator[None]:
    try:
        yield
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound):
        raise  # (located already, or naming what is missing)
    except Exception as exc:  # an undefined name too: located in the template it failed in
        where, line = template, 1
        tb = exc.__traceback__
        while tb is not None:  # the innermost frame of a template (Jinja names them so)
            name = tb.tb_frame.f_code.co_filename
            if name.endswith((".html", ".htm", ".xml", ".txt")):
                where, line = name, tb.tb_lineno
            tb = tb.tb_next
        message = f"{type(exc).__name__}: {exc} (while rendering {template})"
        raise TemplateRenderError(message, line, template, where) from None


class Renderer:
    def __init__(
        self, dirs: list[Path], claims: Claims | None = None, compiled: dict[str, bytes] | None = None
    ) -> None:
        """``compiled``: templates compiled by earlier runs, by Jinja's key (gets this
        run's)."""
        self.markdown = Markdown()
        self.claims = ClaimText(self.markdown, claims)
        self.watch = Watch()  # (list pages render one at a time in each process)
        self.env = _Environment(
            bytecode_cache=_Compiled(compiled) if compiled is not None else None,
            loader=_Loader([str(d) for d in dirs]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # compiled once per build; serve makes a new Renderer per build
        )
        self.env.template_class = _Template
        self.env.filters["md"] = self.markdown.block
        self.env.filters["mdi"] = self.claims.html
        self.env.filters["mdi_in_link"] = self.claims.html_in_link
        self.env.filters["plain"] = self.claims.plain
        self.env.filters["json_script"] = json_script
        self.env.filters["percent"] = lambda x: f"{x * 100:.0f}%"
        self.env.filters["row"] = _row
        self.env.filters["lang_tag"] = lang_tag

    def compile_all(self) -> None:
        """Compile every template of the theme now: in the process that keeps what was
        compiled (the cache stores it), before rendering forks. A template first compiled
        in a rendering child would be lost with it, and compiled again by every update
        (four of them: 0.08 s an update at 10,000 cards)."""
        for name in self.env.list_templates(extensions=["html"]):
            try:
                self.env.get_template(name)
            except jinja2.TemplateError:  # reported by the page that uses it, if any does
                continue  # (every way a template fails to compile is one: see _Environment)
            except UnicodeEncodeError:  # a file name that is not UTF-8: no page can name it
                continue

    def render(self, template: str, page: str, *, absolute: str | None = None, **context: Any) -> bytes:
        """Render one page; links are relative to it, or absolute under ``absolute``."""
        with _theme_errors(template):
            html = self.env.get_template(template).render(**_links(page, absolute), **context)
        return html.encode("utf-8")

    def render_rows(
        self, template: str, page: str, key: Callable[[Any], str], old: Old | None = None, **context: Any
    ) -> tuple[Assembly, Skeleton | None]:
        """Render a page that lists facts, each row a piece (see ``pieces``); and, when
        it can be spliced later, its skeleton (see ``splice``).

        The template writes ``view | row(macro, *args)``, naming a macro of ``_macros.html``
        (a filter: a Jinja call of a function costs three times as much); a row is rendered
        only when ``old`` (this page as the previous build wrote it) does not
        hold it under the same key (``key(view)``, of the kind the macro and its arguments
        make). A row sees only ``ROW_CONTEXT`` and the links, not the page's ``site``.
        """
        links = _links(page, None)
        rows = _Rows()
        lists = context.get("site")
        watch = self.watch
        watch.start()
        seen = {**context, "site": watch.lists(lists)} if isinstance(lists, Lists) else context
        with _theme_errors(template):
            html = self.env.get_template(template).render(**links, **{_ROWS: rows}, **seen)
        calls, mark = rows.calls, rows.mark
        make_row = self.row_maker(page, context)
        made: dict[tuple[str, str], bytes] = {}  # a row twice on one page is made once

        def make(kind: str, k: str, macro: str, view: Any, args: tuple[object, ...]) -> bytes:
            done = made.get((kind, k))
            if done is None:
                done = made[kind, k] = make_row((macro, args), view)
            return done

        asm = Assembly(old)
        recorder = Recorder()
        for i, chunk in enumerate(re.split(re.escape(mark) + r"(\d+)\0", html)):
            if i % 2 == 0:
                asm.text(chunk.encode("utf-8"))
                continue
            macro, view, args = calls[int(chunk)]
            kind, k = f"{macro}{args!r}" if args else macro + "()", key(view)
            start = asm.size
            if not asm.taken(k, kind):
                asm.made(k, make(kind, k, macro, view, args), kind)
            recorder.row(macro, args, view.id, start, asm.size - start)
        skeleton = recorder.skeleton(watch, lists, asm.size) if isinstance(lists, Lists) else None
        return asm, skeleton

    def row_maker(self, page: str, context: dict[str, Any]) -> Callable[[Kind, Any], bytes]:
        """What makes one row of ``page``: (its macro and arguments, its view) -> its bytes."""
        # A row sees what its key is made of (the page's own inputs), and nothing of the
        # page's site-wide lists: a row that tried would be kept stale, so it is an error.
        links = _links(page, None)
        keyed = {k: context[k] for k in ROW_CONTEXT if k in context}
        macros = self.env.get_template("_macros.html").make_module({**keyed, **links})

        def make(kind: Kind, view: Any) -> bytes:
            macro, args = kind
            with _theme_errors("_macros.html"):
                return str(getattr(macros, macro)(view, *args)).encode("utf-8")

        return make


def _links(page: str, absolute: str | None) -> dict[str, Any]:
    """What a template links with: ``root`` (what every link within the site starts with:
    "../" from a page in a folder, or an absolute address) and ``url(target)``, the same as
    a function (the shipped templates write ``{{ root }}target``: a call costs a page a
    third of its time)."""
    root = absolute.rstrip("/") + "/" if absolute is not None else "../" * page.count("/")
    url: Callable[[str], str] = lambda target: root + target  # noqa: E731
    return {"page": page, "root": root, "url": url}


#: A language tag as sources give them: an ISO 639 code of two or three letters, then
#: subtags (``en``, ``pt-BR``, ``zh-Hant``).
_LANG_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def lang_tag(language: str | None) -> str:
    """A source's ``language`` where it is a language tag, for ``lang`` attributes; "" for
    anything else (a name, ``English``, is no tag a browser reads)."""
    return language if language is not None and _LANG_TAG.fullmatch(language) else ""
