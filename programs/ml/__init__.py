"""Per-athlete models (SCIENCE.md §6): plateau, anomaly, prediction, bias audit.

Pure computation like `programs/engine/`: no Django, plain values in, frozen dataclasses
out. scikit-learn and SciPy cost about a second to import, so every module imports them
inside the function that needs them; importing this package stays cheap for web
processes that never fit a model.

Every model is fitted on one athlete's own data. Nothing here pools across athletes; a
caller that wants a tenant prior passes that tenant's numbers in, never another tenant's.
"""
