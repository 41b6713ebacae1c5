"""Charts built once per data version and shared by every session (app/ui.py `built_once`,
issue 29: eight people on the Reconciliation page built its five plotly figures eight times
on every data version); a shared figure is never changed by showing it."""
from __future__ import annotations

import subprocess
import sys

import plotly.express as px
import pytest

from app import charts, ui
from core.business import save_business
from tests.fixtures import ROOT


def test_a_build_runs_once_per_data_version_and_again_after_a_write(db_file):
    builds = []

    def run_charts(run_id: int) -> dict:
        builds.append(run_id)
        return {"run": run_id}

    def other_charts(run_id: int) -> dict:
        builds.append(-run_id)
        return {"other": run_id}

    ui.after_write()
    first = ui.built_once(run_charts, 7)
    assert ui.built_once(run_charts, 7) is first      # a second session: the same object
    assert ui.built_once(run_charts, 8) == {"run": 8}
    assert ui.built_once(other_charts, 7) == {"other": 7}   # same arguments, other builder
    assert builds == [7, 8, -7]
    save_business("27AAACW1234K1ZD", "Western Agro Industries Ltd", "test")
    ui.after_write()                                    # the data changed: built again
    again = ui.built_once(run_charts, 7)
    assert again is not first and builds == [7, 8, -7, 7]


def test_showing_a_finished_figure_leaves_it_as_it_was():
    fig = charts.fitted(px.bar(x=["a", "b"], y=[1, 2], title="Reasons<br><sup>x</sup>"))
    fig.update_layout(margin={"t": 5})   # finished as its builder chose, after fitting
    before = fig.to_json()

    class Place:            # where a chart is shown: records what Streamlit was given
        shown = None

        def plotly_chart(self, figure, **_):
            Place.shown = figure
            return {}

    assert charts.drawn(Place(), fig, "reasons") is None
    assert Place.shown is fig and fig.to_json() == before


@pytest.mark.slow   # a Python process of its own
def test_charts_load_pandas_whole_before_plotly_looks_it_up():
    """plotly reads pandas from sys.modules without importing it; a session's chart built while
    another session was still importing pandas failed (an incident under bench/sessions.py)."""
    code = "import sys, app.charts; print(hasattr(sys.modules.get('pandas'), 'Series'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "True", done.stderr
