"""Shared data for the PyMC model tests."""

import numpy as np
import pytest

#: Eight schools (Rubin 1981; Gelman et al., Bayesian Data Analysis, 3rd ed., Table 5.2).
EIGHT_SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
EIGHT_SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
EIGHT_SCHOOLS_LABELS = list("ABCDEFGH")

#: A k = 3 log-HR example: HRs 0.72 (0.58-0.89), 0.85 (0.66-1.10), 0.64 (0.45-0.91).
LOGHR3_HR = np.array([0.72, 0.85, 0.64])
LOGHR3_LOWER = np.array([0.58, 0.66, 0.45])
LOGHR3_UPPER = np.array([0.89, 1.10, 0.91])


def loghr3():
    """(y, sigma) of the k = 3 example: SE from the 95% CI on the log scale."""
    y = np.log(LOGHR3_HR)
    sigma = (np.log(LOGHR3_UPPER) - np.log(LOGHR3_LOWER)) / (2 * 1.959963984540054)
    return y, sigma


@pytest.fixture(scope="session")
def loghr3_data():
    return loghr3()
