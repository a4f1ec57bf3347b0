"""`glassml demo`'s numbers: its Tg comes from the committed paper-size campaign, and it reports
where the shipped model's probability crosses 0.5."""

import pytest

from ovito_glassml.commands import demo


def test_the_demo_fits_tg_on_the_committed_campaign_within_0_05_of_the_paper(tmp_path, capsys):
    assert demo.CAMPAIGN.exists()
    tg = demo._fit_tg(tmp_path / "unused.csv", demo.CAMPAIGN, tmp_path / "tg")
    assert abs(tg.tg - 0.39) < 0.05
    assert tg.n_runs == 64
    assert (tmp_path / "tg" / "tg.png").exists()
    assert f"Tg = {tg.tg:.3f}" in capsys.readouterr().out


def test_the_crossing_is_where_the_mean_probability_over_runs_falls_through_one_half():
    rows = [{"temperature": t, "glass_probability": p}
            for t, ps in ((0.2, (1.0, 0.9)), (0.4, (0.7, 0.5)), (0.6, (0.2, 0.0)))
            for p in ps]
    # means 0.95, 0.6, 0.1: crossing between 0.4 and 0.6, at 0.4 + 0.1 / 0.5 * 0.2
    assert demo._crossing(rows) == pytest.approx(0.44)
