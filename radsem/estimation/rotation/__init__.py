"""Factor rotation for exploratory factor analysis and ESEM (lavaan's ``rotation=``).

* :mod:`~radsem.estimation.rotation.criteria` -- rotation criteria (geomin, oblimin,
  quartimin, orthomax/varimax/quartimax, Crawford-Ferguson, target, partially specified target);
* :mod:`~radsem.estimation.rotation.gpa` -- the gradient projection algorithm (Jennrich 2001,
  2002; Bernaards & Jennrich 2005), random starts, promax, reflection and ordering;
* :mod:`~radsem.estimation.rotation.model` -- rotating the efa blocks of a fitted model;
* :mod:`~radsem.estimation.rotation.se` -- standard errors of the rotated parameters.
"""
