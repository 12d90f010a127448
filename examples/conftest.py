from __future__ import annotations

import pytest
from support_bot import SupportBot


@pytest.fixture
def bot() -> SupportBot:
    # Seeded: the greeting still varies from call to call, but each test run draws the
    # same sequence, so a rerun replays its judgments from the cache.
    return SupportBot(seed=2026)
