"""The interactive report in a real headless Chromium: it loads offline without console errors,
every plot renders, clicking an asset on a map (or an event of the forest) shows its
``twin explain`` chain, and several seeds draw the distributions.

Chromium and chromedriver come from the Debian packages ``chromium`` and ``chromium-driver``
(.ci/run installs them); the test fails, never skips, when they are missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

from twin.cli import main
from twin.report.build import write_report
from twin.report.interactive import PAGE_BUDGET_BYTES

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000")
MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def report(small_runs: tuple[Path, list], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small region's two configurations (2 h) and the report over them."""
    folder, outcomes = small_runs
    assert all(o.status == "complete" for o in outcomes)
    files = write_report([folder], tmp_path_factory.mktemp("report"), show_progress=False)
    assert files.interactive is not None
    return folder, files.interactive


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    assert CHROMIUM.is_file() and CHROMEDRIVER.is_file(), (
        "the browser test needs Chromium: apt-get install -y chromium chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


RENDERED_JS = """
return Array.from(document.querySelectorAll('.twin-plot')).map(function (gd) {
  return {name: gd.dataset.plot, configuration: gd.dataset.configuration || null,
          data: (gd.data || []).length, drawn: gd.querySelectorAll('.trace').length,
          points: (gd.data || []).reduce(function (n, t) { return n + ((t.x || t.y || []).length); }, 0)};
});
"""


def test_page_is_self_contained_and_small(report: tuple[Path, Path]) -> None:
    _, page = report
    text = page.read_text(encoding="utf-8")
    assert page.stat().st_size <= MAX_BYTES == PAGE_BUDGET_BYTES
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)  # nothing loaded from elsewhere
    assert "-0.000" not in text and "−0.000" not in text
    assert "line_km" not in text and "pv_mw" not in text  # no raw keys as labels


def test_page_in_chromium(report: tuple[Path, Path], browser: webdriver.Chrome,
                          capsys: pytest.CaptureFixture[str]) -> None:
    folder, page = report
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "var g = document.querySelectorAll('.twin-plot'); return g.length > 0 && "
        "Array.from(g).every(function (x) { return x._fullLayout && x.querySelector('.trace'); });"))
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # offline

    plots = browser.execute_script(RENDERED_JS)
    configurations = sorted({o.configuration for o in report_outcomes(folder)})
    assert sorted(p["name"] for p in plots) == sorted(
        ["performance", *(f"map-{c}" for c in configurations), *(f"forest-{c}" for c in configurations)])
    for p in plots:
        assert p["data"] >= 1 and p["drawn"] >= 1 and p["points"] >= 1, p

    # a failed asset on a map, clicked with the mouse where plotly drew it
    chains = browser.execute_script("return JSON.parse(document.getElementById('twin-chains').textContent)")
    configuration = configurations[0]
    gd = browser.find_element("css selector", f'.twin-plot[data-plot="map-{configuration}"]')
    found = browser.execute_script(FIND_POINT_JS, gd, sorted(chains[configuration]))
    assert found is not None, "no failed asset stands alone on the map"
    trace, point, asset = found
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", gd)
    marker = browser.execute_script(
        "return arguments[0].querySelectorAll('.scatterlayer .trace')[arguments[1]]"
        ".querySelectorAll('path.point')[arguments[2]];", gd, trace, point)
    ActionChains(browser).move_to_element(marker).click().perform()
    WebDriverWait(browser, 10).until(lambda d: d.find_element("id", "chain-text").text.startswith(asset))
    shown = browser.execute_script("return document.getElementById('chain-text').textContent")

    run = next(o.path for o in report_outcomes(folder) if o.configuration == configuration)
    capsys.readouterr()
    assert main(["explain", str(run), asset]) == 0
    assert shown == capsys.readouterr().out.rstrip("\n")
    assert browser.execute_script("return document.getElementById('chain-title').textContent").startswith(asset)

    # an event of the cascade forest, clicked: twin explain ASSET --at TIME
    forest = browser.find_element("css selector", f'.twin-plot[data-plot="forest-{configuration}"]')
    failed_keys = sorted(k for k in chains[configuration]  # events of failed assets other than the one shown
                         if "@" in k and k.split("@")[0] in chains[configuration] and k.split("@")[0] != asset)
    found = browser.execute_script(FIND_POINT_JS, forest, failed_keys)
    assert found is not None, "no forest event stands alone"
    trace, point, key = found
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", forest)
    marker = browser.execute_script(
        "return arguments[0].querySelectorAll('.scatterlayer .trace')[arguments[1]]"
        ".querySelectorAll('path.point')[arguments[2]];", forest, trace, point)
    ActionChains(browser).move_to_element(marker).click().perform()
    asset, at_s = key.split("@")
    WebDriverWait(browser, 10).until(lambda d: d.find_element("id", "chain-text").text.startswith(asset))
    capsys.readouterr()
    assert main(["explain", str(run), asset, "--at", at_s]) == 0
    assert browser.execute_script("return document.getElementById('chain-text').textContent") == (
        capsys.readouterr().out.rstrip("\n"))
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


# The (trace, point) of a failed asset whose marker no other marker comes near (12 px), and its id.
FIND_POINT_JS = """
var gd = arguments[0], failed = new Set(arguments[1]);
var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, all = [];
gd.data.forEach(function (t, i) {
  if (t.mode !== 'markers') { return; }
  t.x.forEach(function (x, j) { all.push([i, j, t.customdata[j], xa.l2p(x), ya.l2p(t.y[j])]); });
});
var alone = all.filter(function (p) {
  return failed.has(p[2]) && all.every(function (q) {
    return q === p || Math.hypot(q[3] - p[3], q[4] - p[4]) >= 12; });
});
return alone.length ? alone[0].slice(0, 3) : null;
"""


def report_outcomes(folder: Path) -> list:
    """The runs of the report's folder (not its baselines), read back as (configuration, path)."""
    from types import SimpleNamespace

    from twin.results import load

    out = []
    for p in sorted(folder.glob("*.h5")):
        r = load(p)
        if not r.attrs.get("hazard_free"):
            out.append(SimpleNamespace(configuration=str(r.attrs["configuration"]), path=p))
    return out


def test_distributions_in_chromium(tmp_path: Path, hand: SimpleNamespace, browser: webdriver.Chrome) -> None:
    """Two seeds of one configuration (hand-made files): the distributions plot draws a box."""
    from twin import metrics, results

    out = tmp_path / "seeds"
    out.mkdir()
    light = {**hand.SERIES, "power": {**hand.SERIES["power"], "served_mw": [10.0, 8.0, 10.0, 10.0]}}
    for seed, series in ((1, hand.SERIES), (2, light)):
        path = hand.make_file(out / f"s{seed}.h5", hand.region(hand.DISTRICTS), series, hand.cascade_events(),
                              seed=seed)
        results.write_metrics(path, *metrics.compute(results.load(path), None))
    page = write_report([out], tmp_path / "rep", show_progress=False).interactive
    assert page is not None
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "var g = document.getElementById('plot-distributions'); return g && g._fullLayout && g.querySelector('.trace');"))
    plots = {p["name"]: p for p in browser.execute_script(RENDERED_JS)}
    assert sorted(plots) == ["distributions", "forest-centralised", "map-centralised", "performance"]
    assert all(p["data"] >= 1 and p["drawn"] >= 1 for p in plots.values()), plots
    assert browser.execute_script(
        "return document.getElementById('plot-distributions').querySelectorAll('.boxlayer .trace').length") >= 1
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
