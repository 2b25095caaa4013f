"""``blimp_gen``: BLiMP-style minimal pairs generated from templates and a small lexicon — a
*generated stand-in* for BLiMP (Warstadt et al. 2020), which no package carries.

Each paradigm is a template family in which the good and the bad sentence differ in one
word, so the only thing that separates them is one grammatical contrast, as in BLiMP. The
lexicon favours words the King James Bible uses (the bundled models' training text), so a
small model is tested on agreement, not on vocabulary it never saw. The pairs are fixed
(a seeded shuffle of every template filling), independent of the run's seed.
"""

from __future__ import annotations

import random
from itertools import product

from pope_bench.data.eval_items import EvalSet, Item, interleave_groups

# (singular, plural, gender: m / f, or None where English does not fix it)
PEOPLE = [
    ("man", "men", "m"), ("woman", "women", "f"), ("king", "kings", "m"), ("queen", "queens", "f"),
    ("son", "sons", "m"), ("daughter", "daughters", "f"), ("brother", "brothers", "m"),
    ("sister", "sisters", "f"), ("father", "fathers", "m"), ("mother", "mothers", "f"),
    ("prophet", "prophets", "m"), ("widow", "widows", "f"), ("servant", "servants", None),
    ("child", "children", None), ("shepherd", "shepherds", None), ("stranger", "strangers", None),
]
THINGS = [
    ("house", "houses"), ("city", "cities"), ("stone", "stones"), ("field", "fields"), ("tree", "trees"),
    ("book", "books"), ("sword", "swords"), ("gate", "gates"), ("river", "rivers"), ("mountain", "mountains"),
]
# present tense (3rd person singular, plural)
VERBS = [("sleeps", "sleep"), ("speaks", "speak"), ("weeps", "weep"), ("walks", "walk"), ("waits", "wait"),
         ("sings", "sing"), ("rests", "rest"), ("prays", "pray")]
# past tense verbs taking a reflexive object (one form for both numbers)
REFLEXIVE_VERBS = ["saw", "praised", "blamed", "hurt", "washed", "hid", "humbled", "defended"]
# (past participle, simple past)
PARTICIPLES = [("spoken", "spoke"), ("eaten", "ate"), ("written", "wrote"), ("taken", "took"), ("given", "gave"),
               ("seen", "saw"), ("gone", "went"), ("known", "knew"), ("risen", "rose"), ("fallen", "fell"),
               ("chosen", "chose"), ("broken", "broke"), ("forgotten", "forgot"), ("driven", "drove")]
REFLEXIVE = {"m": "himself", "f": "herself"}


def subject_verb_agreement():
    """The man sleeps. / *The man sleep."""
    for (sg, pl, _), (v_sg, v_pl) in product(PEOPLE, VERBS):
        yield f"The {sg} {v_sg}.", f"The {sg} {v_pl}."
        yield f"The {pl} {v_pl}.", f"The {pl} {v_sg}."


def agreement_across_phrase():
    """The son of the kings sleeps. / *The son of the kings sleep. (an attractor noun of the
    other number stands between subject and verb)"""
    for (sg, pl, _), (sg2, pl2, _), (v_sg, v_pl) in product(PEOPLE, PEOPLE, VERBS):
        if sg != sg2:
            yield f"The {sg} of the {pl2} {v_sg}.", f"The {sg} of the {pl2} {v_pl}."
            yield f"The {pl} of the {sg2} {v_pl}.", f"The {pl} of the {sg2} {v_sg}."


def determiner_noun_agreement():
    """The man saw this house. / *The man saw these house."""
    for (person, _, _), (sg, pl), (near_sg, near_pl) in product(PEOPLE, THINGS, [("this", "these"), ("that", "those")]):
        yield f"The {person} saw {near_sg} {sg}.", f"The {person} saw {near_pl} {sg}."
        yield f"The {person} saw {near_pl} {pl}.", f"The {person} saw {near_sg} {pl}."


def anaphor_gender_agreement():
    """The king praised himself. / *The king praised herself."""
    for (sg, _, gender), verb in product(PEOPLE, REFLEXIVE_VERBS):
        if gender:
            other = REFLEXIVE["f" if gender == "m" else "m"]
            yield f"The {sg} {verb} {REFLEXIVE[gender]}.", f"The {sg} {verb} {other}."


def anaphor_number_agreement():
    """The kings praised themselves. / *The kings praised himself."""
    for (sg, pl, gender), verb in product(PEOPLE, REFLEXIVE_VERBS):
        if gender:
            yield f"The {sg} {verb} {REFLEXIVE[gender]}.", f"The {sg} {verb} themselves."
            yield f"The {pl} {verb} themselves.", f"The {pl} {verb} {REFLEXIVE[gender]}."


def irregular_past_participle():
    """The man has spoken. / *The man has spoke."""
    for (sg, pl, _), (participle, past) in product(PEOPLE, PARTICIPLES):
        yield f"The {sg} has {participle}.", f"The {sg} has {past}."
        yield f"The {pl} have {participle}.", f"The {pl} have {past}."


PARADIGMS = {f.__name__: f for f in (subject_verb_agreement, agreement_across_phrase, determiner_noun_agreement,
                                     anaphor_gender_agreement, anaphor_number_agreement, irregular_past_participle)}


def generated_minimal_pairs(per_paradigm: int) -> EvalSet:
    """``per_paradigm`` pairs of every paradigm (fewer where a paradigm has fewer), as items
    with an empty context and choices (good, bad) — BLiMP's layout in lm-eval."""
    items = []
    for name, paradigm in PARADIGMS.items():
        pairs = list(paradigm())
        random.Random(f"blimp_gen:{name}").shuffle(pairs)
        items += [Item("", (good, bad), 0, "", name) for good, bad in pairs[:per_paradigm]]
    return EvalSet("blimp_gen", interleave_groups(items),
                   f"generated stand-in for BLiMP: {len(PARADIGMS)} template paradigms over a built-in lexicon")
