"""The console in a real headless Chromium (Debian's, driven by Selenium): type a command, see the reply.

A screenshot of the console is kept for a person to look at: CHARLA_TEST_ARTIFACTS (default
.cache/test-artifacts/ in the repository), one per database the run used; the path is printed.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TIMEOUT = 20  # seconds for a reply to appear; it normally takes well under one
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail("needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,860",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # what the page's console says (404s, errors)
    # An explicit driver path: selenium-manager never tries to download anything.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


class ConsolePage:
    """What a person does on the page, in their terms; every wait is explicit."""

    def __init__(self, driver, url: str):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url = driver, url
        self.wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.05)

    def find(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def open(self) -> "ConsolePage":
        self.driver.get(self.url + "/")
        self.driver.execute_script("localStorage.clear()")
        self.driver.get(self.url + "/")
        self.wait.until(lambda d: "ok" in self.find("#health").text)  # the first poll has come back
        return self

    def be(self, name: str) -> None:
        box = self.find("#user-name")
        box.clear()
        box.send_keys(name)

    def go_to(self, label: str) -> None:
        [option] = [o for o in self.find_all(".channel-option") if o.text.startswith(label)]
        option.click()
        self.wait.until(lambda d: self.find("#channel-title").text.startswith(label))

    def say(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.find("#message-text")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def bot_replies(self) -> list[str]:
        return [m.find_element("css selector", ".text").text for m in self.find_all("#messages li.from-bot")]

    def wait_for_bot_reply(self, containing: str) -> str:
        return self.wait.until(lambda d: next((t for t in self.bot_replies() if containing in t), None),
                               f"no bot reply containing {containing!r}")

    def bot_reply(self, containing: str):
        """The newest bot message (the element) whose text contains `containing`."""
        self.wait_for_bot_reply(containing)
        return [m for m in self.find_all("#messages li.from-bot") if containing in m.text][-1]

    def mine(self, containing: str):
        """My message once the worker has stored it (no longer greyed as pending)."""
        return self.wait.until(lambda d: next((m for m in self.find_all("#messages li[data-id]")
                                               if containing in m.text), None), f"{containing!r} not stored")

    def problems(self) -> list[str]:
        """What the browser's console reported: failed loads (a 404 favicon, ...) and script errors."""
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]

    def stats(self) -> dict[str, str]:
        rows = self.find_all("#stats tbody tr:not(.none)")
        return {r.find_elements("css selector", "td")[0].text: r.find_elements("css selector", "td")[1].text
                for r in rows}


def links(element) -> list[tuple[str, str]]:
    return [(a.text, a.get_attribute("href")) for a in element.find_elements("css selector", "a")]


def codes(element) -> list[str]:
    return [c.text for c in element.find_elements("css selector", "code")]


def keep_screenshot(browser, console) -> Path:
    from django.conf import settings

    folder = Path(os.environ.get("CHARLA_TEST_ARTIFACTS") or REPO / ".cache" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    shot = folder / f"console-{engine}.png"
    assert browser.save_screenshot(str(shot))
    keep = os.environ.get("CONSOLE_SCREENSHOT")  # a second copy where you like, e.g. /tmp/console.png
    if keep:
        shutil.copyfile(shot, keep)
    return shot


def test_type_a_command_and_see_the_reply(browser, console):
    page = ConsolePage(browser, console.web_url).open()
    assert page.find("#channel-title").text == "#general"
    assert page.find("label[for=user-name]").text == "Your name"

    page.be("ana")
    started = time.monotonic()
    page.say("@charla help")
    english = page.wait_for_bot_reply("Commands")
    first_reply = time.monotonic() - started
    assert "search <text>" in english and "Commands" in page.find("#messages li.from-bot strong").text
    mine = page.find("#messages li:not(.from-bot):not(.pending)")
    assert mine.find_element("css selector", ".author").text == "ana"
    assert mine.find_element("css selector", ".mention").text == "@charla"  # <@UCHARLA> shown by name
    # Command names as code, what they do as plain text.
    help_reply = page.bot_reply("Commands")
    assert "search <text>" in codes(help_reply) and "count <@user>" in codes(help_reply)
    assert "search <text> — search the catalogue" in help_reply.text
    assert not any("—" in code or "catalogue" in code for code in codes(help_reply))

    # A name that is no mention: the bot says it does not know that person, and how to mention one.
    page.say("@charla cuenta @nobody")
    unknown = page.bot_reply("No conozco")
    assert "No conozco a «@nobody»: menciona con @ a alguien de este espacio" in unknown.text
    assert codes(unknown) == ["cuenta @ana"] and "ana ha escrito" not in unknown.text

    # A reply with a link (the next meetup's page), and the same date the side panel shows.
    page.say("@charla next")
    upcoming = page.bot_reply("Next up")
    [(label, href)] = links(upcoming)
    assert href.startswith("https://charlandero.example/agenda/") and label == href
    year, month, day, clock = re.search(r"(\d{4})-(\d\d)-(\d\d) (\d\d:\d\d) UTC", upcoming.text).groups()
    starts = datetime(int(year), int(month), int(day), tzinfo=timezone.utc)
    shown_year = "" if starts.year == datetime.now(timezone.utc).year else f" {starts.year}"
    panel = page.find("#next-event")
    assert f"{starts:%a} {starts.day} {starts:%b}{shown_year}, {clock} UTC" in panel.text
    assert links(panel) == [(panel.find_element("css selector", "strong").text, href)]

    # What a person types: a bare URL is a link (not the full stop after it); other schemes are text.
    page.say("see https://example.org/a?b=1&c=2. and javascript:alert(1) or <https://evil.example|trust me>")
    typed = page.mine("javascript:alert(1)").find_element("css selector", ".text")
    assert links(typed) == [("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&c=2")]
    assert typed.text == "see https://example.org/a?b=1&c=2. and javascript:alert(1) or <https://evil.example|trust me>"

    page.go_to("@charla")
    assert page.find_all("#messages li") == []  # the DM starts empty
    started = time.monotonic()
    page.say("ayuda")
    spanish = page.wait_for_bot_reply("Comandos")
    dm_reply = time.monotonic() - started
    assert "busca <texto>" in spanish
    page.say("siguiente")
    page.wait_for_bot_reply("Próximo")

    page.wait.until(lambda d: page.stats() == {"help": "2", "next": "2", "count": "1"},
                    "the stats panel did not catch up")

    page.go_to("#general")  # back: the history is loaded again from the feed
    page.wait_for_bot_reply("Commands")
    page.wait_for_bot_reply("Next up")
    assert page.problems() == []  # no failed load (favicon.ico included), no script error

    shot = keep_screenshot(browser, console)
    print(f"\nreply shown after {first_reply:.2f} s (#general) and {dm_reply:.2f} s (DM); screenshot: {shot}")
    assert first_reply < 10 and dm_reply < 10


def test_messages_are_shown_as_text_never_as_markup(browser, console):
    page = ConsolePage(browser, console.web_url).open()
    page.be("mallory")
    page.go_to("#random")
    hostile = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> *bold* & `code` _it_'
    page.say(hostile)
    shown = page.wait.until(
        lambda d: next((m for m in page.find_all("#messages li[data-id]") if "window.__xss" in m.text), None))
    text = shown.find_element("css selector", ".text")
    assert text.text == '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> bold & code it'
    assert [e.tag_name for e in text.find_elements("css selector", "*")] == ["strong", "code", "em"]
    assert page.find_all("#messages script, #messages img") == []
    assert browser.execute_script("return window.__xss === undefined")


def test_the_page_says_what_is_wrong(browser, console):
    page = ConsolePage(browser, console.web_url).open()
    page.be("charla")
    page.say("hello")
    page.wait.until(lambda d: "bot's name" in page.find("#error").text)
    assert page.find("#message-text").get_attribute("value") == "hello"  # nothing lost


def test_a_message_the_broker_cannot_take_says_so_and_is_sent_when_it_is_back(browser, console):
    page = ConsolePage(browser, console.web_url).open()
    page.be("olga")
    page.go_to("#random")
    with console.broker_outage():
        page.say("@charla status")
        held = page.wait.until(lambda d: next((m for m in page.find_all("#messages li.pending")
                                               if "not sent yet" in m.text), None))
        assert held.find_element("css selector", ".status").text == (
            "the broker is not answering; it is kept and handed on when the broker is back.")
        assert "sending…" not in held.text
    # beat hands the kept delivery on; the worker stores it and answers.
    assert "Bot: up" in page.wait_for_bot_reply("Bot: up")
    assert page.find_all("#messages li.pending") == []
    assert "status" in page.mine("status").text
