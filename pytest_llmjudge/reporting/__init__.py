"""What a run tells afterwards: the run record collected from test reports, the terminal
summary, the JSON and HTML reports and the failure text. Knows nothing about backends."""
