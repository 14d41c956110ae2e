"""Stories: the copies of one report that many outlets carry, grouped (pure; the store applies the decision).

* ``sketch`` — what of an article's text is compared: hashed clauses of the body, and of the title and lead
* ``assign`` — which story an arriving article joins, given the candidates the store found for its clauses
"""
