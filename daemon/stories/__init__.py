"""Stories: the copies of one report that many outlets carry, grouped (pure; the store applies the decision).

* ``sketch`` — what of an article's text is compared: sampled syllable shingles of the body and of the
  title and lead, and its figures
* ``assign`` — which story an arriving article joins, given the candidates the store found for its shingles
"""
