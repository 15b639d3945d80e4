"""What GlaUnTI writes for users: gridded SMB files, their plots, and a glacier directory
exported as a training dataset.
"""
