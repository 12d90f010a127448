"""Settings: the option table, the pytest-free Settings, where values come from in a
pytest run, and the one order in which a threshold is resolved."""
