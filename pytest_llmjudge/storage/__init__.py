"""What is kept between runs: the judge cache and its record modes, the judgments file,
the budget, and the reviewable files beside tests (baselines, generated checklists)."""
