"""Calibrating GlaUnTI on a glacier's observations (WGMS, geodetic, stakes): the data, the
objective and the entity task.
"""
