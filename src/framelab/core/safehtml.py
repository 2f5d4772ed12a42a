"""Untrusted HTML never runs: what a trainee wrote or their code printed, made safe to show.

A graded notebook is the trainee's: its markdown (raw HTML, event handlers, ``javascript:`` links),
its outputs (``text/html`` with scripts and handlers, ``application/javascript``, SVG with scripts),
its attachments and its raw cells are all theirs, and formgrader, the feedback page and the cohort
report are read by people with more rights than the trainee. Everything here is a plain function
over notebook data; :class:`framelab.grading.preprocessors.SanitizeUntrusted` runs
:func:`clean_notebook` at autograde time and again before every view.

The HTML is cleaned by ``nh3`` (the ammonia sanitiser) against an allow-list that keeps what the
course's own outputs need (formgrader's item tables, the views' cards and notes: tables, text
formatting, ``class``, ``role``, ``aria-*`` and a few layout ``style`` properties) and nothing that
can run: no ``<script>``, ``<style>``, ``<iframe>``, ``<svg>``, ``<form>``, no ``on*`` attribute, no
link but ``http``, ``https``, ``mailto`` or a ``#`` anchor, no image but an inline picture. A trainee's
markdown without raw HTML or a risky link is left exactly as written; one with them is replaced by
its rendering, cleaned. Text with a TeX macro that MathJax turns into a link or markup
(``\\href``, ``\\class``, ...) is shown as plain text, where MathJax never looks.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from typing import Any

import nh3


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TAGS = _words(
    "a abbr b blockquote br caption code col colgroup dd del details div dl dt em figcaption figure h1 h2 "
    "h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s small span strong sub summary sup table tbody td "
    "tfoot th thead tr u ul"
)
ATTRIBUTES = {
    "*": {"class", "title", "lang", "dir", "role", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
#: layout and colour only: nothing that loads a URL (no ``background``, ``content``, ``*-image``)
STYLE_PROPERTIES = _words(
    "color background-color border border-top border-bottom border-left border-right border-collapse "
    "border-color border-style border-width font-size font-style font-weight line-height margin "
    "margin-left margin-top margin-bottom padding padding-left padding-right padding-top padding-bottom "
    "table-layout text-align vertical-align white-space width max-width"
)
#: pictures that may be shown inline (an SVG only ever as an ``<img>``, where its scripts never run)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
LINK = re.compile(r"^(?:https?://|mailto:|#)", re.IGNORECASE)
INLINE_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$")
#: TeX macros with which MathJax makes links, classes, styles or markup
RISKY_TEX = re.compile(r"\\(?:href|url|class|cssId|style|html|unicode|require|data|toggle|\w*tip)\b")
#: output data shown as is (``text/html``, ``text/markdown`` and SVG are converted, the rest dropped)
PLAIN_TYPES = ("text/plain", "image/png", "image/jpeg", "image/gif")


def _attribute(tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href":
        return value if LINK.match(value.strip()) else None
    if tag == "img" and attr == "src":
        return value if INLINE_IMAGE.match(value.strip()) else None
    return value


def clean_html(text: str) -> str:
    """``text`` with everything that could run or load removed (the allow-list above)."""
    cleaned = nh3.clean(
        text,
        tags=set(TAGS),
        clean_content_tags={"script", "style", "textarea", "title", "noscript", "iframe", "object", "svg", "math"},
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=_attribute,
        generic_attribute_prefixes={"aria-"},
        url_schemes={"http", "https", "mailto", "data"},
        filter_style_properties=set(STYLE_PROPERTIES),
        link_rel="noopener noreferrer nofollow",
    )
    return as_text(text) if RISKY_TEX.search(PRE.sub("", cleaned)) else cleaned


PRE = re.compile(r"<(pre|code)>.*?</\1>", re.DOTALL)
#: a markdown cell that had to be cleaned becomes one line of HTML: markdown reads it as one raw block
SAFE_BLOCK = '<div class="framelab-safe">{}</div>'


def as_text(text: str) -> str:
    """``text`` shown exactly, as plain text (MathJax and the browser read nothing in a ``<pre>``)."""
    return f"<pre>{html.escape(text, quote=False)}</pre>"


def safe_block(cleaned: str) -> str:
    """Cleaned HTML as a markdown cell's source: one line, so markdown never reads any of it as markdown."""
    return SAFE_BLOCK.format(cleaned).replace("\n", "&#10;")


def is_safe_block(source: str) -> bool:
    """Whether a markdown cell's source is already what :func:`safe_block` makes (cleaning changes nothing)."""
    text = source.strip()
    return text.startswith(SAFE_BLOCK[:27]) and "\n" not in text and clean_html(text).replace("\n", "&#10;") == text


def is_base64(data: Any) -> bool:
    """Whether ``data`` (a string, or the list of lines a notebook file may store) is base64 and nothing else."""
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        data = "".join(data)
    if not isinstance(data, str):
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def svg_as_image(svg: str) -> str:
    """An SVG drawn as a picture: inside ``<img>`` a browser runs none of its scripts or links."""
    data = base64.b64encode(svg.encode("utf-8", "replace")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="a drawing">'


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


# --------------------------------------------------------------------------- markdown


def _parse(source: str) -> list[dict[str, Any]]:
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    return MarkdownWithMath(renderer=None)(source)  # type: ignore[arg-type]


def _safe_link(url: str) -> bool:
    """A web, mail or in-page link, or a relative one (no scheme, once entities and blanks are undone)."""
    plain = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(url))
    return bool(LINK.match(plain)) or ":" not in plain.split("/")[0].split("?")[0].split("#")[0]


def _risks(tokens: list[dict[str, Any]], attachments: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for token in tokens:
        kind, url = token.get("type"), (token.get("attrs") or {}).get("url", "")
        if kind in ("block_html", "inline_html"):
            found.append("raw HTML")
        elif kind == "link" and not _safe_link(url):
            found.append("a link that is not to a web page")
        elif kind == "image" and url.startswith("attachment:") and url[len("attachment:") :] not in attachments:
            found.append("a missing attachment")
        elif kind == "image" and not url.startswith("attachment:") and not INLINE_IMAGE.match(url):
            found.append("an outside image")
        found += _risks(token.get("children") or [], attachments)
    return found


def markdown_risks(source: str, attachments: dict[str, Any] | None = None) -> list[str]:
    """What in a markdown text could run or load in a page (nothing: ``[]``)."""
    if is_safe_block(source):
        return []
    found = ["a TeX link or markup macro"] if RISKY_TEX.search(source) else []
    try:
        return found + _risks(_parse(source), attachments or {})
    except Exception:  # a text the parser cannot read is shown as text
        return [*found, "markdown the parser cannot read"]


def render_markdown(source: str, attachments: dict[str, Any] | None = None) -> str:
    """The markdown as the page would draw it (attachments inlined), cleaned."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    if RISKY_TEX.search(source):
        return as_text(source)
    try:
        rendered = MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=attachments or {})).render(
            source
        )
    except Exception:  # a missing attachment, or text the parser cannot read
        return as_text(source)
    return clean_html(rendered)


def clean_attachments(attachments: Any) -> tuple[dict[str, Any], list[str]]:
    """Only pictures, with real base64 data, kept; what was dropped, named."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, bundle in (attachments or {}).items() if isinstance(attachments, dict) else []:
        good = {m: d for m, d in (bundle or {}).items() if m in IMAGE_TYPES and is_base64(d)}
        if good and isinstance(name, str) and "/" not in name:
            kept[name] = good
        if not good or len(good) < len(bundle or {}):
            dropped.append(f"attachment {str(name)[:40]!r}")
    return kept, dropped


# --------------------------------------------------------------------------- outputs and cells

REMOVED = "(An output was removed here: it could have run code in this page. {kind})"


def clean_output(output: dict[str, Any]) -> list[str]:
    """Make one output safe in place; returns what was removed or converted (nothing: ``[]``)."""
    meta = output.get("metadata") or {}
    mark = meta.get("framelab") if isinstance(meta, dict) else None
    found = [] if not meta or set(meta) <= {"framelab"} else ["output metadata"]
    output["metadata"] = {"framelab": mark} if isinstance(mark, str) else {}
    data = output.get("data")
    if not isinstance(data, dict):
        return found
    kept: dict[str, Any] = {m: d for m, d in data.items() if m in PLAIN_TYPES and (m == "text/plain" or is_base64(d))}
    if "text/plain" in kept:
        kept["text/plain"] = _text(kept["text/plain"])
    if "text/html" in data:
        kept["text/html"] = clean_html(_text(data["text/html"]))
        found += ["HTML"] if kept["text/html"] != _text(data["text/html"]) else []
    elif "text/markdown" in data:
        kept["text/html"] = render_markdown(_text(data["text/markdown"]))
    elif isinstance(data.get("image/svg+xml"), str | list):
        kept["text/html"] = svg_as_image(_text(data["image/svg+xml"]))
    gone = sorted(set(data) - set(kept) - {"text/markdown", "image/svg+xml"})
    found += gone
    if not kept:
        kept["text/plain"] = REMOVED.format(kind=", ".join(gone))
    output["data"] = kept
    return found


def _clean_markdown_cell(cell: dict[str, Any]) -> list[str]:
    attachments, found = clean_attachments(cell.get("attachments"))
    if "attachments" in cell:
        cell["attachments"] = attachments
    source = _text(cell.get("source", ""))
    risks = markdown_risks(source, attachments)
    if risks:
        cell["source"] = safe_block(render_markdown(source, attachments))
    return found + risks


def _clean_metadata(cell: dict[str, Any]) -> list[str]:
    """Cell tags and nbgrader ids are written into the page's markup: only plain names are kept."""
    meta = cell.get("metadata") or {}
    found = []
    tags = meta.get("tags")
    if tags is not None:
        listed = tags if isinstance(tags, list) else []
        plain = [t for t in listed if isinstance(t, str) and re.fullmatch(r"[\w-]{1,64}", t)]
        found += ["cell tags"] if plain != tags else []
        meta["tags"] = plain
    grader = meta.get("nbgrader")
    if grader is not None and not (
        isinstance(grader, dict) and re.fullmatch(r"[\w-]{1,128}", str(grader.get("grade_id", "x")))
    ):
        meta.pop("nbgrader")
        found.append("nbgrader metadata with an odd grade id")
    return found


def clean_cell(cell: dict[str, Any]) -> list[str]:
    """Make one cell safe to show, in place; returns what was removed or converted."""
    found = _clean_metadata(cell)
    kind = cell.get("cell_type")
    if kind == "markdown":
        found += _clean_markdown_cell(cell)
    elif kind == "raw":
        meta = cell.get("metadata") or {}
        for key in ("format", "raw_mimetype"):
            if key in meta:
                meta.pop(key)
                found.append("a raw cell's format")
        found += [f"attachment {n!r}" for n in cell.pop("attachments", None) or {}]
    elif kind == "code":
        for output in cell.get("outputs", []):
            found += clean_output(output)
    return found


def clean_notebook(nb: dict[str, Any]) -> list[str]:
    """Make every cell safe to show, in place; returns one short line per cell that changed."""
    lines = []
    meta = nb.get("metadata") or {}
    if isinstance(meta, dict) and meta.pop("widgets", None) is not None:
        lines.append("notebook: saved widget state removed")
    for n, cell in enumerate(nb.get("cells", []), 1):
        found = clean_cell(cell)
        if found:
            lines.append(f"cell {n} ({cell.get('cell_type')}): {', '.join(dict.fromkeys(found))}")
    return lines
