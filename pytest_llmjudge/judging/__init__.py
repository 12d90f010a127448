"""The judge: requests, prompts, reply formats, scoring strategies and verdicts. Knows
nothing about pytest; reaches backends only through the record-mode gate (storage)."""
