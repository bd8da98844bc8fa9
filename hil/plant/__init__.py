"""Plant physics of the simulated home (see each module's docstring for its equations)."""

from hil.plant.build import build_plant
from hil.plant.params import SUMMER, WINTER, HomeParams
from hil.plant.plant import Plant, PlantInputs, PlantStep

__all__ = ["SUMMER", "WINTER", "HomeParams", "Plant", "PlantInputs", "PlantStep", "build_plant"]
