"""Browser-test fixtures: Debian's Chromium driven by Playwright, the real services on loopback.

* ``browser`` — one headless Chromium per test process, launched from ``/usr/bin/chromium``
  (installed by ``scripts/setup`` from Debian's packages; Playwright's own browser download
  is never used) with the flags this closed network needs, and a fresh profile;
* ``new_page`` — a page in a fresh browser context (own cookies: a new visitor), with every
  console error and every CSP violation collected, so a test can assert that the pages
  never tried to run inline script;
* ``shot`` — a full-page screenshot under ``test-artifacts/browser/`` (gitignored).

When Chromium is missing the tests skip with the reason, unless ``MICROCRED_REQUIRE_INTEROP``
is set (the full test command sets it): then a missing browser is a failure, never a
silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("MICROCRED_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
README_SHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1200, "height": 860}


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: run scripts/setup (installs Debian's chromium)"
    if os.environ.get("MICROCRED_REQUIRE_INTEROP") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageProblems:
    """What a page did wrong in the browser: console errors, CSP reports, page errors."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.console_errors if "Content Security Policy" in e]

    def assert_clean(self) -> None:
        assert not self.csp_violations, self.csp_violations
        assert not self.page_errors, self.page_errors


@dataclass
class Visitor:
    """One person at one browser: a context of their own and the problems it saw."""

    page: Any
    context: Any
    problems: PageProblems


@pytest.fixture
def new_visitor(browser: Any) -> Iterator[Callable[..., Visitor]]:
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, locale: str = "nl-NL") -> Visitor:
        context = browser.new_context(viewport=viewport or LAPTOP, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        problems = PageProblems()
        page.on(
            "console",
            lambda message: (
                problems.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
        return Visitor(page=page, context=context, problems=problems)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``shot(page, "03-wallet-credentials")`` saves test-artifacts/browser/<test>/03-….png."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    if folder.exists():
        shutil.rmtree(folder)

    def take(page: Any, name: str, *, readme: str | None = None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if readme:
            publish_readme_screenshot(path, readme)
        return path

    return take


@dataclass
class Stack:
    """The three services running on loopback, seeded like the demo."""

    issuer: str
    wallet: str
    verifier: str
    state: Any  # microcred.demo.DemoState: tokens, learner password, DIDs
    config: Any  # microcred.demo.DemoConfig

    def token(self, slug: str) -> str:
        return self.state.institutions[slug].token


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Issuer, wallet and verifier as real servers (uvicorn) on free loopback ports.

    Seeded by the demo's own ``prepare`` (institutions, modules, route, learner, trust
    registry), on SQLite or, under ``MICROCRED_TEST_DB=postgresql``, on three fresh
    PostgreSQL databases. Each service is built by its ``create_app`` exactly as
    ``microcred serve`` builds it, in dev mode (http on localhost).
    """
    import importlib
    from contextlib import ExitStack

    from microcred.demo import SERVICES, DemoConfig, prepare
    from tests.support.databases import fresh_database
    from tests.support.servers import free_port, live_server

    _require_browser()
    root = tmp_path_factory.mktemp("stack")
    saved = {k: os.environ.get(k) for k in ("MICROCRED_WALLET_URL",)}
    with ExitStack() as stack_of_contexts:
        urls = {
            service: stack_of_contexts.enter_context(fresh_database(root, service))
            for service in SERVICES
        }
        config = DemoConfig(
            data_dir=root / "data",
            ports={service: free_port() for service in SERVICES},
            database_urls=urls,
            status_max_age=0,  # a revocation is visible to the next check, no waiting
        )
        state = prepare(config)
        os.environ["MICROCRED_WALLET_URL"] = config.public_url("wallet")
        try:
            bases = {}
            for service in SERVICES:
                main = importlib.import_module(f"{service}.main")
                app = main.create_app(config.settings(service))
                stack_of_contexts.enter_context(live_server(app, config.ports[service]))
                bases[service] = config.public_url(service)
            yield Stack(
                issuer=bases["issuer"],
                wallet=bases["wallet"],
                verifier=bases["verifier"],
                state=state,
                config=config,
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def publish_readme_screenshot(path: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ for the README.

    Only when it is missing, or when ``MICROCRED_UPDATE_SCREENSHOTS=1`` asks for new ones:
    each run shows new DIDs and dates, and a test run should not leave committed files
    changed behind it.
    """
    target = README_SHOTS / f"{name}.png"
    if target.exists() and os.environ.get("MICROCRED_UPDATE_SCREENSHOTS") != "1":
        return
    README_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
