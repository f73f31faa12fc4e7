"""The README's picture of the stepper, ``docs/images/stepper.png``: the lecture's graph
J = 3·(a + b·c) at the backward step from u to b (∂J/∂b = 3 · 1 · 2 = 6), in headless Chromium.

    python tools/stepper_screenshot.py      # needs selenium, chromium and chromedriver
"""
import pathlib
import shutil
import tempfile

import chainrule

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    a, b, c = (chainrule.tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
    u = b * c
    v = a + u
    J = 3 * v
    page = pathlib.Path(tempfile.mkdtemp()) / "lecture.html"
    chainrule.viz.stepper(J, page)
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=980,760",
                "--hide-scrollbars"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or shutil.which("google-chrome")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(page.as_uri())
        steps = driver.execute_script("return window.chainruleStepper.steps")
        driver.execute_script("window.chainruleStepper.go(arguments[0])", steps.index("backward") + 3)
        out = ROOT / "docs" / "images" / "stepper.png"
        # the heading, the controls, the step's text and the graph: down to the graph's frame
        driver.set_window_size(980, 400)
        bottom = driver.execute_script(
            "return document.getElementById('picture').getBoundingClientRect().bottom")
        inner = driver.execute_script("return window.innerHeight")
        driver.set_window_size(980, 400 + int(bottom) + 12 - inner)
        driver.save_screenshot(str(out))
        print(out)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
