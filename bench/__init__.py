"""Benchmarks and the load test (issue 8): ``make bench`` and ``make load`` run them.

Every figure ``make bench`` prints is a ratio to a baseline measured in the same run on the same
machine, so the numbers mean something on a laptop, a CI runner or a Lambda alike.
"""
