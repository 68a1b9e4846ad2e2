"""Project files (``.nnproj``): a whole session in one zip, saved atomically, loaded safely.

>>> save_project("lab.nnproj", trainer.network, dataset, trainer, embed_data=True)
>>> project = load_project("lab.nnproj")
>>> trainer = project.make_trainer()      # continues exactly where it stopped
"""
from .archive import ProjectError
from .datasource import DataSource
from .files import FORMAT, FORMAT_VERSION, Project, load_project, save_project

__all__ = ["FORMAT", "FORMAT_VERSION", "DataSource", "Project", "ProjectError", "load_project",
           "save_project"]
