from __future__ import annotations

import pytest
from support_bot import SupportBot


@pytest.fixture
def bot() -> SupportBot:
    return SupportBot()
