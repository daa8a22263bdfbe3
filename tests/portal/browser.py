#!/usr/bin/python3
"""The customer portal in a real browser: headless Chromium driven by Debian's python3-selenium
and chromium-driver, against a charter-server that tests/portal/test_portal.sh started.

usage: browser.py BASE_URL WORK_DIR STEP [ARG...]

Each step opens a fresh browser (no cookies), does what a customer does, checks what the page
shows, prints what the shell test needs (a credential's secret) and exits 0; on a failed check
it prints FAIL with the page's text and saves a screenshot in WORK_DIR. Exit 77: no Chromium.
"""

import email
import email.policy
import glob
import os
import re
import shutil
import sys
import time

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("skipped: python3-selenium is not installed (scripts/setup installs it)")
    sys.exit(77)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser(width=1280, height=900):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        print("skipped: chromium or chromium-driver is not installed (scripts/setup installs both)")
        sys.exit(77)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


class Step:
    def __init__(self, base, work, name, width=1280, height=900):
        self.base = base.rstrip("/")
        self.work = work
        self.name = name
        self.driver = browser(width, height)

    def close(self):
        self.driver.quit()

    def fail(self, message):
        path = os.path.join(self.work, f"portal-{self.name}-failure.png")
        try:
            self.driver.save_screenshot(path)
            text = self.text()
        except WebDriverException:
            text = "(no page)"
        print(f"FAIL ({self.name}): {message}\n--- page at {self.driver.current_url}:\n{text}\n--- screenshot: {path}",
              file=sys.stderr)
        self.close()
        sys.exit(1)

    def check(self, condition, message):
        if not condition:
            self.fail(message)

    def open(self, path):
        self.driver.get(self.base + path)

    def submit(self, selector):
        """Clicks the button `selector` (CSS) and waits for the page it leads to."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, selector).click()
        # Asked while the old document is being replaced, Chromium may answer "Node with given
        # id does not belong to the document" instead of a stale element: ask again.
        WebDriverWait(self.driver, 30, ignored_exceptions=(WebDriverException,)).until(expected_conditions.staleness_of(page))
        WebDriverWait(self.driver, 30).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete")

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def sign_in(self, secret):
        self.open("/portal/")
        field = self.driver.find_element(By.ID, "secret")
        field.send_keys(secret)
        self.submit("form[action='/portal/sign-in'] button[type=submit]")

    def signed_in(self, secret):
        self.sign_in(secret)
        self.check(self.driver.current_url.endswith("/portal/licenses"),
                   f"signing in did not lead to /portal/licenses")

    def csrf_value(self):
        return self.driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")


def sign_in_with_key(step, key, license_id, end_date):
    """Sign in with a license key: the licenses page lists the license with its end date."""
    step.signed_in(key)
    text = step.text()
    step.check(license_id in text, f"the licenses page does not list {license_id}")
    step.check(end_date in text, f"the licenses page does not show the end date {end_date}")
    step.submit(f"a[href='/portal/licenses/{license_id}']")
    text = step.text()
    step.check("Ends on" in text and end_date in text, "the license page does not show its end date")
    key_shown = step.driver.find_element(By.ID, "license-key").text.replace("\n", "")
    step.check(key_shown == key, "the license page does not show the current key")
    # The session cookie's attributes as the browser stored them.
    cookies = {cookie["name"]: cookie for cookie in step.driver.get_cookies()}
    session = cookies.get("charter_session")
    step.check(session is not None and session["httpOnly"] and session.get("sameSite") == "Lax"
               and session["path"] == "/portal", f"the session cookie is {session}")
    # Signing out ends the session: the licenses page sends the browser back to sign in.
    step.submit("form[action='/portal/sign-out'] button")
    step.open("/portal/licenses")
    step.check(step.driver.find_element(By.ID, "secret") is not None, "after signing out, /portal/licenses is still shown")


def wrong_key(step, key):
    """A key that is not valid: the sign-in page shows why, in the page."""
    step.sign_in(key)
    alert = step.driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    step.check("the license key is not valid" in alert, f"the error shown is {alert!r}")
    step.check("/portal/licenses" not in step.driver.current_url, "a wrong key signed in")
    print(alert)


def create_credential(step, key, license_id, name):
    """Create a download credential in the browser; prints its secret (shown once)."""
    step.signed_in(key)
    step.open(f"/portal/licenses/{license_id}/credentials")
    step.driver.find_element(By.ID, "credential-name").send_keys(name)
    step.submit("form[action$='/credentials'] button[type=submit]")
    secret = step.driver.find_element(By.ID, "new-secret").text.strip()
    step.check(secret.startswith("cdl_"), f"no secret shown: {secret!r}")
    # Shown once: the credentials page does not show it again.
    step.open(f"/portal/licenses/{license_id}/credentials")
    step.check(secret not in step.driver.page_source, "the secret is shown a second time")
    step.check(name in step.text(), "the new credential is not listed")
    print(secret)


def revoke_credential(step, key, license_id, name):
    """Revoke the credential named `name` in the browser."""
    step.signed_in(key)
    step.open(f"/portal/licenses/{license_id}/credentials")
    step.submit(f"button[aria-label='Revoke {name}']")
    step.check(step.driver.current_url.endswith(f"/portal/licenses/{license_id}/credentials"), "revoking did not come back")
    step.check("revoked on" in step.text(), "the credential is not shown revoked")


def csrf(step, key, license_id):
    """A form sent without its CSRF token (or with another) is refused and changes nothing."""
    step.signed_in(key)
    step.open(f"/portal/licenses/{license_id}/credentials")
    step.driver.execute_script("document.querySelector(\"form[action$='/credentials'] input[name=csrf]\").remove()")
    step.driver.find_element(By.ID, "credential-name").send_keys("forged")
    step.submit("form[action$='/credentials'] button[type=submit]")
    step.check("did not come from your portal session" in step.text(), "a form without its token was accepted")
    step.open(f"/portal/licenses/{license_id}/credentials")
    step.check("forged" not in step.text(), "a credential was created without the token")
    step.driver.execute_script("document.querySelector(\"form[action$='/credentials'] input[name=csrf]\").value = 'x'")
    step.driver.find_element(By.ID, "credential-name").send_keys("forged")
    step.submit("form[action$='/credentials'] button[type=submit]")
    step.check("did not come from your portal session" in step.text(), "a form with a wrong token was accepted")


def escaping(step, key, customer_name, product_name):
    """A customer name with <script> and a product name with quotes are shown as text."""
    step.signed_in(key)
    text = step.text()
    step.check(customer_name in text, f"the customer's name is not shown as text: {customer_name!r}")
    step.check(product_name in text, f"the product's name is not shown as text: {product_name!r}")
    step.check(not step.driver.find_elements(By.XPATH, "//main//script | //header//script"),
               "a script element was made from data")
    step.check(not step.driver.find_elements(By.CSS_SELECTOR, "[data-injected]"), "an attribute was injected")


def other_customer(step, key, own_license, other_license):
    """A license id of another customer in the URL: the same 404 page as an unknown id."""
    step.signed_in(key)
    pages = {}
    for license_id in (other_license, "lic_unknown"):
        for suffix in ("", "/setup", "/downloads", "/credentials"):
            step.open(f"/portal/licenses/{license_id}{suffix}")
            text = step.text()
            step.check("Not found" in text, f"/portal/licenses/{license_id}{suffix} was shown")
            step.check(other_license not in step.driver.page_source.replace(f"/portal/licenses/{other_license}", ""),
                       "the page names the other license")
            pages.setdefault(suffix, set()).add(text)
    for suffix, texts in pages.items():
        step.check(len(texts) == 1, f"{suffix or 'the license page'}: another customer's license and an unknown one differ")
    step.open(f"/portal/licenses/{own_license}")
    step.check(own_license in step.text(), "the customer's own license is not shown")


def billing_and_seats(step, key, license_id, billing_sentence, billing_url, activation_id, label):
    """A license billed by Stripe shows its billing line and the vendor's link; the machine
    holding one of its seats is listed, and Deactivate frees the seat."""
    step.signed_in(key)
    step.open(f"/portal/licenses/{license_id}")
    billing = step.driver.find_element(By.ID, "billing")
    step.check(billing.text.startswith(billing_sentence), f"the billing line is {billing.text!r}, not {billing_sentence!r}")
    link = step.driver.find_element(By.ID, "billing-link")
    step.check(link.get_attribute("href") == billing_url and link.text == "Manage billing",
               f"the billing link is {link.get_attribute('href')!r} ({link.text!r})")
    seats = step.driver.find_element(By.ID, "seats-in-use").text
    step.check(seats.startswith("1 of 3 seats in use."), f"the seats line is {seats!r}")
    row = step.driver.find_element(By.ID, activation_id).text
    step.check(label in row and "node-locked" not in row, f"the activation's row is {row!r}")
    step.submit(f"button[aria-label='Deactivate {label}']")
    step.check(step.driver.current_url.endswith(f"/portal/licenses/{license_id}#activations"),
               f"deactivating led to {step.driver.current_url}")
    step.check(not step.driver.find_elements(By.ID, activation_id), "the deactivated machine is still listed")
    step.check("No machine holds a seat now." in step.text(), "the page does not say the seats are free")
    seats = step.driver.find_element(By.ID, "seats-in-use").text
    step.check(seats.startswith("0 of 3 seats in use."), f"after deactivating, the seats line is {seats!r}")


def sign_in_link_message(sink_dir, seen, timeout=60):
    """Waits for a message in the SMTP sink's folder, not among `seen`, with a portal sign-in
    link; returns (recipient, link)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(glob.glob(os.path.join(sink_dir, "*.eml"))):
            if path in seen:
                continue
            seen.add(path)
            with open(path, "rb") as file:
                message = email.message_from_binary_file(file, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            found = re.search(r"https?://\S+/portal/sign-in/link/[A-Za-z0-9_-]+", text)
            if found:
                return message["To"], found.group(0)
        time.sleep(0.2)
    return None, None


def email_link(step, sink_dir, address, license_id):
    """Sign in by an email link: asked for on the sign-in page, delivered by the server's mail
    sender to a real SMTP server (tests/support/smtp_sink.py), opened in the browser: signed in.
    The same link a second time: the error on the page, not signed in."""
    seen = set(glob.glob(os.path.join(sink_dir, "*.eml")))
    step.open("/portal/")
    step.driver.find_element(By.ID, "email").send_keys(address)
    step.submit("form[action='/portal/sign-in/email'] button[type=submit]")
    notice = step.driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    step.check("a sign-in link is on its way" in notice, f"the page after asking for a link says {notice!r}")
    recipient, link = sign_in_link_message(sink_dir, seen)
    step.check(link is not None, f"no message with a sign-in link reached the SMTP sink in {sink_dir}")
    step.check(address in (recipient or ""), f"the sign-in link was sent to {recipient!r}")
    step.check(link.startswith(step.base + "/portal/sign-in/link/"), f"the link {link} is not on {step.base}")
    step.driver.get(link)
    step.submit("form[action^='/portal/sign-in/link/'] button[type=submit]")
    step.check(step.driver.current_url.endswith("/portal/licenses"), "the email link did not sign in")
    step.check(license_id in step.text(), f"signed in by email, the licenses page does not list {license_id}")
    # Used once: in a browser without the session, the same link shows the error and signs nobody in.
    step.driver.delete_all_cookies()
    step.driver.get(link)
    step.submit("form[action^='/portal/sign-in/link/'] button[type=submit]")
    alert = step.driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    step.check("this sign-in link was used already or has expired" in alert, f"the second use shows {alert!r}")
    step.open("/portal/licenses")
    step.check(not step.driver.current_url.endswith("/portal/licenses"), "the second use of the link signed in")
    print(link)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, work, name, *arguments = sys.argv[1:]
    steps = {
        "sign-in-with-key": sign_in_with_key,
        "wrong-key": wrong_key,
        "create-credential": create_credential,
        "revoke-credential": revoke_credential,
        "csrf": csrf,
        "escaping": escaping,
        "other-customer": other_customer,
        "billing-and-seats": billing_and_seats,
        "email-link": email_link,
    }
    if name not in steps:
        print(f"unknown step {name}; one of {', '.join(steps)}", file=sys.stderr)
        sys.exit(2)
    step = Step(base, work, name)
    try:
        steps[name](step, *arguments)
    except WebDriverException as error:
        step.fail(f"the browser failed: {error.msg}")
    step.close()


if __name__ == "__main__":
    main()
