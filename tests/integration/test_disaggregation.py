"""Pure-NumPy disaggregation of monthly climate (no OGGM)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.random import PCG64, Generator

from oggm_glaunti.integration.climate import disaggregation as dis


def _rng(seed=0):
    return Generator(PCG64(seed))


def _months(n, y0=1999):
    k = np.arange(n)
    return y0 + k // 12, k % 12 + 1


def test_calendar_helpers():
    years, months = np.array([2000, 2000, 2001, 1900]), np.array([2, 3, 2, 2])
    np.testing.assert_array_equal(dis.days_in_months(years, months),
                                  [29, 31, 28, 28])
    days = dis.daily_dates(*_months(14, 1999))
    assert days[0] == np.datetime64('1999-01-01')
    assert days[-1] == np.datetime64('2000-02-29')
    assert np.all(np.diff(days).astype(int) == 1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2 ** 32 - 1),
       scale=st.just(0.) | st.floats(1e-6, 500.0),
       std=st.floats(0.0, 8.0))
def test_means_and_totals_preserved(n, seed, scale, std):
    gen = np.random.default_rng(seed)
    temp = gen.normal(0, 10, n)
    prcp = gen.gamma(1.0, 1.0, n) * scale
    prcp[gen.random(n) < 0.2] = 0.
    ndays = dis.days_in_months(*_months(n))
    t, p = dis.disaggregate_monthly(temp, prcp, ndays, std, _rng(seed))
    month = np.repeat(np.arange(n), ndays)
    np.testing.assert_allclose(np.bincount(month, t) / ndays, temp,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.bincount(month, p), prcp, rtol=1e-13,
                               atol=1e-12)
    assert np.all(p >= 0)
    # within-month spread is temp_std exactly
    sd = np.sqrt(np.bincount(month, (t - temp[month]) ** 2) / ndays)
    np.testing.assert_allclose(sd, std, atol=1e-10)
    # dry months stay dry, wet months have at least one wet day
    wet_days = np.bincount(month, p > 0, n)
    assert np.all(wet_days[prcp == 0] == 0)
    assert np.all(wet_days[prcp > 0] >= 1)


def test_determinism_and_seed():
    temp, prcp = np.full(24, 2.), np.full(24, 80.)
    nd = dis.days_in_months(*_months(24))
    a = dis.disaggregate_monthly(temp, prcp, nd, 3., _rng(1))
    b = dis.disaggregate_monthly(temp, prcp, nd, 3., _rng(1))
    c = dis.disaggregate_monthly(temp, prcp, nd, 3., _rng(2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0]) and not np.allclose(a[1], c[1])


def test_statistics_of_long_series():
    n = 12 * 200
    nd = dis.days_in_months(*_months(n))
    t, p = dis.disaggregate_monthly(np.zeros(n), np.full(n, 100.), nd, 3.,
                                    _rng(5), ar1=0.7, p_wet_after_dry=0.25,
                                    p_wet_after_wet=0.65)
    lag1 = np.corrcoef(t[:-1], t[1:])[0, 1]
    assert 0.55 < lag1 < 0.75  # AR(1) 0.7, slightly reduced per month
    wet = p > 0
    assert abs(wet.mean() - 0.25 / (1 - 0.65 + 0.25)) < 0.02
    assert abs(wet[1:][wet[:-1]].mean() - 0.65) < 0.03


def test_one_wet_day_fallback():
    nd = dis.days_in_months(*_months(12))
    prcp = np.where(np.arange(12) % 2 == 0, 50., 0.)
    _, p = dis.disaggregate_monthly(np.zeros(12), prcp, nd, 0., _rng(0),
                                    p_wet_after_dry=1e-12,
                                    p_wet_after_wet=0.)
    month = np.repeat(np.arange(12), nd)
    np.testing.assert_array_equal(np.bincount(month, p > 0), prcp > 0)
    np.testing.assert_allclose(np.bincount(month, p), prcp)


@pytest.mark.parametrize('kwargs, match', [
    (dict(ar1=1.0), 'ar1'),
    (dict(p_wet_after_dry=1.5), 'p_wet_after_dry'),
    (dict(p_wet_after_dry=0., p_wet_after_wet=0.), 'no day would be wet'),
    (dict(gamma_shape=0.), 'gamma_shape'),
    (dict(p_wet_after_dry=0.3, p_wet_after_wet=1.), 'every day after the first wet one'),
])
def test_bad_parameters(kwargs, match):
    nd = dis.days_in_months(*_months(2))
    with pytest.raises(ValueError, match=match):
        dis.disaggregate_monthly(np.zeros(2), np.ones(2), nd, 1., _rng(),
                                 **kwargs)


def test_bad_inputs():
    nd = dis.days_in_months(*_months(2))
    with pytest.raises(ValueError, match='NaN'):
        dis.disaggregate_monthly(np.array([0., np.nan]), np.ones(2), nd, 1.,
                                 _rng())
    with pytest.raises(ValueError, match='>= 0'):
        dis.disaggregate_monthly(np.zeros(2), -np.ones(2), nd, 1., _rng())
    with pytest.raises(ValueError, match='equal'):
        dis.disaggregate_monthly(np.zeros(3), np.ones(2), nd, 1., _rng())
