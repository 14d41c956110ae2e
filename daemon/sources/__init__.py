"""Where articles come from: the seed folder and RSS/Atom feeds. Sources produce ``Document``s."""
