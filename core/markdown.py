"""Render user Markdown to safe HTML and read hashtags and mentions from it.

Hashtags and mentions come from the same token stream the renderer turns into
HTML, so text inside code, links and URLs never yields a tag or a mention.
Policies pinned here and tested:

- Unicode format characters (category Cf: zero-width space, joiners,
  direction marks, BOM, soft hyphen) are removed before parsing.
- A tag is ``#`` followed by letters, digits, marks and underscores, with at
  least one letter, and an optional run of up to three ``+`` or ``#`` signs
  at its end (``#C++``, ``#C#``). Its key is ``core.text.tag_key``, the
  same key library tags use: NFKC, then case-folded. Accents are not
  folded, so ``Zähler`` and ``Zahler`` are two tags.
- A mention is ``@username`` not preceded by a letter, digit, ``.``, ``/`` or
  ``@``. Mentions inside link text, code and block quotes are not collected,
  so quoting a post never notifies the people it mentioned.
- Raw HTML in the source is shown as text. The rendered HTML then passes an
  allowlist sanitizer (nh3) that keeps http, https, mailto and relative URLs.
"""

import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from core.text import tag_key, tag_suffix_length

ALLOWED_TAGS = {
    "a", "p", "br", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
# Classes are allowed per tag in ALLOWED_CLASSES, never as a free attribute.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALLOWED_CLASSES = {
    "a": {"hashtag"},
    "span": {"mention"},
    "code": {"language-python", "language-sql", "language-text"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
MAX_TAG_LENGTH = 100

_parser = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(
    ["table", "strikethrough", "linkify"]
)


@dataclass(frozen=True)
class Hashtag:
    name: str
    display_name: str


@dataclass
class Rendered:
    html: str
    hashtags: list[Hashtag] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def strip_format_characters(text: str) -> str:
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def normalize_tag(raw: str) -> str:
    """Return the key a tag is stored, linked and searched under."""
    return tag_key(raw)


def tag_url(name: str) -> str:
    return f"/tags/{quote(normalize_tag(name), safe='')}/"


def _is_tag_char(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in {"L", "N", "M"}


def _is_username_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "_.-")


def _scan_word(text: str, start: int, accept: object) -> int:
    end = start
    while end < len(text) and accept(text[end]):  # type: ignore[operator]
        end += 1
    return end


def _split_text(
    text: str, *, in_quote: bool, mentions: bool, found: Rendered
) -> list[Token]:
    """Split a text token into text, hashtag links and mention spans."""
    tokens: list[Token] = []
    plain_start = 0
    index = 0

    while index < len(text):
        char = text[index]
        previous = text[index - 1] if index else " "

        if char == "#" and not (_is_tag_char(previous) or previous in "&#/"):
            end = _scan_word(text, index + 1, _is_tag_char)
            word = text[index + 1 : end].rstrip("_")
            end = index + 1 + len(word)
            end += tag_suffix_length(text, end)
            word = text[index + 1 : end]
            if any(unicodedata.category(c)[0] == "L" for c in word):
                # NFKC can expand a letter to many (U+FDFA gives 18), so the
                # stored name is cut after normalizing, not only before.
                name = normalize_tag(word)[:MAX_TAG_LENGTH]
                tokens.append(_text_token(text[plain_start:index]))
                tokens.extend(_hashtag_tokens(word, name))
                found.hashtags.append(Hashtag(name, word[:MAX_TAG_LENGTH]))
                plain_start = index = end
                continue

        if mentions and char == "@" and not (previous.isalnum() or previous in "./@_"):
            end = _scan_word(text, index + 1, _is_username_char)
            username = text[index + 1 : end].rstrip(".-")
            end = index + 1 + len(username)
            if username:
                tokens.append(_text_token(text[plain_start:index]))
                tokens.extend(_mention_tokens(username))
                if not in_quote:
                    found.mentions.append(username)
                plain_start = index = end
                continue

        index += 1

    tokens.append(_text_token(text[plain_start:]))
    return [token for token in tokens if token.type != "text" or token.content]


def _text_token(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _hashtag_tokens(word: str, name: str) -> list[Token]:
    opening = Token("link_open", "a", 1)
    opening.attrs = {"href": f"/tags/{quote(name, safe='')}/", "class": "hashtag"}
    return [opening, _text_token(f"#{word}"), Token("link_close", "a", -1)]


def _mention_tokens(username: str) -> list[Token]:
    opening = Token("html_inline", "", 0)
    opening.content = '<span class="mention">'
    closing = Token("html_inline", "", 0)
    closing.content = "</span>"
    return [opening, _text_token(f"@{username}"), closing]


def _rewrite_inline(
    inline: Token, *, in_quote: bool, mentions: bool, found: Rendered
) -> None:
    children: list[Token] = []
    link_depth = 0
    for child in inline.children or []:
        if child.type == "link_open":
            link_depth += 1
        elif child.type == "link_close":
            link_depth -= 1
        if child.type == "text" and link_depth == 0:
            children.extend(
                _split_text(
                    child.content, in_quote=in_quote, mentions=mentions, found=found
                )
            )
        else:
            children.append(child)
    inline.children = children


def render_markdown(source: str, *, mentions: bool = True) -> Rendered:
    """Render ``source`` to sanitized HTML with its hashtags and mentions.

    With ``mentions=False``, ``@name`` stays plain text and no mention is
    returned: for text whose saving notifies nobody (library pages, FAQ
    entries, profiles), where a highlighted name would promise a notice.
    """
    text = strip_format_characters(source)
    tokens = _parser.parse(text)
    found = Rendered(html="")
    quote_depth = 0

    for token in tokens:
        if token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        elif token.type == "inline":
            _rewrite_inline(
                token, in_quote=quote_depth > 0, mentions=mentions, found=found
            )

    raw_html = _parser.renderer.render(tokens, _parser.options, {})
    found.html = sanitize_html(raw_html)
    found.hashtags = list({tag.name: tag for tag in reversed(found.hashtags)}.values())
    found.hashtags.reverse()
    found.mentions = list(dict.fromkeys(found.mentions))
    return found


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
