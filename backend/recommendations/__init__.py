"""Recommendations as the service makes them: reading the store, building and explaining
each user's list, training and publishing models, and the scheduled jobs.

:mod:`recommender` is the library on matrices underneath (fit, score, save and load,
evaluation, tuning); it knows nothing of Redis or of this package.
"""
