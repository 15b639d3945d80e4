"""Running GlaUnTI on a glacier: the one glacier run (state rule, year function, cache),
flowline points, and the OGGM MassBalanceModel.
"""
