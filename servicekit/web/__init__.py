"""The pages' shared web layer: templates, language, CSRF, flash messages, static files.

The three services serve people as well as machines (a registrar, a learner on a phone,
an HR officer), and every page must get the same few things right. Writing them once here
means no service can forget one. One module per concern:

* :mod:`.i18n` – Dutch (default, the demo is Dutch) and English from a catalogue per
  language; the choice lives in a cookie shared by all services and a switch link;
* :mod:`.signing` – the per-deployment secret (``MICROCRED_WEB_SECRET`` or a generated
  file in the data directory) and the HMAC signatures made with it;
* :mod:`.cookies` – cookie flags, and the settings and secret every other part needs;
* :mod:`.csrf` – a signed double-submit token bound to the visitor's session;
* :mod:`.sealing` – encrypted, expiring cookie values for sessions without a table;
* :mod:`.flash` – message keys carried in a signed cookie across a form's redirect;
* :mod:`.routing` – page routes answer with an HTML page, not problem JSON, on errors;
* :mod:`.toolkit` – :class:`Web`, which assembles the above: escaping (autoescape always
  on), rendering, redirects, error pages and the static files;
* :mod:`.formatting`, :mod:`.report_view`, :mod:`.fields` – dates, numbers, verification
  reports and micro-credential elements as pages show them.

Everything public is re-exported here, so callers import from ``servicekit.web``; the names
imported ``as`` themselves were public before the split without being in ``__all__``.
"""

from __future__ import annotations

from .csrf import CSRF_FIELD
from .csrf import UNSAFE_METHODS as UNSAFE_METHODS
from .fields import FieldRow, level_text, microcredential_rows
from .flash import Flash
from .formatting import format_date, format_number, format_text
from .i18n import (
    DEFAULT_LANGUAGE,
    KIT_MESSAGES,
    LANG_COOKIE,
    LANGUAGES,
    Translator,
    load_messages,
    merge_messages,
)
from .i18n import KIT_DIR as KIT_DIR
from .i18n import Messages as Messages
from .report_view import CheckRow, ReportView, report_state, report_view
from .routing import LoginRequired, PageError
from .signing import SECRET_ENV as SECRET_ENV
from .signing import deployment_secret
from .toolkit import KIT_STATIC as KIT_STATIC
from .toolkit import KIT_TEMPLATES as KIT_TEMPLATES
from .toolkit import NavItem, Web, safe_next
from .toolkit import active_nav as active_nav

__all__ = [
    "CSRF_FIELD",
    "DEFAULT_LANGUAGE",
    "KIT_MESSAGES",
    "LANGUAGES",
    "LANG_COOKIE",
    "CheckRow",
    "FieldRow",
    "Flash",
    "LoginRequired",
    "NavItem",
    "PageError",
    "ReportView",
    "Translator",
    "Web",
    "deployment_secret",
    "format_date",
    "format_number",
    "format_text",
    "level_text",
    "load_messages",
    "merge_messages",
    "microcredential_rows",
    "report_state",
    "report_view",
    "safe_next",
]
