"""The analysis stage: what-if comparisons, the cost-of-de-risking curve, the value of information (built on solving)."""
