"""Sending a cohort's offer mails through the institution's SMTP server.

The mail is plain text plus an HTML part with the offer's QR code attached inline (a
``cid:`` image, not a link to the issuer), so a mail client that loads images does not
fetch anything from the issuer and a preview cannot count as "opened": only a wallet
fetching the offer does.

The words come from the console's message catalogue through the translator the caller
passes in; this module adds none of its own. With no ``smtp_host`` nothing is sent and
every delivery is marked ``smtp_unset``, which the cohort page tells the registrar.
"""

from __future__ import annotations

import io
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from ..config import Settings

Translate = Callable[..., str]
PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 20


@dataclass(frozen=True)
class OfferMail:
    """One learner's mail: where it goes and what the wallet needs."""

    to: str
    module: str
    institution: str
    offer_uri: str
    wallet_link: str | None
    pin_required: bool
    expires: str


def qr_png(data: str) -> bytes:
    """A QR code for mail and print, about 3x faster than ``servicekit.qr``: one fixed mask
    pattern instead of trying all eight (a cohort of 2,000 makes 2,000 of them). Scanners
    read any mask; the choice only avoids unlucky patterns, which the test decodes."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=6, border=4, mask_pattern=0)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


def message(settings: Settings, mail: OfferMail, t: Translate) -> EmailMessage:
    """The mail for one learner, in the catalogue's words."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = mail.to
    msg["Subject"] = t("issuer.mail.subject", module=mail.module, institution=mail.institution)
    link = mail.wallet_link or mail.offer_uri
    lines = [
        t("issuer.mail.greeting"),
        "",
        t("issuer.mail.body", module=mail.module, institution=mail.institution),
        "",
        t("issuer.mail.link"),
        link,
        "",
        t("issuer.mail.expires", date=mail.expires),
    ]
    if mail.pin_required:
        lines += ["", t("issuer.mail.pin")]
    lines += ["", t("issuer.mail.not_you")]
    msg.set_content("\n".join(lines))
    cid = make_msgid(domain="microcred.invalid")
    paragraphs = "".join(
        f"<p>{escape(line)}</p>" for line in lines if line and line != link
    ).replace(
        f"<p>{escape(t('issuer.mail.link'))}</p>",
        f'<p><a href="{escape(link, quote=True)}">{escape(t("issuer.mail.open"))}</a></p>'
        f'<p><img src="cid:{cid[1:-1]}" alt="{escape(t("issuer.mail.qr_alt"), quote=True)}"'
        ' width="240" height="240"></p>',
    )
    lang = escape(str(getattr(t, "lang", "nl")))
    page = f'<!doctype html><html lang="{lang}"><body>{paragraphs}</body></html>'
    msg.add_alternative(page, subtype="html")
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(qr_png(mail.offer_uri), "image", "png", cid=cid)
    return msg


def send_all(
    settings: Settings, messages: Iterable[EmailMessage]
) -> list[tuple[EmailMessage, str | None]]:
    """Send over one connection; per message ``None`` (sent) or an error code.

    A connection that cannot be opened fails every message with ``smtp_failed`` instead of
    raising: the offers exist already and the registrar can re-send or use the list.
    """
    pending = list(messages)
    if not configured(settings):
        return [(msg, "smtp_unset") for msg in pending]
    if not pending:
        return []
    security = settings.smtp_security
    port = settings.smtp_port or PORTS[security]
    results: list[tuple[EmailMessage, str | None]] = []
    try:
        context = ssl.create_default_context()
        server: smtplib.SMTP
        if security == "ssl":
            server = smtplib.SMTP_SSL(settings.smtp_host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(settings.smtp_host, port, timeout=TIMEOUT)
        with server:
            if security == "starttls":
                server.starttls(context=context)
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password)
            for msg in pending:
                try:
                    server.send_message(msg)
                    results.append((msg, None))
                except smtplib.SMTPException:
                    results.append((msg, "smtp_failed"))
    except (OSError, smtplib.SMTPException):
        done = {id(msg) for msg, _ in results}
        results += [(msg, "smtp_failed") for msg in pending if id(msg) not in done]
    return results
