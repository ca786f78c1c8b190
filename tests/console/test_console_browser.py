"""The console in a real headless Chromium (Debian's, driven by Selenium): type a command, see the reply."""
from __future__ import annotations

import os
import shutil
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TIMEOUT = 20  # seconds for a reply to appear; it normally takes well under one


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

    def stats(self) -> dict[str, str]:
        rows = self.find_all("#stats tbody tr:not(.none)")
        return {r.find_elements("css selector", "td")[0].text: r.find_elements("css selector", "td")[1].text
                for r in rows}


def test_type_a_command_and_see_the_reply(browser, console, tmp_path):
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

    page.go_to("@charla")
    assert page.find_all("#messages li") == []  # the DM starts empty
    started = time.monotonic()
    page.say("ayuda")
    spanish = page.wait_for_bot_reply("Comandos")
    dm_reply = time.monotonic() - started
    assert "busca <texto>" in spanish
    page.say("siguiente")
    page.wait_for_bot_reply("Próximo")
    page.wait.until(lambda d: page.stats() == {"help": "2", "next": "1"}, "the stats panel did not catch up")

    page.go_to("#general")  # back: the history is loaded again from the feed
    page.wait_for_bot_reply("Commands")

    shot = tmp_path / "console.png"
    assert browser.save_screenshot(str(shot))
    keep = os.environ.get("CONSOLE_SCREENSHOT")  # e.g. CONSOLE_SCREENSHOT=/tmp/console.png to look at it
    if keep:
        shutil.copyfile(shot, keep)
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
