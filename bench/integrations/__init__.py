"""pytest-benchmark, both ways: flagbench's fixtures in a user's benchmarks (``pytestbench``,
``pytest_plugin``) and their JSON files imported as run folders (``pbimport``).

Imports: any stage; only the command line imports this package.
"""
