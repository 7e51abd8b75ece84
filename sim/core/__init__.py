"""The model core: territory, demand, choice, rota, the desk and agents in SimPy, and the KPIs.

Plain frozen dataclasses and numpy arrays in, arrays and DataFrames out. The core imports nothing from
the layers above it (`sim.config`, `sim.build`, `sim.study`, the faces) and neither Hydra nor matplotlib,
so a notebook or another program can drive it directly. docs/architecture.md draws the layers.
"""
