"""Helpers for the suite's headless Chromium (the ``browser`` fixture of tests/conftest.py):
sign in on the workspace, run axe-core on a page, take screenshots, count a person's actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
# What must not be found on any screen: axe-core's serious and critical impacts.
BLOCKING = ("serious", "critical")


def gone(element: Any) -> Callable[[Any], bool]:
    """A wait condition: the page holding ``element`` was replaced by another. Chromium answers
    for a node of a page being replaced either as stale or as "not belonging to the document"
    (an unknown error), depending on when it is asked; both mean the page has gone."""

    def replaced(_browser: Any) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error.msg):
                return True
            raise
        return False

    return replaced


def sign_in(browser: Any, base_url: str, username: str, password: str) -> None:
    """Sign in on the workspace's page and wait for the page it lands on."""
    browser.get(f"{base_url}/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    WebDriverWait(browser, 10).until(gone(page))


def axe_violations(browser: Any, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe-core's violations on the current page at the given impacts (rules WCAG 2.x A/AA and
    best practice), each as its rule id, impact, help and the elements' selectors."""
    if not browser.execute_script("return !!window.axe"):
        browser.execute_script(AXE.read_text())
    browser.set_script_timeout(60)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(done, (error) => done({error: String(error)}));"
    )
    if "error" in result:
        raise AssertionError(f"axe-core failed: {result['error']}")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]


def screenshot(browser: Any, name: str, width: int = 1366, height: int = 768) -> Path:
    """The whole page at that window size, under var/screenshots/ (kept out of git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, height)
    path = SCREENSHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def page_width(browser: Any) -> int:
    """How wide the page is drawn: more than the window means a sideways scroll."""
    return int(browser.execute_script("return document.documentElement.scrollWidth"))


@dataclass
class Actions:
    """A person's actions on a screen, counted as the job's measure: a click, a key pressed
    that is not typing (Enter, arrows, a shortcut), or a field filled (however many keys)."""

    clicks: int = 0
    keys: int = 0
    fields: int = 0
    loads: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.clicks + self.keys + self.fields

    def click(self, element: Any, what: str = "") -> None:
        element.click()
        self.clicks += 1
        self.log.append(f"click {what}".strip())

    def key(self, element: Any, key: str, what: str = "") -> None:
        element.send_keys(key)
        self.keys += 1
        self.log.append(f"key {what or repr(key)}")

    def fill(self, element: Any, text: str, what: str = "") -> None:
        element.clear()
        element.send_keys(text)
        self.fields += 1
        self.log.append(f"fill {what or text!r}")
