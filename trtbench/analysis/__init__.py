"""Analyses over saved runs: pure functions from RunRecords to dataclasses, no backend, no printing.

`compare` (speedups between devices), `drift` (trend and step detection), `sweep` (the study's
parameter grids), `costmodel` (fits and predictions), `findings` (the study's claims).
"""
