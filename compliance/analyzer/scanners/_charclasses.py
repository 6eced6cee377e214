"""Character classes shared by several scanners (regex fragments, not compiled patterns).

Kept in one place so that "Chinese context" means the same thing to the punctuation,
template and length scanners.
"""

from __future__ import annotations

#: A character that makes its neighbourhood "Chinese text": Han ideographs (BMP blocks
#: and the supplementary planes), CJK Symbols and Punctuation (U+3000–303F: 。、【】「」…),
#: kana, and the full-width forms (U+FF01–FF60, U+FFE0–FFE6: ，！？（）￥…). Latin letters,
#: digits, and general punctuation such as “ ” … are deliberately excluded: they occur in
#: English text too, so they cannot decide the context on their own.
CJK_CLASS: str = (
    r"\u3000-\u303F\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF"
    r"\uFF01-\uFF60\uFFE0-\uFFE6\U00020000-\U0003FFFF"
)

#: Han ideographs only (no punctuation): used where a word, not a mark, is required.
HAN_CLASS: str = r"\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\U00020000-\U0003FFFF"
