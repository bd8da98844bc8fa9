"""The ``simulated`` driver: in-process devices backed by the rig's plant (no hardware, no network).

It comes with the rig (``pip install 'hems[hil]'``); :mod:`drivers.registry` names it by path only.
"""
