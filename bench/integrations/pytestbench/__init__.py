"""flagbench inside pytest: a strategy benchmarked by pytest-benchmark against the flag server.

``targets`` turns what the test gives (a name, a strategy, a function, an ``async def``) into
one call per round; ``rounds`` checks each round's records and describes it as a trials row;
``bench`` drives pytest-benchmark's pedantic mode; ``result`` is what the test gets back and
what goes into the JSON. The fixtures themselves are in ``bench.integrations.pytest_plugin``. Only
``bench`` imports pytest, so reading the JSON back (``bench.integrations.pbimport``) does not need it.
"""
