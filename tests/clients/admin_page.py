"""Drive the admin page in Debian's Chromium (headless, through chromedriver): the servers table
lists the configured servers with their state, the playground highlights a match of a typed
prompt, and the reload button reports a broken configuration. Prints one JSON object of what
it saw; writes a screenshot.

usage: admin_page.py BASE_URL CONFIG_FILE BROKEN_TEXT SCREENSHOT
"""

import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

base, config_file, broken, screenshot = sys.argv[1:5]

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600"):
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
seen = {}
try:
    wait = WebDriverWait(driver, 20)
    driver.get(base + "/admin")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#servers-table tbody tr")) >= 2)
    wait.until(lambda d: all(
        td.text == "ready" for td in d.find_elements(By.CSS_SELECTOR, "#servers-table td.state")))
    seen["servers"] = {
        row.find_element(By.TAG_NAME, "th").text: row.find_element(By.CSS_SELECTOR, "td.state").text
        for row in driver.find_elements(By.CSS_SELECTOR, "#servers-table tbody tr")
    }
    wait.until(lambda d: "tools" in d.find_element(By.ID, "catalog-count").text)
    search = driver.find_element(By.ID, "catalog-search")
    search.send_keys("current time")
    seen["catalog"] = [li.find_element(By.TAG_NAME, "code").text
                       for li in driver.find_elements(By.CSS_SELECTOR, "#catalog-list li")]

    # The playground, by keyboard: type, then submit with the button focused.
    prompt = driver.find_element(By.ID, "prompt")
    prompt.send_keys("what time is it in Tokyo right now?")
    button = driver.find_element(By.CSS_SELECTOR, "#analyze-form button")
    button.send_keys(Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#highlighted mark")))
    seen["marks"] = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#highlighted mark")]
    seen["ranking"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#ranking li")]
    seen["labels"] = all(
        driver.find_elements(By.CSS_SELECTOR, f"label[for='{i}']")
        for i in ("prompt", "catalog-search", "token"))

    # A broken configuration: the reload button says it was refused, and why.
    with open(config_file, "w") as f:
        f.write(broken)
    driver.find_element(By.ID, "reload").click()
    wait.until(lambda d: d.find_element(By.ID, "reload-result").text.startswith("Refused"))
    seen["reload"] = driver.find_element(By.ID, "reload-result").text
    wait.until(lambda d: "none" not in d.find_element(By.ID, "config-status").text.split("Last error")[-1][:8])
    seen["config"] = driver.find_element(By.ID, "config-status").text

    # A narrow screen: nothing wider than the window.
    driver.set_window_size(390, 1400)
    seen["narrow_overflow"] = driver.execute_script(
        "return document.documentElement.scrollWidth > window.innerWidth")
    driver.set_window_size(1200, 1600)
    driver.save_screenshot(screenshot)
finally:
    driver.quit()
print(json.dumps(seen))
