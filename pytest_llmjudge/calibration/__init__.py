"""Measuring a judge against human labels: the labels, the metrics, the calibration run
as a test item, and the fitted thresholds file that later runs apply."""
