"""End-to-end tests: the real app in headless Chromium."""
from __future__ import annotations

import shutil


def find_chromium() -> str | None:
    """The path of a system Chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing() -> str | None:
    """Say why the browser tests cannot run here, or None when they can."""
    if find_chromium() is None:
        return "Chromium is not installed (scripts/install-system installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test module when no browser can run, except with CI=true, where that fails the run."""
    import os

    import pytest

    missing = browser_missing()
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"{missing}; the browser tests must run in CI", pytrace=False)
    if missing:
        pytest.skip(f"browser tests skipped: {missing}", allow_module_level=True)
