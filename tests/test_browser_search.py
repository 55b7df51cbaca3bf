"""Search and "what the data cannot answer" in a real headless Chromium (the fixtures and
helpers of test_browser.py); screenshots in tests/output/screenshots/."""
from __future__ import annotations

import pytest

from test_browser import EC, By, console_errors, driver, server, shot, wait  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

from selenium.webdriver.common.keys import Keys  # noqa: E402


def search_from_header(d, text: str):
    box = wait(d).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "header .site-search input[name=q]")))
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    return wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.search-group")))


def test_search_from_the_header_zh(driver, server):
    console_errors(driver)
    driver.get(server + "/?lang=zh")
    search_from_header(driver, "生产总值")
    groups = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "section.search-group h2")]
    assert groups[0].startswith("指标") and any(g.startswith("报告原文") for g in groups)
    item = driver.find_element(By.CSS_SELECTOR, "section#indicator li")
    first = item.find_element(By.TAG_NAME, "a")
    assert first.text == "地区生产总值"  # the label, and under it the alternative label that matched
    assert item.find_element(By.CSS_SELECTOR, ".match mark").text == "生产总值"
    assert driver.find_element(By.CSS_SELECTOR, "#search-q").get_attribute("value") == "生产总值"
    shot(driver, "search-zh")
    first.click()
    wait(driver).until(EC.url_contains("/id/indicator/gdp"))
    assert console_errors(driver) == []


def test_search_from_the_header_en(driver, server):
    console_errors(driver)
    driver.get(server + "/?lang=en")
    search_from_header(driver, "xiaoshan")
    area = driver.find_element(By.CSS_SELECTOR, "section#area li a")
    assert area.text == "Xiaoshan District"
    assert [m.text for m in driver.find_elements(By.CSS_SELECTOR, "section#area mark")] == ["Xiaoshan"]
    assert driver.find_element(By.CSS_SELECTOR, "section#project h2").text.startswith("Projects")
    shot(driver, "search-en")
    assert console_errors(driver) == []


def test_nothing_found_points_to_what_the_data_cannot_answer(driver, server):
    driver.get(server + "/search?q=" + "各区投资排名" + "&lang=zh")
    link = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main a[href='/cannot-answer']")))
    link.click()
    h2 = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section#district-investment h2")))
    assert "哪个区、县(市)的投资最多" in h2.text
    shot(driver, "cannot-answer-zh")
    driver.get(server + "/cannot-answer?lang=en")
    assert "Which district invests most?" in driver.find_element(By.CSS_SELECTOR, "section#district-investment h2").text
    shot(driver, "cannot-answer-en")
