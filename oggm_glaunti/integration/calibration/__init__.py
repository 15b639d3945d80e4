"""Calibrating GlaUnTI on a glacier's observations (WGMS balances and profiles, geodetic,
stakes), its uncertainty and its cross-validated skill: the data, the objective, the
entity tasks (``glaunti_calibrate``, ``glaunti_skill``, OGGM's own task on the class).
"""
