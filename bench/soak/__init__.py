"""The soak: the long versions of the reliability checks, on loopback, in one table.

``python -m bench.soak`` (or ``tox -e soak``) holds a load (100,000 requests at C = 1,000 with
mixed faults through asyncio, 20,000 at C = 200 through a thread pool), survives faults (the
server killed and frozen mid-trial, a worker and a pool process killed, SIGTERM, Ctrl-C, a full
disk: each run then finished with ``--resume``), and tries bad input on the server and the CLI.
Every row counts the requests lost (which must be 0), the peak RSS, the server's descriptors
before and after, and the processes and scratch files left over. Linux only: it kills real
processes and reads /proc.
"""
