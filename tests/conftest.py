import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded the same way in every test, so failures reproduce."""
    return np.random.default_rng(20261122)
