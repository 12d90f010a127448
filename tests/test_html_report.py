"""The HTML report, loaded in real headless Chromium (Debian's chromium and
chromium-driver, installed by .ci/run) through Selenium: it renders with no console
errors and no network requests, and its filters and sorting work.

The verdicts come from a stub judge (stubs.py): the page is under test, not judging.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ASYNCIO_INI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from stubs import CACHE_STUB

pytestmark = pytest.mark.plumbing

TESTS = """
    import pytest
    from pytest_llmjudge import assert_judged, assert_checklist

    @pytest.mark.parametrize("n", range(6))
    def test_good(n):
        assert_judged(f"good reply {n}", "The reply is good")

    @pytest.mark.parametrize("n", range(3))
    def test_bad(n):
        assert_judged(f"refund refused {n}", "The reply offers a refund")

    def test_markup():
        assert_judged("<img src=x onerror=alert(1)> good", "The reply is good")

    def test_checklist():
        assert_checklist("a good reply", items=["Is it good?", "Is it long?"], threshold=0.5)

    def test_error():
        assert_judged("", "The reply is good")
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, "install Debian's chromium and chromium-driver (see .ci/run)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-extensions", "--no-first-run"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of 11 verdicts and one judge error, written by a real pytest run."""
    root = tmp_path_factory.mktemp("html")
    (root / "tox.ini").write_text(f"[pytest]\n{ASYNCIO_INI}")
    (root / "conftest.py").write_text(_dedent(CACHE_STUB))
    (root / "test_page.py").write_text(_dedent(TESTS))
    target = root / "out" / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--llmjudge-html={target}", "--llmjudge-record-mode=off"],
        cwd=root, capture_output=True, text=True, timeout=300)
    # The bad replies fail and the empty one errors, as they should.
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-2000:]
    return target


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


def _visible(browser: webdriver.Chrome) -> list[str]:
    groups = browser.find_elements(By.CSS_SELECTOR, "tbody.verdict")
    return [g.find_element(By.CSS_SELECTOR, "td").text for g in groups if g.is_displayed()]


def test_the_page_renders_without_console_errors_or_network(
    browser: webdriver.Chrome, page: Path,
) -> None:
    browser.get(page.as_uri())
    assert browser.title == "pytest-llmjudge report"
    assert len(_visible(browser)) == 11 + 1
    assert browser.find_element(By.ID, "shown").text == "12 of 12 shown"
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    requests = [e["message"] for e in browser.get_log("performance")
                if '"Network.requestWillBeSent"' in e["message"]]
    assert all('"url":"file://' in r for r in requests), requests
    # The output's markup is text on the page, not an element.
    assert browser.find_elements(By.CSS_SELECTOR, "td img") == []
    assert "<img src=x onerror=alert(1)>" in browser.page_source.replace("&lt;", "<").replace(
        "&gt;", ">")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".charts svg rect")) > 3


def test_filters_narrow_the_table(browser: webdriver.Chrome, page: Path) -> None:
    browser.get(page.as_uri())
    box = browser.find_element(By.ID, "filter")
    box.send_keys("refund")
    shown = _visible(browser)
    assert len(shown) == 3 and all("test_bad" in s for s in shown)
    assert browser.find_element(By.ID, "shown").text == "3 of 12 shown"
    box.clear()
    box.send_keys(" ")  # clear() sends no input event; a space does, and matches all
    Select(browser.find_element(By.ID, "outcome")).select_by_value("ERROR")
    shown = _visible(browser)
    assert shown == ["test_page.py::test_error"]
    Select(browser.find_element(By.ID, "outcome")).select_by_value("PASS")
    assert len(_visible(browser)) == 6 + 1 + 1  # the good replies, the markup one, the checklist


def test_a_column_header_sorts_by_its_values(browser: webdriver.Chrome, page: Path) -> None:
    browser.get(page.as_uri())
    score = browser.find_elements(By.CSS_SELECTOR, "thead th")[2]
    score.click()

    def scores() -> list[float]:
        cells = browser.find_elements(By.CSS_SELECTOR,
                                      "tbody.verdict tr:first-child td:nth-child(3)")
        return [float(c.get_attribute("data-sort") or "nan") for c in cells]

    ascending = scores()
    assert ascending == sorted(ascending) and ascending[0] == -1  # the error row has no score
    score.click()
    assert scores() == sorted(ascending, reverse=True)
    assert score.get_attribute("aria-sort") == "descending"
