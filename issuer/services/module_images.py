"""Badge images for modules (OB 3.0 achievement ``image``): uploaded by the registrar,
checked by content, re-encoded, served from the issuer, named in every credential issued
afterwards.

Safety, since the image is shown by wallets and verifiers of other parties:

* only PNG and JPEG, recognised by their content (Pillow opens the bytes; the file name and
  the browser's content type are ignored). SVG is refused: it is a document that can carry
  script and external references, and sanitising it reliably is not worth the risk for a
  badge;
* at most ``MAX_BYTES`` uploaded and ``MAX_PIXELS`` decoded (a small file can expand into
  a huge bitmap), at least ``MIN_SIDE`` pixels per side;
* the pixels are re-encoded as a fresh PNG of at most ``MAX_SIDE`` pixels per side, so no
  metadata, no trailing bytes and no polyglot content of the upload survive;
* served as ``image/png`` with ``nosniff`` and a CSP that allows nothing (the route).

The image's URL carries a digest (``?v=``), so a changed image is a new URL and credentials
issued earlier keep pointing at the image they were issued with until it is replaced.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, fields
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlmodel import col, select

from credentials import ModuleDefinition
from servicekit.errors import Invalid, NotFound, TooLarge, Unprocessable

from ..models import Institution, ModuleImage
from ..models import Module as ModuleRow
from . import audit, urls
from .context import IssuerContext

MAX_BYTES = 1024 * 1024
MAX_PIXELS = 4096 * 4096
MIN_SIDE = 32
MAX_SIDE = 512
FORMATS = ("PNG", "JPEG")


@dataclass(frozen=True)
class ImagedModule(ModuleDefinition):
    """A module definition whose achievement carries the badge image."""

    image: str | None = None

    def achievement(self) -> dict[str, Any]:
        out = super().achievement()
        if self.image:
            out["image"] = {"id": self.image, "type": "Image"}
        return out


def with_image(definition: ModuleDefinition, image: Any) -> ModuleDefinition:
    """``definition`` with the stored image URL, if the module has one."""
    if not isinstance(image, str) or not image:
        return definition
    values = {f.name: getattr(definition, f.name) for f in fields(definition) if f.init}
    return ImagedModule(**values, image=image)


def reencode(data: bytes) -> bytes:
    """A clean PNG from an uploaded PNG or JPEG, or the reason (a code) it is refused."""
    if len(data) > MAX_BYTES:
        raise TooLarge("image_too_large", f"at most {MAX_BYTES} bytes", limit=MAX_BYTES)
    if not data:
        raise Invalid("image_missing", "no image was sent")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in FORMATS:
                    raise Unprocessable("image_type", "only PNG and JPEG images", format=kind)
                if width * height > MAX_PIXELS:
                    raise Unprocessable("image_dimensions", "the image has too many pixels")
                if min(width, height) < MIN_SIDE:
                    raise Unprocessable("image_dimensions", f"at least {MIN_SIDE} pixels a side")
                probe.load()
                image = probe.convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise Unprocessable("image_type", "only PNG and JPEG images") from None
    except (OSError, ValueError, SyntaxError):
        raise Unprocessable("image_unreadable", "the image cannot be decoded") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def image_url(ctx: IssuerContext, institution: Institution, slug: str, digest: str) -> str:
    base = urls.module_url(ctx.settings.public_url, institution.slug, slug)
    return f"{base}/image.png?v={digest[:16]}"


def store(
    ctx: IssuerContext, institution: Institution, slug: str, data: bytes, *, actor: str
) -> str:
    """Check, re-encode and keep a module's image; its URL (now in the module definition,
    so credentials issued from now on name it)."""
    png = reencode(data)
    digest = hashlib.sha256(png).hexdigest()
    url = image_url(ctx, institution, slug, digest)
    now = ctx.now()
    with ctx.db.session() as session:
        module = _module(session, institution, slug)
        assert module.id is not None
        row = session.get(ModuleImage, module.id) or ModuleImage(
            module_id=module.id, media_type="image/png", data=b"", digest="", updated_at=now
        )
        row.data, row.digest, row.updated_at, row.media_type = png, digest, now, "image/png"
        session.add(row)
        module.definition = {**module.definition, "image": url}
        session.add(module)
        audit.record(
            session, institution.id, actor, "module.image", now,
            details={"module": slug, "digest": digest, "bytes": len(png)},
        )  # fmt: skip
    return url


def load(ctx: IssuerContext, institution: Institution, slug: str) -> ModuleImage:
    with ctx.db.session() as session:
        module = _module(session, institution, slug)
        row = session.get(ModuleImage, module.id)
    if row is None:
        raise NotFound("unknown_image", f"module {slug!r} has no image")
    return row


def paths_for(ctx: IssuerContext, institution: Institution, slugs: list[str]) -> dict[str, str]:
    """The image path (same origin as the pages) of each of these modules that has one."""
    with ctx.db.session() as session:
        rows = session.exec(
            select(ModuleRow.slug, ModuleImage.digest)
            .join(ModuleImage, col(ModuleImage.module_id) == col(ModuleRow.id))
            .where(ModuleRow.institution_id == institution.id, col(ModuleRow.slug).in_(slugs))
        ).all()
    public = ctx.settings.public_url
    return {
        slug: image_url(ctx, institution, slug, digest).removeprefix(public)
        for slug, digest in rows
    }


def _module(session: Any, institution: Institution, slug: str) -> ModuleRow:
    module = session.exec(
        select(ModuleRow).where(ModuleRow.institution_id == institution.id, ModuleRow.slug == slug)
    ).first()
    if module is None:
        raise NotFound("unknown_module", f"there is no module {slug!r}")
    return module
