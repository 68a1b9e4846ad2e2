"""A generated penguins-like CSV: numeric columns with NA and blank cells, categorical
columns with missing values, a text target."""
from __future__ import annotations

from pathlib import Path

import numpy as np

SPECIES = {"Adelie": (38.8, 18.3, 190, 3700), "Chinstrap": (48.8, 18.4, 196, 3730),
           "Gentoo": (47.5, 15.0, 217, 5080)}
ISLANDS = {"Adelie": ["Torgersen", "Biscoe", "Dream"], "Chinstrap": ["Dream"],
           "Gentoo": ["Biscoe"]}
MISSING = ["NA", "", "?", "N/A"]


def write_penguins_csv(path: Path, rows: int = 240, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,"
             "colour,year"]
    names = list(SPECIES)
    for row in range(rows):
        species = names[row % 3]
        bill, depth, flipper, mass = SPECIES[species]
        cells = [species, str(rng.choice(ISLANDS[species])),
                 f"{bill + rng.normal(0, 2.5):.1f}", f"{depth + rng.normal(0, 1.0):.1f}",
                 f"{flipper + rng.normal(0, 6):.0f}", f"{mass + rng.normal(0, 350):.0f}",
                 str(rng.choice(["male", "female"])),
                 # many rare categories: capped into "<other>" by max_categories
                 str(rng.choice(["red", "blue", "green", "grey", "teal", "plum", "gold"],
                                p=[0.4, 0.3, 0.1, 0.05, 0.05, 0.05, 0.05])),
                 str(2007 + row % 3)]
        for column in (2, 3, 4, 5, 6, 7):
            if rng.random() < 0.06:
                cells[column] = str(rng.choice(MISSING))
        if row % 50 == 7:
            cells[0] = "NA"  # a missing target: the row is dropped, by us and by train.py
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
