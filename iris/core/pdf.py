"""PDF documents: a Jinja template in ``templates/pdf/``, a plain-dict context, WeasyPrint.

Rules (STYLE.md section 5):

* The context is plain data (str, int, dates, lists, dicts): never ORM objects, so a
  template cannot lazy-load anything and a document can be re-rendered from a snapshot.
  Templates run with ``StrictUndefined``: a missing value fails the render instead of
  printing an empty line on a certificate.
* Resources come only from the package, through :class:`AssetFetcher`:
  ``iris-asset:fonts/<file>`` (``iris/assets/fonts/``), ``iris-asset:pdf/<file>``
  (``templates/pdf/``), ``iris-asset:gen/<name>`` (artwork a feature draws in code and
  registers with :func:`register_generated`) and ``data:image/...`` URIs (QR codes).
  Any other URL — http(s),
  ``file://``, a path escaping those folders — fails the render with :class:`PdfError`:
  no network access and no local file reads, whatever ends up in a template.
* Fonts ship with the package (Noto Sans, covering Polish, Ukrainian and Russian; see
  ``iris/assets/fonts/build_fonts.py``), so a PDF looks the same on every machine.
* One :class:`~weasyprint.text.fonts.FontConfiguration` per process (a new one per render
  costs ~40 ms and grows memory); WeasyPrint is imported on first use (about 0.7 s), so
  render in a long-lived worker.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

if TYPE_CHECKING:  # pragma: no cover
    from weasyprint.text.fonts import FontConfiguration

__all__ = [
    "ASSET_SCHEME",
    "AssetFetcher",
    "FileAttachment",
    "PdfError",
    "render_html",
    "render_pdf",
    "render_template_pdf",
]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
ASSET_SCHEME = "iris-asset"
#: name in ``iris-asset:<name>/...`` -> folder it maps to
ASSET_ROOTS: dict[str, Path] = {
    "fonts": ROOT / "iris" / "assets" / "fonts",
    "pdf": TEMPLATES_DIR / "pdf",
}
_DATA_MEDIA = ("data:image/svg+xml", "data:image/png", "data:image/jpeg")


class PdfError(RuntimeError):
    """A document could not be rendered (a template error or a refused resource)."""


@dataclass(frozen=True)
class FileAttachment:
    """A file embedded in the PDF (shown in a reader's attachments pane)."""

    name: str
    data: bytes
    description: str = ""
    media_type: str = "application/octet-stream"


# --------------------------------------------------------------------------- fetcher


#: ``iris-asset:gen/<name>`` -> the function that produces its bytes (called once)
_generated: dict[str, Callable[[], bytes]] = {}
_generated_bytes: dict[str, bytes] = {}


def register_generated(name: str, producer: Callable[[], bytes]) -> str:
    """Serve ``producer()``'s bytes at ``iris-asset:gen/<name>``; returns that URL.

    For artwork drawn in code (the certificate's frame, guilloché, seal): a short URL keeps
    the HTML small, and the parsed image is shared by every render (see ``_shared_images``).
    The bytes must be the same for the life of the process.
    """
    _generated[name] = producer
    return f"{ASSET_SCHEME}:gen/{name}"


def _generated_asset(url: str) -> bytes | None:
    name = url[len(ASSET_SCHEME) + 1 :].removeprefix("gen/")
    if name not in _generated:
        return None
    data = _generated_bytes.get(name)
    if data is None:
        data = _generated_bytes[name] = _generated[name]()
    return data


def _resolve_asset(url: str) -> Path:
    """The packaged file an ``iris-asset:`` URL names, or ``PdfError``."""
    rest = url[len(ASSET_SCHEME) + 1 :].split("?", 1)[0].split("#", 1)[0].lstrip("/")
    root_name, _, relative = rest.partition("/")
    root = ASSET_ROOTS.get(root_name)
    if root is None or not relative:
        raise PdfError(f"refused resource {url!r}: unknown asset folder")
    root = root.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise PdfError(f"refused resource {url!r}: not a packaged asset")
    return target


def _import_weasyprint() -> None:
    """Import WeasyPrint once, silencing its notice that a future version will need the
    HarfBuzz-subset system library (this version works without it, subsetting with
    fontTools; installing ``libharfbuzz-subset0`` makes subsetting faster)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        import weasyprint  # noqa: F401
    if not any(isinstance(f, _QuietSubsetNotice) for f in logging.getLogger("weasyprint").filters):
        logging.getLogger("weasyprint").addFilter(_QuietSubsetNotice())


class _QuietSubsetNotice(logging.Filter):
    """Drops WeasyPrint's per-render warning that fontTools subsets fonts (said once above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset")


def _fetcher_class() -> type:
    _import_weasyprint()
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class _AssetFetcher(URLFetcher):
        """Serves ``iris-asset:`` and image ``data:`` URLs; refuses everything else."""

        def __init__(self) -> None:
            # fail_on_errors: a refused or missing resource stops the render.
            super().__init__(fail_on_errors=True)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(f"{ASSET_SCHEME}:gen/"):
                data = _generated_asset(url)
                if data is None:
                    raise FatalURLFetchingError(f"refused resource {url!r}: not registered")
                media_type = mimetypes.guess_type(url)[0] or "application/octet-stream"
                return URLFetcherResponse(url, data, {"Content-Type": media_type})
            if url.startswith(ASSET_SCHEME + ":"):
                try:
                    path = _resolve_asset(url)
                except PdfError as exc:
                    raise FatalURLFetchingError(str(exc)) from None
                media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if path.suffix in {".ttf", ".otf"}:
                    media_type = "font/" + path.suffix[1:]
                return URLFetcherResponse(url, _read_cached(path), {"Content-Type": media_type})
            if url.startswith(_DATA_MEDIA):
                return super().fetch(url, headers)
            raise FatalURLFetchingError(
                f"refused resource {url[:80]!r}: PDFs may load only packaged assets"
            )

    return _AssetFetcher


_asset_cache: dict[Path, bytes] = {}


def _read_cached(path: Path) -> bytes:
    data = _asset_cache.get(path)
    if data is None:
        data = path.read_bytes()
        _asset_cache[path] = data
    return data


def AssetFetcher() -> Any:
    """A fresh restricted URL fetcher (WeasyPrint fetchers hold per-request state)."""
    return _fetcher_class()()


# --------------------------------------------------------------------------- templates

_env_lock = threading.Lock()
_env: jinja2.Environment | None = None


def _gettext(message: str, **variables: Any) -> str:
    """``_()`` inside PDF templates: Flask-Babel when an app is active, identity otherwise."""
    try:
        from flask import has_app_context
        from flask_babel import gettext

        if has_app_context():
            return str(gettext(message, **variables))
    except ImportError:  # pragma: no cover
        pass
    return message % variables if variables else message


def _environment() -> jinja2.Environment:
    global _env
    if _env is None:
        with _env_lock:
            if _env is None:
                env = jinja2.Environment(
                    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                    autoescape=True,
                    undefined=jinja2.StrictUndefined,
                    trim_blocks=True,
                    lstrip_blocks=True,
                )
                env.globals["_"] = _gettext
                _env = env
    return _env


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The HTML of ``templates/<template>`` with a plain-dict context."""
    try:
        return _environment().get_template(template).render(dict(context))
    except jinja2.TemplateError as exc:
        raise PdfError(f"template {template}: {exc}") from exc


# --------------------------------------------------------------------------- caches

_css_cache: dict[str, Any] = {}
#: Parsed images kept across renders: SVG artwork given as ``data:`` URIs and packaged or
#: registered ``iris-asset:`` images, the same bytes for every document. Keyed by URL, so the same URL
#: always means the same image; bounded, so many distinct images cannot grow the process.
_shared_images: dict[str, Any] = {}
_SHARED_IMAGES_MAX = 64
_SHAREABLE = ("data:image/svg+xml", ASSET_SCHEME + ":")


def _stylesheet(name: str) -> Any:
    """``templates/pdf/<name>`` parsed once per process (a packaged, fixed file).

    Parsing the certificate's stylesheet, with its ``@font-face`` rules, on every render
    cost more than laying out a short page; a stylesheet given here replaces a ``<link>``
    in the template.
    """
    css = _css_cache.get(name)
    if css is None:
        from weasyprint import CSS

        path = _resolve_asset(f"{ASSET_SCHEME}:pdf/{name}")
        css = CSS(
            string=_read_cached(path).decode("utf-8"),
            base_url=f"{ASSET_SCHEME}:pdf/",
            url_fetcher=AssetFetcher(),
            font_config=font_configuration(),
        )
        _css_cache[name] = css
    return css


def _image_cache() -> dict[str, Any]:
    """A per-render image cache that starts with the images shared across renders."""
    return dict(_shared_images)


def _keep_shared_images(cache: dict[str, Any]) -> None:
    from weasyprint.images import SVGImage

    for url, image in cache.items():
        if (
            len(_shared_images) < _SHARED_IMAGES_MAX
            and url not in _shared_images
            and url.startswith(_SHAREABLE)
            and isinstance(image, SVGImage)
        ):
            _shared_images[url] = image


# --------------------------------------------------------------------------- rendering

_font_config: FontConfiguration | None = None
_font_lock = threading.Lock()
# WeasyPrint's layout is not documented as thread-safe with a shared FontConfiguration:
# renders in one process are serialised (gthread workers); processes render in parallel.
_render_lock = threading.Lock()


def font_configuration() -> FontConfiguration:
    """The process's single FontConfiguration."""
    global _font_config
    if _font_config is None:
        with _font_lock:
            if _font_config is None:
                _import_weasyprint()
                from weasyprint.text.fonts import FontConfiguration

                _font_config = FontConfiguration()
    return _font_config


def render_pdf(
    html: str,
    *,
    attachments: Iterable[FileAttachment] = (),
    stylesheets: Iterable[str] = (),
) -> bytes:
    """PDF bytes of an HTML string, resources restricted to packaged assets.

    ``stylesheets`` names files of ``templates/pdf/`` applied to the document, parsed once
    per process.
    """
    _import_weasyprint()
    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError

    fetcher = AssetFetcher()
    files = [
        Attachment(
            string=a.data,
            name=a.name,
            description=a.description or a.name,
            url_fetcher=fetcher,
            relationship="Data",
        )
        for a in attachments
    ]
    with _render_lock:
        try:
            css = [_stylesheet(name) for name in stylesheets]
            images = _image_cache()
            document = HTML(string=html, base_url=f"{ASSET_SCHEME}:pdf/", url_fetcher=fetcher)
            data = bytes(
                document.write_pdf(
                    stylesheets=css,
                    font_config=font_configuration(),
                    attachments=files,
                    pdf_identifier=None,
                    custom_metadata=False,
                    cache=images,
                )
            )
            _keep_shared_images(images)
            return data
        except FatalURLFetchingError as exc:
            cause = exc.__cause__ or exc
            raise PdfError(str(cause)) from exc


def render_template_pdf(
    template: str,
    context: Mapping[str, Any],
    *,
    attachments: Iterable[FileAttachment] = (),
    stylesheets: Iterable[str] = (),
) -> bytes:
    """Render ``templates/<template>`` with ``context`` to PDF bytes."""
    return render_pdf(
        render_html(template, context), attachments=attachments, stylesheets=stylesheets
    )
