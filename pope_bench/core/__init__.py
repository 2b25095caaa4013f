"""The bottom layer: what every other layer relies on and nothing else.

The one bad-input exception (:mod:`.errors`), the one way an input file becomes typed data
(:mod:`.schema`), the check of an output place every writing command runs
(:mod:`.output_places`), torch imported on first use (:mod:`.lazy_torch`) and the names of the
eval-time RoPE scaling rules, validated, labelled and computed by one type (:mod:`.scaling`). Layer rule: ``core`` may import nothing
from pope-bench (only the package's ``__version__``).
"""
