"""Simulated KPM37 meters behind simulated gateways, on real sockets.

Run ``python -m kpm37.simulator --help`` for the command line; tests use
:func:`kpm37.simulator.gateway.start_gateway` or :class:`kpm37.simulator.fleet.SimulatedFleet`
to start gateways on free ports inside their own event loop.
"""
