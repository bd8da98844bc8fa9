"""Virtual-time simulation: the real agent and the simulated home in one process on a discrete-event
loop (``hems simulate --fast``). See :mod:`hil.fast.run`."""
