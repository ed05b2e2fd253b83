"""The Compere KPM37 device layer: profiles, codec, transports, bus scheduler, simulator.

Django-free by design: everything here is importable and testable without Django, and the
web apps depend on it, never the other way round.
"""
