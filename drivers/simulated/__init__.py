"""The ``simulated`` driver: in-process devices backed by the rig's plant (no hardware, no network)."""
