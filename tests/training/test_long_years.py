"""WGMS years as recorded: a glacier-wide year on floating (stratigraphic) survey dates,
29 Sep 2002 .. 3 Oct 2003 (370 dates, 14 calendar months), is read, evaluated, trained on
and fine-tuned on like any other, with the published scoring convention
(GLAUNTI_DATASET.md: both end dates in full, a shared date once). The expected values are
computed here by hand: each year run unpadded on its own dates, its weighted steps added
onto their dates, the dates summed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oggm_glaunti.core import TIModel, run_year, year_forcing
from oggm_glaunti.core.plan import MAX_DAYS_PER_YEAR
from oggm_glaunti.training.records import GlacierWideObs, SeasonWindow, StakeObs

D = np.datetime64
#: (year, begin, midseason, end) as surveyed; 2003 is the long one (370 dates).
WINDOWS = (
    (2001, D("2000-10-01"), D("2001-05-01"), D("2001-10-01")),
    (2002, D("2001-10-01"), D("2002-05-03"), D("2002-09-29")),
    (2003, D("2002-09-29"), D("2003-04-28"), D("2003-10-03")),
    (2004, D("2003-10-03"), D("2004-05-01"), D("2004-10-01")),
    (2005, D("2004-10-01"), D("2005-05-01"), D("2005-10-01")),
)
LONG_YEAR = 2003
STAKE = (5, 6)  # (row, col)
STAKE_DATES = (D("2002-09-29"), D("2003-10-03"))  # the stake read on the survey's dates


@pytest.fixture
def long_glacier(glacier_factory):
    glacier = glacier_factory(name="floating", n_years=5, first_year=2001, seed=4)
    glacier.windows = {y: SeasonWindow(y, b, e, m) for y, b, m, e in WINDOWS}
    rng = np.random.default_rng(0)
    glacier.glacier_wide = tuple(GlacierWideObs(y, s, float(rng.normal(-0.5, 0.5)))
                                 for y, *_ in WINDOWS for s in ("annual", "winter", "summer"))
    glacier.stakes = (StakeObs(LONG_YEAR, "annual", *STAKE_DATES, *STAKE, -1.2),)
    return glacier


def test_the_long_year_is_a_real_one(long_glacier):
    window = long_glacier.windows[LONG_YEAR]
    assert window.n_days == 370 > MAX_DAYS_PER_YEAR
    forcing = long_glacier.year_forcing(LONG_YEAR)
    assert int(np.asarray(forcing.plan.active).sum()) == 371  # winter + summer, the midseason in both
    assert forcing.month_membership.shape[1] == 14  # September 2002 .. October 2003


def by_hand(glacier, model):
    """Per-date SMB (n_dates, H, W) of the years of WINDOWS run in sequence from a fresh
    state, each on its own dates without padding; and each year's period sums."""
    first = WINDOWS[0][1]
    daily = np.zeros((int((WINDOWS[-1][3] - first).astype(int)) + 1,) + glacier.shape)
    periods, state = {}, None
    for year, begin, mid, end in WINDOWS:
        start = int((begin - glacier.dates[0]).astype(int))
        n = int((end - begin).astype(int)) + 1
        forcing = year_forcing(glacier.temperature[start:start + n], glacier.precipitation[start:start + n], begin,
                               split=int((mid - begin).astype(int)), outline=glacier.outline[0],
                               elevation=glacier.elevation[0], elevation_std=glacier.elevation_std[0])
        result = run_year(model, forcing, state=state, daily=True)
        state = result.final_state
        offset = int((begin - first).astype(int))
        np.add.at(daily, offset + np.asarray(forcing.plan.day_index), np.asarray(result.daily, np.float64))
        periods[year] = np.asarray(result.period_smb, np.float64)
    return first, daily, periods


def _mean(field, outline):
    return float((field * outline).sum() / outline.sum())


@pytest.mark.parametrize("variant", ["A", "C"])
def test_evaluated_as_the_published_code_scores_it(long_glacier, truth, variant):
    from oggm_glaunti.training.evaluate import evaluate
    from oggm_glaunti.weights import load_pretrained

    model = truth if variant == "A" else load_pretrained("C")
    pairs = evaluate(model, [long_glacier], spinup_years=1).pairs
    first, daily, _ = by_hand(long_glacier, model)
    outline = long_glacier.outline[0]

    def dates_sum(begin, end):  # both ends in full
        return daily[int((begin - first).astype(int)):int((end - first).astype(int)) + 1].sum(0)

    _, begin, mid, end = WINDOWS[[w[0] for w in WINDOWS].index(LONG_YEAR)]
    gw = pairs[(pairs.kind == "glacier_wide") & (pairs.year == LONG_YEAR)].set_index("season")
    assert gw.loc["annual", "begin"] == "2002-09-29" and gw.loc["annual", "end"] == "2003-10-03"
    for season, (b, e) in {"annual": (begin, end), "winter": (begin, mid), "summer": (mid, end)}.items():
        assert gw.loc[season, "modelled"] == pytest.approx(_mean(dates_sum(b, e), outline), abs=2e-5)
    point = pairs[pairs.kind == "point"]
    assert len(point) == 1
    assert point["modelled"].iloc[0] == pytest.approx(dates_sum(*STAKE_DATES)[STAKE], abs=2e-5)
    # the long year is more than its period sums: its end dates count in full
    annual_periods = _mean(by_hand(long_glacier, model)[2][LONG_YEAR].sum(0), outline)
    assert abs(gw.loc["annual", "modelled"] - annual_periods) > 1e-4


def test_trained_on_one_step(long_glacier, truth):
    """The loss sees the long year's period sums (ends by 1/2, the loss's convention), and a
    fine-tuning step on the years around it runs and moves the parameters."""
    from oggm_glaunti.training.finetune import finetune
    from oggm_glaunti.training.gradients import sequence_loss
    from oggm_glaunti.training.initialisation import split_model
    from oggm_glaunti.training.sequences import prepare_sequence

    glacier = long_glacier
    sequence = prepare_sequence(glacier, spinup_years=1)
    shapes = {y: sequence.forcing(i).temperature.shape[1]
              for i, (a, b) in enumerate(sequence.chunks) for y in sequence.years[a:b]}
    assert shapes[LONG_YEAR] == 376 and shapes[2002] == MAX_DAYS_PER_YEAR  # padded apart
    trainable, frozen = split_model(truth, train_ti=True)
    _, terms = sequence_loss(trainable, frozen, sequence)
    _, _, periods = by_hand(glacier, truth)
    outline = glacier.outline[0]
    observed = {(o.year, o.season): o.balance for o in glacier.glacier_wide}
    expected = 0.0
    for k, season in enumerate(("annual", "winter", "summer")):
        scored = [y for y, *_ in WINDOWS[1:]]  # one spin-up year
        model = {y: _mean(periods[y].sum(0) if k == 0 else periods[y][k - 1], outline) for y in scored}
        expected += np.mean([(model[y] - observed[(y, season)]) ** 2 for y in scored])
    assert float(terms.glacier_wide) == pytest.approx(expected, rel=1e-4)

    start = TIModel(truth.ti)
    tuned = finetune(glacier, model=start, steps=1, train_years=(2002, 2005), val_years=None, spinup_years=1)
    assert len(tuned.history) == 1 and np.isfinite(tuned.history[0])
    moved = [abs(tuned.stored[k] - v) for k, v in start.ti.as_stored_dict().items() if k in tuned.stored]
    assert max(moved) > 1e-4 and np.isfinite(tuned.train_error)


def test_read_from_the_released_layout(synthetic_root, tmp_path):
    """A total_smb.csv row on floating dates longer than 367 days is read, not refused."""
    import shutil

    from oggm_glaunti.training.dataset import read_glacier

    name = pd.read_csv(synthetic_root / "index.csv")["name"].iloc[0]
    shutil.copytree(synthetic_root, tmp_path / "data")
    path = tmp_path / "data" / name / "total_smb.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = table.index[table["year"] == "1994"][0]
    before, after = table.index[table["year"] == "1993"][0], table.index[table["year"] == "1995"][0]
    table.loc[before, "end_date"] = table.loc[row, "begin_date"] = "1993-09-28"
    table.loc[row, "end_date"] = table.loc[after, "begin_date"] = "1994-10-02"
    table.to_csv(path, index=False)
    glacier = read_glacier(tmp_path / "data", name)
    assert glacier.windows[1994].n_days == 370
