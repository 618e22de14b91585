"""Regenerate english-words.txt: the 30,000 most frequent English words of PyPI `wordfreq`
(3.1.1; its data is compiled from Wikipedia, subtitles, news, books, web text and more), those
of five letters or more in plain ASCII letters: the words typo tolerance never "corrects"
(a real word such as "store" or "summit" is not a slip of "storm" or "submit").

    pip install wordfreq==3.1.1 && python3 router-config/english_words.py
"""

import pathlib

import wordfreq

words = sorted(
    {w for w in wordfreq.top_n_list("en", 30000) if len(w) >= 5 and w.isascii() and w.isalpha()}
)
out = pathlib.Path(__file__).with_name("english-words.txt")
out.write_text("\n".join(words) + "\n")
print(f"{len(words)} words -> {out}")
